import type { NodeSummary } from '../cluster/nodes.js';
import { sanitizeLine } from '../text/sanitize.js';

/** A plain aligned table, like `docker node ls`; cells are one line each, control characters escaped. */
export function renderTable(headers: string[], rows: string[][], opts: { header?: boolean } = {}): string {
  const safe = rows.map((r) => r.map(sanitizeLine));
  const all = opts.header === false ? safe : [headers, ...safe];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderNodesTable(nodes: NodeSummary[], opts: { header?: boolean } = {}): string {
  const dash = (v: string | null) => v ?? '-';
  return renderTable(
    ['NAME', 'ID', 'ROLE', 'MANAGER STATUS', 'AVAILABILITY', 'STATE', 'ADVERTISE ADDR', 'ENGINE', 'SSH ADDR'],
    nodes.map((n) => [
      n.name,
      n.id.slice(0, 12),
      n.role,
      n.managerStatus === null ? '-' : n.managerStatus,
      n.availability,
      n.state,
      dash(n.advertiseAddress),
      dash(n.engineVersion),
      dash(n.sshAddress),
    ]),
    opts,
  );
}
