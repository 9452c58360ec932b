import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY } from '../../../src/checks/registry.js';
import { coverage, coverageMarkdown, FAILURE_ROWS } from '../../../src/report/failures.js';

describe('FAILURES.md, row by row', () => {
  it('every row is recognised by a check, or says why no node can show it (and only then)', () => {
    const by = coverage();
    for (const r of FAILURE_ROWS) {
      const ids = by.get(r.row)!;
      if (ids.length === 0) expect((r.notDetectable ?? r.gap)?.trim(), `row ${r.row}: no check names it and no reason is given`).toBeTruthy();
      else expect(r.notDetectable ?? r.gap, `row ${r.row} is recognised by ${ids.join(', ')}: drop its reason`).toBeUndefined();
    }
  });

  it('has no gaps: every row a node can show is recognised by a check (row 13, the last one, by service.conntrack.stale-udp)', () => {
    expect(FAILURE_ROWS.filter((r) => r.gap !== undefined).map((r) => r.row)).toEqual([]);
    expect(coverage().get(13)).toEqual(['service.conntrack.stale-udp']);
  });

  it('checks name only rows that exist', () => {
    const rows = new Set(FAILURE_ROWS.map((r) => r.row));
    for (const c of REGISTRY) for (const r of c.meta.failures) expect(rows.has(r), `${c.meta.id} names row ${r}`).toBe(true);
  });

  it('the README table is exactly what the code generates', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const m = /<!-- failures:start -->\n([\s\S]*?)\n<!-- failures:end -->/.exec(readme);
    expect(m, 'failures markers in README.md').not.toBeNull();
    expect(m![1]!.trim()).toBe(coverageMarkdown().trim());
  });
});
