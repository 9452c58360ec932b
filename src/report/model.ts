/**
 * The report every renderer is fed: findings plus the run's context. Its
 * JSON form is the documented contract for scripts (schemaVersion 1).
 */
import { summarise, type Summary } from '../checks/runner.js';
import type { Finding } from '../checks/types.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'docker-netdoctor'; version: string };
  startedAt: string;
  durationMs: number;
  cluster: { id: string | null; nodes: { name: string; id: string; address: string | null; role: 'manager' | 'worker' }[] };
  summary: Summary;
  findings: Finding[];
  /** gate only: the stack judged and the files it was read from. */
  stack?: { name: string; files: string[] };
}

export function buildReport(snapshot: ClusterSnapshot, findings: Finding[], toolVersion: string, startedAt: Date, durationMs: number): Report {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs,
    cluster: {
      id: snapshot.cluster.swarmId,
      nodes: snapshot.cluster.nodes.map((n) => ({ name: n.name, id: n.id, address: n.advertiseAddress, role: n.role })),
    },
    summary: summarise(findings),
    findings,
  };
}

/** Exit status of a report: 1 when anything failed or errored (or warned, with --strict). */
export function reportFailed(r: Report, strict: boolean): boolean {
  return r.summary.fail > 0 || r.summary.error > 0 || (strict && r.summary.warn > 0);
}

export const where = (f: Finding): string =>
  [f.node && f.peer ? `${f.node} → ${f.peer}` : f.node, f.network ? `network ${f.network}` : null].filter(Boolean).join(', ');

/**
 * The report of a run that could not start (no daemon, not a manager, a bad
 * bundle): a single error finding with the reason, so `--output` always
 * leaves a file for CI.
 */
export function failureReport(err: unknown, toolVersion: string, startedAt: Date): Report {
  const findings: Finding[] = [
    {
      id: 'cluster.swarm.active',
      layer: 'cluster',
      status: 'error',
      node: null,
      peer: null,
      network: null,
      title: 'netdoctor could not run',
      messageId: 'error.start',
      detail: err instanceof Error ? err.message : String(err),
      remediation: 'point netdoctor at a reachable swarm manager (--host/--context) or fix the input named above',
    },
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    cluster: { id: null, nodes: [] },
    summary: summarise(findings),
    findings,
  };
}
