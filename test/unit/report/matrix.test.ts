/** The pair matrix of the port probes, on probe runs recorded on the lab (test/fixtures/lab/probes). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import { probeResults, type ObservedProbes } from '../../../src/probe/verdict.js';
import { buildPairMatrix, pairMatrix } from '../../../src/report/matrix.js';
import { buildReport } from '../../../src/report/model.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const snapshot = labSnapshot('healthy');
function reportOn(name: string) {
  const raw = JSON.parse(readFileSync(new URL(`../../fixtures/lab/probes/${name}.json`, import.meta.url), 'utf8')) as ObservedProbes & {
    captures: Record<string, { ok: true; text: string }>;
  };
  const probes = probeResults(snapshot, { ...raw, captures: new Map(Object.entries(raw.captures)) });
  return buildReport(snapshot, runChecks({ snapshot, probes }, { only: ['underlay'] }), '0.0.0-test', new Date('2026-11-29T21:00:00Z'), 3000);
}

describe('the pair matrix', () => {
  it('ESP dropped by OUTPUT on nd2 (recorded): E in nd2’s row toward nd1 and nd3, and E in the legend', () => {
    const r = reportOn('esp-output-dropped-nd2');
    const m = buildPairMatrix(r)!;
    const row = m.rows[m.nodes.indexOf('nd2')]!;
    expect(row.map((c) => c.failed.join(''))).toEqual(['E', '', 'E']);
    expect(m.rows[m.nodes.indexOf('nd1')]!.every((c) => c.failed.length === 0)).toBe(true);
    const text = pairMatrix(r);
    expect(text.at(-1)).toBe(
      'legend: . all ports ok · M tcp/2377 (managers) · G tcp/7946 (gossip) · g udp/7946 (gossip) · V udp/<data-path port> (VXLAN) · E ESP (IP protocol 50, encrypted overlays) failed · ? unconfirmed · blank not probed',
    );
  });

  it('every pair passed: the line names the probed ports only (ESP where it was probed)', () => {
    expect(pairMatrix(reportOn('esp-healthy'))).toEqual([
      'Port probes: every probed pair of the 3 nodes passed (tcp/2377 (managers), tcp/7946 (gossip), udp/7946 (gossip), udp/<data-path port> (VXLAN), ESP (IP protocol 50, encrypted overlays)).',
    ]);
    expect(pairMatrix(reportOn('healthy'))).toEqual([
      'Port probes: every probed pair of the 3 nodes passed (tcp/2377 (managers), tcp/7946 (gossip), udp/7946 (gossip), udp/<data-path port> (VXLAN)).',
    ]);
  });
});
