/**
 * The probe results as a picture: a node × node matrix, one cell per ordered
 * pair (row = sender, column = receiver), one mark per port that failed
 * between them. Built from the port-probe findings, so a report read back
 * from JSON or a bundle draws the same matrix. When the cluster is large,
 * only the rows and columns that hold a failure are drawn.
 */
import type { Finding } from '../checks/types.js';
import { sanitizeLine } from '../text/sanitize.js';
import type { Report } from './model.js';

/** The port-probe checks, the mark each prints in a cell, and the port it stands for. */
export const PORT_MARKS: readonly { check: string; mark: string; port: string }[] = [
  { check: 'underlay.manager.tcp-2377', mark: 'M', port: 'tcp/2377 (managers)' },
  { check: 'underlay.gossip.tcp-7946', mark: 'G', port: 'tcp/7946 (gossip)' },
  { check: 'underlay.gossip.udp-7946', mark: 'g', port: 'udp/7946 (gossip)' },
  { check: 'underlay.datapath.udp', mark: 'V', port: 'udp/<data-path port> (VXLAN)' },
  { check: 'underlay.esp.reachable', mark: 'E', port: 'ESP (IP protocol 50, encrypted overlays)' },
];

export type CellState = 'ok' | 'fail' | 'warn' | 'none';

export interface PairCell {
  from: string;
  to: string;
  /** Marks of the ports that failed (fail/error), in PORT_MARKS order. */
  failed: string[];
  /** Marks of the ports that could not be confirmed (warn). */
  unconfirmed: string[];
  state: CellState;
}

export interface PairMatrix {
  nodes: string[];
  /** The PORT_MARKS entries with at least one probed pair (ESP only where an overlay is encrypted). */
  marks: (typeof PORT_MARKS)[number][];
  /** rows[i][j]: from nodes[i] to nodes[j] (the diagonal is state `none`). */
  rows: PairCell[][];
}

/** The matrix over every node of the report, or null when no port probe was recorded. */
export function buildPairMatrix(r: Pick<Report, 'findings' | 'cluster'>): PairMatrix | null {
  const markOf = new Map(PORT_MARKS.map((m) => [m.check, m.mark]));
  const probed = r.findings.filter((f): f is Finding & { node: string; peer: string } => markOf.has(f.id) && f.node !== null && f.peer !== null);
  if (probed.length === 0) return null;
  const names = r.cluster.nodes.map((n) => n.name);
  for (const f of probed) for (const n of [f.node, f.peer]) if (!names.includes(n)) names.push(n);
  const index = new Map(names.map((n, i) => [n, i]));
  const rows: PairCell[][] = names.map((from) => names.map((to) => ({ from, to, failed: [], unconfirmed: [], state: 'none' })));
  for (const f of probed) {
    const cell = rows[index.get(f.node)!]![index.get(f.peer)!]!;
    const mark = markOf.get(f.id)!;
    if (f.status === 'fail' || f.status === 'error') {
      if (!cell.failed.includes(mark)) cell.failed.push(mark);
    } else if (f.status === 'warn') {
      if (!cell.unconfirmed.includes(mark)) cell.unconfirmed.push(mark);
    }
    cell.state = cell.failed.length > 0 ? 'fail' : cell.unconfirmed.length > 0 ? 'warn' : 'ok';
  }
  const order = PORT_MARKS.map((m) => m.mark);
  for (const row of rows)
    for (const c of row) {
      c.failed.sort((a, b) => order.indexOf(a) - order.indexOf(b));
      c.unconfirmed.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    }
  const seen = new Set(probed.map((f) => f.id));
  return { nodes: names, rows, marks: PORT_MARKS.filter((m) => seen.has(m.check)) };
}

/** Above this many nodes the text matrix keeps only rows and columns with a failure or an unconfirmed port. */
export const MATRIX_FULL_MAX = 12;

/** The text matrix, with its legend; empty when no port probe was recorded. */
export function pairMatrix(r: Pick<Report, 'findings' | 'cluster'>): string[] {
  const m = buildPairMatrix(r);
  if (!m) return [];
  const bad = (c: PairCell) => c.state === 'fail' || c.state === 'warn';
  let rowIdx = m.nodes.map((_, i) => i);
  let colIdx = m.nodes.map((_, j) => j);
  const shortened = m.nodes.length > MATRIX_FULL_MAX;
  if (shortened) {
    rowIdx = rowIdx.filter((i) => m.rows[i]!.some(bad));
    colIdx = colIdx.filter((j) => m.rows.some((row) => bad(row[j]!)));
  }
  const anyBad = m.rows.some((row) => row.some(bad));
  const lines: string[] = [];
  const total = m.nodes.length;
  if (!anyBad) {
    lines.push(`Port probes: every probed pair of the ${total} nodes passed (${m.marks.map((x) => x.port).join(', ')}).`);
    return lines;
  }
  const t = sanitizeLine;
  const label = (n: string) => t(n);
  const rowW = Math.max(4, ...rowIdx.map((i) => label(m.nodes[i]!).length));
  const cellText = (c: PairCell): string => {
    if (c.from === c.to) return '·';
    if (c.state === 'none') return ' ';
    if (c.state === 'ok') return '.';
    return [...c.failed, ...c.unconfirmed.map((x) => `${x}?`)].join('');
  };
  const colW = colIdx.map((j) => Math.max(label(m.nodes[j]!).length, ...rowIdx.map((i) => cellText(m.rows[i]![j]!).length)));
  lines.push(
    `Port probes, sender (row) → receiver (column)${shortened ? `: the ${rowIdx.length} senders and ${colIdx.length} receivers with a failure, of ${total} nodes` : ''}`,
  );
  lines.push(`${' '.repeat(rowW)}  ${colIdx.map((j, k) => label(m.nodes[j]!).padEnd(colW[k]!)).join(' ')}`.trimEnd());
  for (const i of rowIdx) {
    lines.push(`${label(m.nodes[i]!).padEnd(rowW)}  ${colIdx.map((j, k) => cellText(m.rows[i]![j]!).padEnd(colW[k]!)).join(' ')}`.trimEnd());
  }
  lines.push(`legend: . all ports ok · ${m.marks.map((x) => `${x.mark} ${x.port}`).join(' · ')} failed · ? unconfirmed · blank not probed`);
  return lines;
}
