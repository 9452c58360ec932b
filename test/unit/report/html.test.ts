/**
 * The HTML report in a real headless Chromium (Debian's `chromium`, installed
 * by scripts/install-deps.sh): the page of the example bundle (a real lab
 * run with an injected FDB fault) and of the 30-node report renders, its
 * problem count matches the JSON, and the pair matrix has N×N cells.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/bundle/read.js';
import { runChecks } from '../../../src/checks/runner.js';
import { renderHtml } from '../../../src/report/html.js';
import { buildReport } from '../../../src/report/model.js';
import { labAtScale, probesFor } from '../../support/lab-scale.js';

const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);

/** The DOM after Chromium loaded the page from a file (no network: the page's CSP forbids it). */
function dom(html: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nd-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  const r = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status).toBe(0);
  return r.stdout;
}
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe.skipIf(!chromium)('html report in headless Chromium', () => {
  it('the example bundle: renders, problem count as in the JSON, a 3×3 matrix, copy buttons, nothing external', async () => {
    const b = await readBundle(new URL('../../../examples/netdoctor-lab-fdb-wrong-dst.tar.gz', import.meta.url).pathname);
    const r = buildReport(b.snapshot, runChecks({ snapshot: b.snapshot, probes: b.snapshot.probes ?? null }), '0.0.0-test', new Date(), 1000);
    const html = renderHtml(r);
    expect(html).not.toMatch(/(src|href)="?(https?:)?\/\//);
    const d = dom(html);
    expect(d).toContain('<h1>docker netdoctor report</h1>');
    expect(count(d, /<section class="problem /g) + count(d, /<li class="consequence"/g)).toBe(r.problems.length);
    expect(d).toContain(`<b id="problem-count">${r.problems.filter((p) => p.causedBy === null).length}</b>`);
    expect(count(d, /<td class="cell /g)).toBe(3 * 3);
    expect(count(d, /<button class="copy"/g)).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('30 nodes: a 30×30 matrix with the failing row marked', () => {
    const s = labAtScale(30);
    const r = buildReport(
      s,
      runChecks({ snapshot: s, probes: probesFor(s, (p) => p.from === 'nd5' && p.port === 4789) }),
      '0.0.0-test',
      new Date(),
      1000,
    );
    const d = dom(renderHtml(r));
    expect(count(d, /<td class="cell /g)).toBe(30 * 30);
    expect(count(d, /<td class="cell fail"/g)).toBe(29);
    expect(count(d, /<section class="problem /g) + count(d, /<li class="consequence"/g)).toBe(r.problems.length);
  }, 90_000);
});
