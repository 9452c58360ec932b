/**
 * The report every renderer is fed: findings plus the run's context. Its
 * JSON form is the documented contract for scripts (schemaVersion 1).
 */
import { summarise, type Summary } from '../checks/runner.js';
import type { Finding } from '../checks/types.js';
import { ExitCode, NetdoctorError } from '../errors.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import { buildProblems, type Problem } from './problems.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'docker-netdoctor'; version: string };
  startedAt: string;
  durationMs: number;
  cluster: { id: string | null; nodes: { name: string; id: string; address: string | null; role: 'manager' | 'worker' }[] };
  summary: Summary;
  findings: Finding[];
  /** The findings folded into problems (src/report/problems.ts), ordered by impact; additive to schemaVersion 1. */
  problems: Problem[];
  /** gate only: the stack judged and the files it was read from. */
  stack?: { name: string; files: string[] };
}

export function buildReport(snapshot: ClusterSnapshot, findings: Finding[], toolVersion: string, startedAt: Date, durationMs: number): Report {
  const nodes = snapshot.cluster.nodes.map((n) => ({ name: n.name, id: n.id, address: n.advertiseAddress, role: n.role }));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs,
    cluster: {
      id: snapshot.cluster.swarmId,
      nodes,
    },
    summary: summarise(findings),
    findings,
    problems: buildProblems(findings, nodes),
  };
}

/** Exit status of a report: 1 when anything failed or errored (or warned, with --strict). */
export function reportFailed(r: Report, strict: boolean): boolean {
  return r.summary.fail > 0 || r.summary.error > 0 || (strict && r.summary.warn > 0);
}

export const where = (f: Finding, file = true): string =>
  [
    f.service ? `service ${f.service}` : null,
    f.node && f.peer ? `${f.node} → ${f.peer}` : f.node,
    f.network ? `network ${f.network}` : null,
    file && f.location ? `${f.location.file}:${f.location.line}` : null,
  ]
    .filter(Boolean)
    .join(', ');

/**
 * Why a run could not start, by cause (the exit code says which): each has
 * its own finding id, so a corrupt bundle is not filed as a swarm problem.
 * These ids are not checks (no check may take the `cluster.start.` prefix);
 * they sit in the cluster layer so every renderer shows them.
 */
export const START_FAILURES = {
  /** Exit 2: a bad flag, config.json, context, inventory, snapshot or bundle. */
  badInput: {
    id: 'cluster.start.bad-input',
    title: 'netdoctor could not read its input',
    remediation: 'fix the input named above (flag, config.json, Docker context, inventory, snapshot or bundle) and run again',
  },
  /** Exit 3: no daemon at the endpoint, not a swarm manager, nodes out of reach. */
  unreachable: {
    id: 'cluster.start.unreachable',
    title: 'netdoctor could not reach a swarm manager',
    remediation: 'point netdoctor at a reachable swarm manager (--host/--context, or `docker context use <manager>`)',
  },
  /** Anything else is a bug in netdoctor. */
  failed: {
    id: 'cluster.start.failed',
    title: 'netdoctor failed before any check ran',
    remediation: 'run again with -D for the stack trace and report it with the command line used',
  },
} as const;

export function startFailureOf(err: unknown): (typeof START_FAILURES)[keyof typeof START_FAILURES] {
  if (err instanceof NetdoctorError) {
    if (err.exitCode === ExitCode.Usage) return START_FAILURES.badInput;
    if (err.exitCode === ExitCode.Unreachable) return START_FAILURES.unreachable;
  }
  return START_FAILURES.failed;
}

/**
 * The report of a run that could not start (no daemon, not a manager, a bad
 * bundle): a single error finding with the reason, under the id of its
 * cause, so `--output` always leaves a file for CI.
 */
export function failureReport(err: unknown, toolVersion: string, startedAt: Date): Report {
  const cause = startFailureOf(err);
  const findings: Finding[] = [
    {
      id: cause.id,
      layer: 'cluster',
      status: 'error',
      node: null,
      peer: null,
      network: null,
      title: cause.title,
      messageId: 'error.start',
      detail: err instanceof Error ? err.message : String(err),
      remediation: cause.remediation,
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
    problems: buildProblems(findings, []),
  };
}
