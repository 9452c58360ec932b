/**
 * What a check is. Shaped after ESLint rules: one file per check, a `meta`
 * (stable id, layer, title, what it looks at, remediation, messages keyed by
 * id, what it needs, its scope) and a `check(ctx)` function over the per-run
 * model that reports `messageId`s with data. The framework (scope.ts,
 * runner.ts), not the check, iterates the scope, writes every "skipped
 * because …" the same way, and completes each report into a Finding.
 */
import type { Model, NodeModel, SandboxModel } from '../model/types.js';
import type { NetworkFacts } from '../snapshot/types.js';

export const LAYERS = ['cluster', 'host', 'underlay', 'overlay', 'service', 'log', 'stack'] as const;
export type Layer = (typeof LAYERS)[number];

export const STATUSES = ['pass', 'warn', 'fail', 'skip', 'error'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Where a check runs, one call per:
 * - `cluster`: once per run;
 * - `node`: collected node (a node that could not be collected gets one skip);
 * - `network-node`: overlay network with a readable sandbox on a collected node
 *   (no sandbox where tasks run, or one that cannot be entered, is one skip);
 * - `pair`: ordered pair of distinct collected nodes.
 */
export const SCOPES = ['cluster', 'node', 'network-node', 'pair'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Prerequisites the framework checks before calling the check; an unmet one
 * is a `skip` with the same wording for every check.
 * - `swarm`: the endpoint is a manager of an active swarm;
 * - `probes`: active probe results exist (not --no-probe, not a snapshot without them);
 * - `sandbox-list`: the node's docker network namespaces could be listed;
 * - `ipvs`: the node's kernel has IPVS (docker programs load balancing); network-node: skipped per network, where the sandbox exists;
 * - `advertise-address`: the swarm reports the node's advertise address;
 * - `section:<name>`: (network-node) the sandbox's `<name>` section was collected without error;
 * - `stack`: a gate run (a stack to check against the cluster); checks that need it run only in `gate`.
 */
export type Need = 'swarm' | 'probes' | 'sandbox-list' | 'ipvs' | 'advertise-address' | 'stack' | `section:${string}`;

export interface CheckMeta<M extends string = string> {
  /** Stable id `layer.topic.name`, e.g. `overlay.fdb.missing`. Never reuse or rename. */
  id: string;
  layer: Layer;
  title: string;
  /** What the check looks at, for the catalogue. */
  looksAt: string;
  /** Default remediation (a command or a step), used when a report gives none. */
  remediation: string;
  /** Detail templates by message id; `{name}` is replaced by the report's data. */
  messages: Record<M, string>;
  scope: Scope;
  needs?: readonly Need[];
  /**
   * Rows of ../shared/FAILURES.md (the field catalogue of what users hit) this
   * check recognises; [] for checks that guard a precondition no row names.
   */
  failures: readonly number[];
  /** Checks whose failure this one follows from (e.g. no IPVS → the mesh checks). */
  causedBy?: readonly string[];
  /** network-node scope: which sandbox of the network the check reads (default `overlay`; `lb`: the lb_<prefix> load balancer). */
  sandbox?: 'overlay' | 'lb';
}

export type Data = Record<string, string | number>;

export interface ReportExtra {
  /** A remediation for this finding (already filled in); defaults to meta.remediation. */
  remediation?: string;
  /** Override or set where the finding is (the scope sets node/peer/network by default). */
  node?: string | null;
  peer?: string | null;
  network?: string | null;
  /** gate: the stack service the finding is about, and where in the user's files. */
  service?: string;
  location?: { file: string; line: number };
}

export type Reporter<M extends string> = (status: Status, messageId: M, data?: Data, extra?: ReportExtra) => void;

interface BaseContext<M extends string> {
  model: Model;
  report: Reporter<M>;
}
export type ClusterContext<M extends string = string> = BaseContext<M>;
export interface NodeContext<M extends string = string> extends BaseContext<M> {
  node: NodeModel;
}
export interface NetworkNodeContext<M extends string = string> extends NodeContext<M> {
  network: NetworkFacts;
  sandbox: SandboxModel;
}
export interface PairContext<M extends string = string> extends NodeContext<M> {
  peer: NodeModel;
}

export interface ScopeContexts<M extends string> {
  cluster: ClusterContext<M>;
  node: NodeContext<M>;
  'network-node': NetworkNodeContext<M>;
  pair: PairContext<M>;
}

export interface Check<S extends Scope = Scope, M extends string = string> {
  meta: CheckMeta<M> & { scope: S };
  /** network-node scope: which overlay networks the check is about (all overlays by default). */
  appliesTo?: (network: NetworkFacts, model: Model) => boolean;
  /**
   * node, pair and network-node scopes: whether the run holds anything for the check to look at
   * (e.g. some service publishes a port), decided once before any node. When it does not, the check
   * reports why itself (cluster-level findings) and returns false; no node is visited.
   */
  applies?: (ctx: ClusterContext<M>) => boolean;
  /**
   * network-node scope: what to report when the node has no sandbox of `meta.sandbox` for the network
   * (default: `skip.no-sandbox` on nodes that host the network, nothing elsewhere).
   */
  noSandbox?: (ctx: NodeContext<M> & { network: NetworkFacts }) => void;
  check(ctx: ScopeContexts<M>[S]): void;
}

/** Type-checks a check's message ids against its messages. */
export function defineCheck<S extends Scope, M extends string>(c: Check<S, M>): Check<S, M> {
  return c;
}

/** What the framework completes into a Finding. */
export interface FindingDraft {
  status: Status;
  messageId: string;
  detail: string;
  node?: string | null;
  peer?: string | null;
  network?: string | null;
  remediation?: string;
  service?: string;
  location?: { file: string; line: number };
}

export interface Finding {
  id: string;
  layer: Layer;
  status: Status;
  node: string | null;
  peer: string | null;
  network: string | null;
  title: string;
  /** Which of the check's messages (or the framework's `skip.*` / `error.*`) this is. */
  messageId: string;
  detail: string;
  remediation: string;
  /** gate only: the stack service, and the file and line in the user's stack files. */
  service?: string;
  location?: { file: string; line: number };
}

/** Any check, whatever its scope and messages (what the registry holds). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = Check<any, any>;
