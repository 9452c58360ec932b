/**
 * `bundle inspect`: what a bundle holds, without unpacking it.
 */
import type { Summary } from '../checks/runner.js';
import type { NodeStatus } from '../snapshot/types.js';
import { sanitizeLine } from '../text/sanitize.js';
import type { Bundle } from './read.js';

export interface BundleSummary {
  file: string;
  format: string;
  bundleVersion: number;
  tool: { name: string; version: string };
  command: string;
  createdAt: string;
  startedAt: string;
  durationMs: number;
  clusterId: string | null;
  managerNode: string | null;
  nodes: { name: string; status: NodeStatus; errors: string[]; sandboxes: number; sections: number }[];
  probes: boolean;
  redactIps: boolean;
  redaction: string[];
  findings: Summary | null;
  files: number;
  compressedBytes: number;
  uncompressedBytes: number;
  snapshotSchemaVersion: number;
}

export function summariseBundle(file: string, b: Bundle): BundleSummary {
  const m = b.manifest;
  return {
    file,
    format: m.format,
    bundleVersion: m.bundleVersion,
    tool: m.tool,
    command: (m.argv ?? []).join(' '),
    createdAt: m.endedAt,
    startedAt: m.startedAt,
    durationMs: Date.parse(m.endedAt) - Date.parse(m.startedAt),
    clusterId: m.clusterId,
    managerNode: b.snapshot.cluster.managerNode,
    nodes: b.snapshot.nodes.map((n) => ({
      name: n.name,
      status: n.status,
      errors: n.errors.map((e) => `${e.stage}: ${e.message}`),
      sandboxes: n.sandboxes.length,
      sections: Object.keys(n.raw).length,
    })),
    probes: b.snapshot.probes !== undefined,
    redactIps: m.redactIps === true,
    redaction: m.redaction ?? [],
    findings: b.report?.summary ?? null,
    files: b.files.size,
    compressedBytes: b.compressedBytes,
    uncompressedBytes: b.uncompressedBytes,
    snapshotSchemaVersion: b.snapshot.schemaVersion,
  };
}

const size = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

export function renderBundleSummary(s: BundleSummary): string {
  const f = s.findings;
  const rows: [string, string][] = [
    ['Bundle', `${s.file} (format ${s.bundleVersion}, snapshot schema ${s.snapshotSchemaVersion})`],
    ['Tool', `${s.tool.name} ${s.tool.version}`],
    ['Created', `${s.createdAt} (run took ${(s.durationMs / 1000).toFixed(1)} s)`],
    ['Command', s.command || '-'],
    ['Cluster', `${s.clusterId ?? 'unknown'}, manager ${s.managerNode ?? 'unknown'}`],
    ['Nodes', s.nodes.map((n) => `${n.name} ${n.status}${n.errors.length ? ` (${n.errors[0]})` : ''}`).join(', ') || 'none'],
    ['Probes', s.probes ? 'recorded' : 'not run (--no-probe)'],
    ['Findings', f ? `${f.fail} failed, ${f.warn} warnings, ${f.error} errors, ${f.pass} passed, ${f.skip} skipped` : 'no report in the bundle'],
    ['IPs/hostnames', s.redactIps ? 'pseudonymised (--redact-ips)' : 'as collected'],
    ['Redaction', s.redaction.join('; ')],
    ['Files', `${s.files} files, ${size(s.uncompressedBytes)} (${size(s.compressedBytes)} compressed)`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  // Everything in a bundle is someone else's text: one line each, control characters escaped.
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${sanitizeLine(v)}`).join('\n')}\n`;
}
