/**
 * Findings must not change when the check layer is reshaped: the projection
 * (id, status, node, peer, network) of every finding on the example bundle
 * and on the recorded lab is kept in test/fixtures/golden. Regenerate only
 * for a deliberate change of findings: UPDATE_GOLDEN=1 npx vitest run golden.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { analyse } from '../../../src/run/check.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const exampleBundle = new URL('../../../examples/netdoctor-lab-fdb-wrong-dst.tar.gz', import.meta.url).pathname;
const golden = (name: string) => new URL(`../../fixtures/golden/${name}.json`, import.meta.url).pathname;

function projection(snapshot: ClusterSnapshot): string[] {
  return analyse(snapshot, {})
    .map((f) => [f.id, f.status, f.node ?? '-', f.peer ?? '-', f.network ?? '-'].join(' '))
    .sort();
}

function compare(name: string, rows: string[]): void {
  const file = golden(name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, `${JSON.stringify(rows, null, 1)}\n`);
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as string[];
  // Checks added after the recording add their own rows; every recorded check must give exactly what it gave.
  const ids = new Set(recorded.map((r) => r.split(' ')[0]));
  expect(rows.filter((r) => ids.has(r.split(' ')[0]))).toEqual(recorded);
}

describe('findings stay as recorded', () => {
  it('on the example bundle (lab, FDB entry pointed at the wrong node, with probes)', async () => {
    const { snapshot } = await readBundle(exampleBundle);
    compare('example-bundle', projection(snapshot));
  });

  it('on the recorded healthy lab (no probes)', () => {
    compare('lab-healthy', projection(labSnapshot()));
  });

  it('on the recorded Docker 26 lab (healthy-26, no probes)', () => {
    compare('lab-healthy-26', projection(labSnapshot('healthy-26')));
  });

  it('on the recorded mixed-version lab (mixed: nd1 on 26, nd2 and nd3 on 20.10, no probes)', () => {
    compare('lab-mixed', projection(labSnapshot('mixed')));
  });

  it('on a fresh lab recording (scripts/record-lab-fixtures.mjs)', () => {
    compare('lab-recorded', projection(labSnapshot('recorded')));
  });

  it('on the recorded lab with the example bundle probes and one node not collected', async () => {
    const { snapshot: withProbes } = await readBundle(exampleBundle);
    const s = labSnapshot();
    s.probes = withProbes.probes;
    const nd3 = s.nodes.find((n) => n.name === 'nd3')!;
    Object.assign(nd3, {
      host: null,
      sandboxes: [],
      raw: {},
      status: 'unreachable',
      sandboxAccess: 'none',
      errors: [{ stage: 'connect', kind: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.213.0.13:22' }],
    });
    compare('lab-nd3-down', projection(s));
  });
});
