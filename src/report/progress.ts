/**
 * The staged progress view (listr2): Discover cluster → Connect and collect
 * nodes, each node a concurrent subtask with its own status; a failing node
 * is marked failed and the others go on (exitOnError: false).
 *
 * Progress always goes to stderr so that stdout carries only the report; on
 * a TTY the live tree, elsewhere the plain line renderer, and nothing at all
 * when `silent` (machine formats on stdout, --json).
 */
import type Dockerode from 'dockerode';
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput, type ListrTask } from 'listr2';
import {
  collectClusterFacts,
  collectNode,
  selectNodes,
  type CollectOptions,
} from '../collect/collect.js';
import type { ResolvedEndpoint } from '../docker/endpoint.js';
import { resolveTargets, type SshTarget } from '../ssh/config.js';
import type { SshSession } from '../ssh/session.js';
import { buildNodeSnapshot } from '../snapshot/node.js';
import { SNAPSHOT_SCHEMA_VERSION, type ClusterFacts, type ClusterSnapshot, type NodeSnapshot } from '../snapshot/types.js';

export interface ProgressOptions {
  silent: boolean;
  /** Force the plain line renderer even on a TTY. */
  plain?: boolean;
}

export interface CollectCtx {
  facts?: ClusterFacts;
  targets?: SshTarget[];
  nodes: NodeSnapshot[];
  /** When set, sessions stay open after collection (for probes); the caller closes them. */
  sessions?: Map<string, SshSession>;
  /** A discovery error that ends the run (no daemon, unknown --node, bad inventory). */
  fatal?: unknown;
}

/** After the list ran: rethrow what ended discovery, so the command exits with its code. */
export function throwIfFatal(ctx: CollectCtx): void {
  if (ctx.fatal !== undefined) throw ctx.fatal;
  if (!ctx.facts || !ctx.targets) throw new Error('cluster discovery failed');
}

const nodeSummary = (n: NodeSnapshot): string => {
  if (n.host === null) return n.errors[0]?.message ?? n.status;
  const overlays = n.sandboxes.filter((s) => s.kind === 'overlay').length;
  return `${n.sandboxes.length} sandboxes (${overlays} overlay), ${Math.round(n.timings.totalMs)} ms`;
};

/** listr2 options shared by every staged command. */
export function listrOptions(p: ProgressOptions) {
  // Colours come from colorette, which already honours NO_COLOR.
  const output = new ProcessOutput(process.stderr, process.stderr);
  return {
    concurrent: false,
    exitOnError: false,
    renderer: 'default' as const,
    fallbackRenderer: 'simple' as const,
    fallbackRendererCondition: () => p.plain === true || !process.stderr.isTTY,
    silentRendererCondition: () => p.silent,
    // Each node's subtask shows its own timer.
    rendererOptions: { processOutput: output, collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { logger: new ListrLogger({ processOutput: output, useIcons: true }), timer: PRESET_TIMER },
    registerSignalListeners: true,
  };
}

/** The Discover and Collect stages; `check` appends its own after these. */
export function collectStages(docker: Dockerode, opts: CollectOptions): ListrTask<CollectCtx>[] {
  return [
    {
      title: 'Discover cluster',
      task: async (ctx, task) => {
        try {
          const facts = await collectClusterFacts(docker);
          const nodes = selectNodes(facts, opts.nodes);
          ctx.targets = await resolveTargets(nodes, { ...opts.ssh, ...(opts.events?.onWarning ? { onWarning: opts.events.onWarning } : {}) });
          opts.events?.onTargets?.(ctx.targets);
          ctx.facts = facts;
        } catch (err) {
          ctx.fatal = err;
          throw err;
        }
        const overlays = ctx.facts.networks.filter((n) => n.driver === 'overlay').length;
        task.title = `Discover cluster: ${ctx.facts.nodes.length} nodes, ${overlays} overlay networks, manager ${ctx.facts.managerNode ?? '?'}`;
      },
      exitOnError: true,
    },
    {
      title: 'Connect and collect nodes',
      task: (ctx, task) =>
        task.newListr(
          (ctx.targets ?? []).map(
            (t): ListrTask<CollectCtx> => ({
              title: t.node,
              task: async (_c, sub) => {
                const facts = ctx.facts!;
                const id = facts.nodes.find((n) => n.name === t.node)?.id ?? null;
                const r = await collectNode(
                  t,
                  id,
                  facts,
                  {
                    ...opts,
                    events: {
                      ...opts.events,
                      onNodePhase: (node, phase) => {
                        sub.title = `${node}: ${phase} ${t.user}@${t.host}`;
                      },
                    },
                  },
                  ctx.sessions ? (s) => ctx.sessions!.set(t.node, s) : undefined,
                );
                const snap = buildNodeSnapshot(r, facts.networks);
                ctx.nodes.push(snap);
                sub.title = `${t.node}: ${nodeSummary(snap)}`;
                if (snap.host === null) throw new Error(`${t.node}: ${nodeSummary(snap)}`);
              },
            }),
          ),
          { concurrent: opts.concurrency, exitOnError: false },
        ),
    },
  ];
}

/** Assemble the snapshot; nodes in the cluster's order. */
export function assembleSnapshot(
  ctx: CollectCtx,
  endpoint: ResolvedEndpoint,
  toolVersion: string,
  startedAt: Date,
): ClusterSnapshot {
  const facts = ctx.facts!;
  const order = new Map(facts.nodes.map((n, i) => [n.name, i]));
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    tool: { name: 'docker-netdoctor', version: toolVersion },
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    endpoint: { host: endpoint.host, context: endpoint.contextName },
    cluster: facts,
    nodes: [...ctx.nodes].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)),
  };
}

/** Collection with the staged view; returns the snapshot even when nodes failed. */
export async function collectWithProgress(
  docker: Dockerode,
  endpoint: ResolvedEndpoint,
  toolVersion: string,
  opts: CollectOptions,
  progress: ProgressOptions,
): Promise<ClusterSnapshot> {
  const startedAt = new Date();
  const ctx: CollectCtx = { nodes: [] };
  const list = new Listr<CollectCtx>(collectStages(docker, opts), { ...listrOptions(progress), ctx } as never);
  await list.run(ctx);
  throwIfFatal(ctx);
  return assembleSnapshot(ctx, endpoint, toolVersion, startedAt);
}
