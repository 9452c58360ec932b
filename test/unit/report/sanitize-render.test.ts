/**
 * The renderers people read escape control characters; JSON stays exact.
 * Fed the report of the recorded lab snapshot with one node renamed to a
 * hostile name (escape sequences, a newline faking a passing line).
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/report/model.js';
import { renderNodesTable } from '../../../src/report/nodes-table.js';
import { renderJson, renderMarkdown, renderText } from '../../../src/report/render.js';
import { renderBundleSummary, type BundleSummary } from '../../../src/bundle/summary.js';
import { oneLine } from '../../../src/plugin/main.js';
import { analyse } from '../../../src/run/check.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const EVIL = 'nd3\u001b[2J\u001b]8;;http://evil/\u0007\n    ✔ all checks passed\r\u009b0m';

function hostileReport() {
  const snap = JSON.parse(JSON.stringify(labSnapshot('healthy')).replaceAll('"nd3"', JSON.stringify(EVIL))) as ClusterSnapshot;
  const n = snap.nodes.find((x) => x.name === EVIL)!;
  n.status = 'partial';
  n.errors.push({ stage: 'exec', kind: 'exit', message: 'script exited 1: \u001b[31mboom' });
  return buildReport(snap, analyse(snap, {}), '0.0.0-test', new Date('2026-11-25T15:12:00Z'), 1000);
}

describe('renderers and the terminal sanitiser', () => {
  const r = hostileReport();

  it('text: no raw control character, the hostile name on one line, escaped', () => {
    const out = renderText(r, { color: false, verbose: true });
    const painted = renderText(r, { color: true, verbose: true });
    expect(out).not.toMatch(RAW);
    // Our own colours are the only escapes in a coloured report.
    expect(painted.replace(/\u001b\[(\d+)m/g, '')).not.toMatch(RAW);
    expect(out).toContain('nd3\\x1b[2J\\x1b]8;;http://evil/\\x07\\x0a    ✔ all checks passed\\x0d\\x9b0m');
    expect(out).toContain('\\x1b[31mboom');
    expect(out.split('\n').filter((l) => l.trim() === '✔ all checks passed')).toEqual([]);
  });

  it('markdown: escaped too', () => {
    const md = renderMarkdown(r);
    expect(md).not.toMatch(RAW);
    expect(md).toContain('nd3\\x1b[2J');
  });

  it('JSON stays exact', () => {
    const parsed = JSON.parse(renderJson(r));
    expect(parsed.cluster.nodes.map((n: { name: string }) => n.name)).toContain(EVIL);
  });

  it('nodes table, bundle summary and one-line errors', () => {
    const table = renderNodesTable(labSnapshot('healthy').cluster.nodes.map((n) => ({ ...n, name: EVIL })));
    expect(table).not.toMatch(RAW);
    expect(table.split('\n')).toHaveLength(4);
    const summary = {
      file: 'b\u001b[2J.tar.gz',
      bundleVersion: 1,
      snapshotSchemaVersion: 1,
      tool: { name: 'x', version: '1\u001b]0;t\u0007' },
      createdAt: '',
      durationMs: 0,
      command: '\u001b[2J',
      clusterId: null,
      managerNode: EVIL,
      nodes: [{ name: EVIL, status: 'ok', errors: [], sandboxes: 0, sections: 0 }],
      probes: false,
      findings: null,
      redactIps: false,
      redaction: ['\u009b'],
      files: 1,
      uncompressedBytes: 1,
      compressedBytes: 1,
    } as unknown as BundleSummary;
    const text = renderBundleSummary(summary);
    expect(text).not.toMatch(RAW);
    expect(text.split('\n')).toHaveLength(12);
    const line = oneLine(new Error(`cannot read ${EVIL}`));
    expect(line).not.toMatch(RAW);
    expect(line).toBe('docker netdoctor: cannot read nd3\\x1b[2J\\x1b]8;;http://evil/\\x07');
  });
});
