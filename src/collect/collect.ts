/**
 * Collection: cluster facts from the manager, then each node over one SSH
 * connection running one script, under a per-node deadline. A node that
 * fails yields its errors (and becomes a NodeSnapshot with them); it never
 * stops the others and never hangs the run. The staged runner that fans out
 * over nodes is report/progress.ts.
 */
import type Dockerode from 'dockerode';
import { usageError } from '../errors.js';
import type { ResolveOptions, SshTarget } from '../ssh/config.js';
import { connect, SshError, sudoFailure, sudoWrap, type SshSession } from '../ssh/session.js';
import type { NodeCollectResult } from '../snapshot/node.js';
import type { ClusterFacts, CollectionError, NodeSnapshot } from '../snapshot/types.js';
import { buildClusterFacts, fetchClusterRaw } from './cluster.js';
import { buildCollectScript, dnsPlan, LOG_DEFAULTS, overlayIds, publishedUdpPorts, underlayPeers, type ScriptOptions } from './script.js';
import { COLLECT_DEFAULTS } from './defaults.js';
import { SectionSplitter } from './sections.js';

export interface CollectEvents {
  onNodePhase?(node: string, phase: 'connecting' | 'collecting'): void;
  onWarning?(message: string): void;
  /** Every node's resolved SSH target, once discovery resolved them (`check -v` prints them). */
  onTargets?(targets: readonly SshTarget[]): void;
}

export interface CollectOptions {
  /** Limit to these swarm node names (--node). */
  nodes?: string[];
  ssh: ResolveOptions;
  concurrency: number;
  connectTimeoutMs: number;
  /** Deadline for one node's whole collection (connect + script). */
  nodeTimeoutMs: number;
  keepaliveIntervalMs?: number;
  passphrase?: string;
  events?: CollectEvents;
  /**
   * Extra node-script options (`check --since` and the bundle set the docker log this way).
   * When absent, the log layer's default is read: the last hour (LOG_DEFAULTS); `{}` reads no log.
   */
  script?: Pick<ScriptOptions, 'dockerLog'>;
  /** A gate's narrower script (src/run/gate-scope.ts); absent: everything the swarm has. */
  scope?: CollectScope;
}

/**
 * What a gate asks the nodes about, where the swarm would have them asked about more: the embedded
 * DNS of these networks only (ids), the conntrack entries of these published UDP ports only.
 */
export interface CollectScope {
  dnsNetworks: readonly string[];
  udpPorts: readonly number[];
}

export { COLLECT_DEFAULTS };

/** The log layer's default window: the last hour, bounded in lines and bytes. */
export const defaultLog = (now = Date.now()): NonNullable<ScriptOptions['dockerLog']> => ({
  lines: LOG_DEFAULTS.lines,
  bytes: LOG_DEFAULTS.bytes,
  since: Math.floor(now / 1000) - LOG_DEFAULTS.sinceSec,
});

/**
 * The collect script's options for one node of this cluster: the given
 * base (the log to read; the last hour by default), then what the swarm
 * says the nodes must be asked (its data-path port, encrypted overlays,
 * underlay peers, DNS names, published UDP ports, overlay ids), narrowed
 * to a gate's `scope` when given.
 */
export function scriptOptionsFor(
  cluster: ClusterFacts,
  base: Partial<ScriptOptions> = { dockerLog: defaultLog() },
  scope?: CollectScope,
): ScriptOptions {
  const dnsNets = scope && new Set(scope.dnsNetworks);
  return {
    ...base,
    dataPathPort: cluster.dataPathPort,
    encryptedPrefixes: cluster.networks.filter((n) => n.encrypted).map((n) => n.id.slice(0, 10)),
    underlayPeers: underlayPeers(cluster),
    dns: dnsPlan(dnsNets ? { ...cluster, networks: cluster.networks.filter((n) => dnsNets.has(n.id)) } : cluster),
    udpPorts: scope ? [...scope.udpPorts] : publishedUdpPorts(cluster),
    overlayIds: overlayIds(cluster),
  };
}

/** Map an SSH failure to the stage it happened in. */
export function collectionError(err: unknown): CollectionError {
  if (err instanceof SshError) {
    const stage = err.kind.startsWith('hostkey')
      ? 'hostkey'
      : err.kind === 'auth'
        ? 'auth'
        : err.kind === 'sudo-password'
          ? 'sudo'
          : err.kind === 'exec-timeout'
            ? 'timeout'
            : err.kind === 'closed'
              ? 'exec'
              : 'connect';
    return { stage, kind: err.kind, message: err.message };
  }
  return { stage: 'exec', kind: 'error', message: err instanceof Error ? err.message : String(err) };
}

const describeTarget = (t: SshTarget): NodeSnapshot['target'] => ({
  host: t.host,
  port: t.port,
  user: t.user,
  via: t.proxyJump.map((h) => `${h.user}@${h.host}:${h.port}`),
});

/**
 * Collect one node: connect, run the script once, split its output. With
 * `keep`, a healthy session is handed over (for the probes that follow on the
 * same connection) instead of being closed; the receiver must close it.
 * `hooks.connected` hears of the session as soon as it is open (early probes
 * share it while the script runs; it is still closed here if the collection
 * fails; it is told after the collection's own exec is asked for),
 * `hooks.overlaysRead` once the script is past the node's overlay sandboxes
 * (their FDB and neighbour tables).
 */
export async function collectNode(
  target: SshTarget,
  id: string | null,
  cluster: ClusterFacts,
  opts: CollectOptions,
  keep?: (session: SshSession) => void,
  hooks: { connected?(session: SshSession): void; overlaysRead?(): void } = {},
): Promise<NodeCollectResult> {
  const started = Date.now();
  const errors: CollectionError[] = [];
  let session: SshSession | null = null;
  let connectMs: number | null = null;
  let execMs: number | null = null;
  let output: NodeCollectResult['output'] = null;
  let receivedAt = Date.now() / 1000;
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), opts.nodeTimeoutMs);
  try {
    opts.events?.onNodePhase?.(target.node, 'connecting');
    session = await connect(target, {
      connectTimeoutMs: Math.min(opts.connectTimeoutMs, opts.nodeTimeoutMs),
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? COLLECT_DEFAULTS.keepaliveIntervalMs,
      signal: abort.signal,
      ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
      ...(opts.events?.onWarning ? { onWarning: (m: string) => opts.events?.onWarning?.(m) } : {}),
    });
    connectMs = session.connectMs;
    opts.events?.onNodePhase?.(target.node, 'collecting');
    const { script, marker } = buildCollectScript(scriptOptionsFor(cluster, opts.script, opts.scope));
    const remaining = Math.max(1, opts.nodeTimeoutMs - (Date.now() - started));
    // The script reads the node's clock first: compare it with our clock at the start of the exec.
    receivedAt = Date.now() / 1000;
    // Sections are split as the bytes arrive, each one bounded (sections.ts):
    // a node printing hundreds of MiB costs a truncated section, not the run.
    // The overlay sandboxes come first among the sandbox sections: the first section after them
    // means every FDB and vxlan neighbour table of the node is read (overlay pings may start: run.ts earlyProbes).
    const splitter = new SectionSplitter(
      marker,
      {},
      overlaysReadAfter(() => hooks.overlaysRead?.()),
    );
    const running = session.exec(sudoWrap('sh -s', target.user), { stdin: script, timeoutMs: remaining, takeStdout: (d) => splitter.push(d) });
    // The early probes' channels open after the collection's: everything waits for its first part.
    hooks.connected?.(session);
    const res = await running;
    execMs = res.durationMs;
    const sudo = sudoFailure(res, target.user, `${target.user}@${target.host}`);
    if (sudo) throw sudo;
    output = splitter.end();
    if (!output.complete && res.code !== 0) {
      errors.push({
        stage: 'exec',
        kind: 'exit',
        message: `collection script exited ${res.code ?? res.signal}: ${res.stderr.trim().split('\n')[0] ?? ''}`,
      });
    }
  } catch (err) {
    errors.push(collectionError(err));
  } finally {
    clearTimeout(deadline);
    if (session && keep && errors.length === 0 && !session.closed) keep(session);
    else session?.close();
  }
  return {
    name: target.node,
    id,
    target: describeTarget(target),
    output,
    errors,
    timings: { connectMs, execMs, totalMs: Date.now() - started },
    receivedAt,
  };
}

/**
 * A section listener that calls `then` once, at the first section after the
 * node's overlay sandboxes (`netns/list`, `netns/access`, then every
 * `netns/<epoch>-<id>/…`: script.ts reads those first), or at the first one
 * after the list when the node has none.
 */
export function overlaysReadAfter(then: () => void): (section: string) => void {
  let state: 'before' | 'in' | 'done' = 'before';
  return (name) => {
    if (state === 'done') return;
    // `[0-9]*-*` as the script's case pattern has it.
    if (name === 'netns/list' || name === 'netns/access' || /^netns\/[0-9][^/]*-[^/]*\//.test(name)) state = 'in';
    else if (state === 'in') {
      state = 'done';
      then();
    }
  };
}

/** Select the nodes to collect; unknown names in --node are a usage error. */
export function selectNodes(cluster: ClusterFacts, names: string[] | undefined): ClusterFacts['nodes'] {
  if (!names || names.length === 0) return cluster.nodes;
  const known = new Set(cluster.nodes.map((n) => n.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw usageError(`unknown node${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the swarm has ${[...known].join(', ')}`);
  }
  return cluster.nodes.filter((n) => names.includes(n.name));
}

/** Cluster facts from the manager (one call per API object, overlays inspected verbosely). */
export async function collectClusterFacts(docker: Dockerode): Promise<ClusterFacts> {
  return buildClusterFacts(await fetchClusterRaw(docker));
}
