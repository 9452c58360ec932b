import type { NodeSummary } from '../cluster/nodes.js';

/** A plain aligned table, like `docker node ls`. */
export function renderTable(headers: string[], rows: string[][], opts: { header?: boolean } = {}): string {
  const all = opts.header === false ? rows : [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd())
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
