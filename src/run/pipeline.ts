/**
 * The pipeline as plain async stages: Discover cluster → Connect and collect
 * nodes → Probe → Analyse. Each stage is a function; progress is told through
 * events (report/progress.ts renders them with listr2, or nothing listens).
 * The snapshot is assembled in one place, once, with the probe results.
 */
import type Dockerode from 'dockerode';
import { collectClusterFacts, collectNode, selectNodes, type CollectOptions } from '../collect/collect.js';
import type { ResolvedEndpoint } from '../docker/endpoint.js';
import { confirmEarly, earlyProbes, runProbes, type EarlyProbes, type ProbeOptions } from '../probe/run.js';
import { probeResults } from '../probe/verdict.js';
import type { ProbeResults } from '../probe/types.js';
import { resolveTargets, type SshTarget } from '../ssh/config.js';
import { preloadSsh2, type SshSession } from '../ssh/session.js';
import { buildNodeSnapshot } from '../snapshot/node.js';
import type { PipelineEvents } from './events.js';
import { SNAPSHOT_SCHEMA_VERSION, type ClusterFacts, type ClusterSnapshot, type NodeSnapshot } from '../snapshot/types.js';

export interface Discovery {
  facts: ClusterFacts;
  targets: SshTarget[];
}

/**
 * Cluster facts from the manager and an SSH target per selected node
 * (`only` narrows the nodes further; `sshTargets: false` resolves none, for runs that never SSH).
 */
export async function discover(
  docker: Dockerode,
  opts: CollectOptions,
  ev: PipelineEvents = {},
  o: { only?: (facts: ClusterFacts) => Set<string>; sshTargets?: boolean } = {},
): Promise<Discovery> {
  ev.stageStart?.('discover');
  try {
    const asked = collectClusterFacts(docker);
    // ssh2 loads (synchronously) while the manager answers, not at the first connection.
    if (o.sshTargets !== false) setImmediate(preloadSsh2);
    const facts = await asked;
    const only = o.only?.(facts);
    const nodes = selectNodes(facts, opts.nodes).filter((n) => only === undefined || only.has(n.name));
    const targets =
      o.sshTargets === false
        ? []
        : await resolveTargets(nodes, { ...opts.ssh, ...(opts.events?.onWarning ? { onWarning: (m: string) => opts.events?.onWarning?.(m) } : {}) });
    if (o.sshTargets !== false) opts.events?.onTargets?.(targets);
    const overlays = facts.networks.filter((n) => n.driver === 'overlay').length;
    ev.stageEnd?.('discover', { summary: `${facts.nodes.length} nodes, ${overlays} overlay networks, manager ${facts.managerNode ?? '?'}` });
    return { facts, targets };
  } catch (error) {
    ev.stageEnd?.('discover', { error });
    throw error;
  }
}

export const nodeSummary = (n: NodeSnapshot): string => {
  if (n.host === null) return n.errors[0]?.message ?? n.status;
  const overlays = n.sandboxes.filter((s) => s.kind === 'overlay').length;
  return `${n.sandboxes.length} sandboxes (${overlays} overlay), ${Math.round(n.timings.totalMs)} ms`;
};

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Every node over its own SSH session, at most `concurrency` at once; a node
 * that fails is a NodeSnapshot with its errors. With `keepSessions`, healthy
 * sessions stay open for the probes (the caller closes them).
 */
export async function collectNodes(
  d: Discovery,
  opts: CollectOptions,
  ev: PipelineEvents = {},
  keepSessions = false,
  hooks: { connected?(node: string, s: SshSession): void; overlaysRead?(node: string): void; settled?(node: string): void } = {},
): Promise<{ nodes: NodeSnapshot[]; sessions: Map<string, SshSession> }> {
  ev.stageStart?.('collect');
  ev.nodesPlanned?.(d.targets);
  const sessions = new Map<string, SshSession>();
  const byName = new Map<string, NodeSnapshot>();
  await pool(d.targets, opts.concurrency, async (t) => {
    const id = d.facts.nodes.find((n) => n.name === t.node)?.id ?? null;
    const events = { ...opts.events, onNodePhase: (node: string, phase: 'connecting' | 'collecting') => ev.nodePhase?.(node, phase, t) };
    const r = await collectNode(t, id, d.facts, { ...opts, events }, keepSessions ? (s) => sessions.set(t.node, s) : undefined, {
      connected: (s) => hooks.connected?.(t.node, s),
      overlaysRead: () => hooks.overlaysRead?.(t.node),
    });
    hooks.settled?.(t.node);
    const snap = buildNodeSnapshot(r, d.facts.networks);
    byName.set(t.node, snap);
    ev.nodeEnd?.(t.node, snap);
  });
  // Nodes in the cluster's order, whatever order they finished in.
  const nodes = d.facts.nodes.map((n) => byName.get(n.name)).filter((n): n is NodeSnapshot => n !== undefined);
  const failed = nodes.filter((n) => n.host === null).length;
  ev.stageEnd?.('collect', { summary: `${nodes.length - failed} of ${nodes.length} nodes collected` });
  return { nodes, sessions };
}

/** The snapshot of a run: made once, after the probes (if any). */
export function assembleSnapshot(
  d: Discovery,
  nodes: NodeSnapshot[],
  endpoint: ResolvedEndpoint,
  toolVersion: string,
  startedAt: Date,
  probes?: ProbeResults,
): ClusterSnapshot {
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    endpoint: { host: endpoint.host, context: endpoint.contextName },
    cluster: d.facts,
    nodes,
    ...(probes ? { probes } : {}),
  };
}

/**
 * Active probes over the collection's sessions, planned from the snapshot
 * collected so far; or, when `early` probes ran alongside the collection and
 * the snapshot plans exactly what they probed, their results.
 */
export async function probe(
  collected: ClusterSnapshot,
  sessions: Map<string, SshSession>,
  opts: ProbeOptions,
  ev: PipelineEvents = {},
  early: EarlyProbes | null = null,
): Promise<ProbeResults> {
  ev.stageStart?.('probe');
  try {
    const kept = early && (await confirmEarly(early, collected, sessions, opts).catch(() => null));
    const probes = kept ? probeResults(collected, kept) : await runProbes(collected, sessions, opts, (m) => ev.probeProgress?.(m));
    const n = probes.ports.length + probes.mtu.length + probes.dataPath.length;
    const when = kept ? ', started with the collection' : '';
    ev.stageEnd?.('probe', { summary: `${n} probes in ${(probes.durationMs / 1000).toFixed(1)} s${when}` });
    return probes;
  } catch (error) {
    ev.stageEnd?.('probe', { error });
    throw error;
  }
}

/**
 * Collect every node, probe between them over the same sessions (unless
 * `probeOpts` is null), close the sessions, and assemble the snapshot once.
 * The probes start as nodes connect, alongside the collection (probe/run.ts
 * earlyProbes); if the collected snapshot plans other probes than those, they
 * run again after it. A probe stage that breaks is shown failed; the analysis
 * goes on without probes (the underlay checks say so). `whileProbing` gets the
 * collected snapshot when probes are still running after the collection
 * (e.g. a ping waiting out its timeout): idle time for the caller.
 */
export async function collectAndProbe(
  d: Discovery,
  opts: CollectOptions,
  probeOpts: ProbeOptions | null,
  run: { endpoint: ResolvedEndpoint; toolVersion: string; startedAt: Date },
  ev: PipelineEvents = {},
  whileProbing?: (collected: ClusterSnapshot) => void,
): Promise<ClusterSnapshot> {
  const early =
    probeOpts === null
      ? null
      : earlyProbes(
          d.facts,
          d.targets.map((t) => t.node),
          probeOpts,
        );
  const hooks = early && {
    connected: (node: string, s: SshSession) => early.connected(node, s),
    overlaysRead: (node: string) => early.overlaysRead(node),
    settled: (node: string) => early.settled(node),
  };
  const { nodes, sessions } = await collectNodes(d, opts, ev, probeOpts !== null, hooks ?? {});
  let probes: ProbeResults | undefined;
  try {
    if (probeOpts === null) ev.stageEnd?.('probe', { skipped: 'Probe: skipped (--no-probe)' });
    else {
      const collected = assembleSnapshot(d, nodes, run.endpoint, run.toolVersion, run.startedAt);
      if (whileProbing && early?.running()) whileProbing(collected);
      probes = await probe(collected, sessions, probeOpts, ev, early).catch(() => undefined);
    }
  } finally {
    // Sessions an early probe still used after a failed collection are closed by collectNode.
    for (const s of sessions.values()) s.close();
  }
  return assembleSnapshot(d, nodes, run.endpoint, run.toolVersion, run.startedAt, probes);
}

export { analyse } from './analyse.js';
export type { PipelineEvents, StageName } from './events.js';
