/**
 * The check catalogue, generated from the registry: `docker netdoctor checks`
 * prints it, and the README's catalogue section is this text (a unit test
 * keeps them equal).
 */
import { REGISTRY } from '../checks/registry.js';
import { LAYERS, type AnyCheck as Check } from '../checks/types.js';
import { renderTable } from './nodes-table.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function catalogueMarkdown(checks: readonly Check[] = REGISTRY): string {
  const out: string[] = [];
  for (const layer of LAYERS) {
    const cs = checks.filter((c) => c.meta.layer === layer);
    if (cs.length === 0) continue;
    out.push(`### ${layer}`, '', '| id | checks | FAILURES.md | remediation |', '|---|---|---|---|');
    for (const c of cs) {
      const rows = c.meta.failures.map((n) => `#${n}`).join(', ') || '–';
      out.push(`| \`${c.meta.id}\` | ${cell(c.meta.title)} | ${rows} | ${cell(c.meta.remediation)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export function catalogueText(checks: readonly Check[] = REGISTRY): string {
  return renderTable(
    ['ID', 'LAYER', 'TITLE'],
    checks.map((c) => [c.meta.id, c.meta.layer, c.meta.title]),
  );
}
