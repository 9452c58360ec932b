/**
 * The main job: Discover cluster → Connect and collect nodes → Probe →
 * Analyse → Report, as listr2 stages. Live runs and offline runs (a snapshot
 * file) share Analyse and Report, so the same snapshot yields the same findings.
 */
import type Dockerode from 'dockerode';
import { Listr, type ListrTask } from 'listr2';
import type { CollectOptions } from '../collect/collect.js';
import { analyse } from './analyse.js';
import type { Selection } from '../checks/registry.js';
import type { Finding } from '../checks/types.js';
import type { ResolvedEndpoint } from '../docker/endpoint.js';
import { runProbes, type ProbeOptions } from '../probe/run.js';
import { assembleSnapshot, collectStages, listrOptions, throwIfFatal, type CollectCtx, type ProgressOptions } from '../report/progress.js';
import { buildReport, type Report } from '../report/model.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

export interface CheckRunOptions {
  collect: CollectOptions;
  probe: ProbeOptions | null;
  selection: Selection;
  progress: ProgressOptions;
  toolVersion: string;
}

interface CheckCtx extends CollectCtx {
  snapshot?: ClusterSnapshot;
  findings?: Finding[];
}

export interface CheckRunResult {
  snapshot: ClusterSnapshot;
  report: Report;
}

export { analyse };

export async function runCheck(docker: Dockerode, endpoint: ResolvedEndpoint, o: CheckRunOptions): Promise<CheckRunResult> {
  const startedAt = new Date();
  const ctx: CheckCtx = { nodes: [], sessions: new Map() };
  const stages: ListrTask<CheckCtx>[] = [
    ...(collectStages(docker, o.collect) as ListrTask<CheckCtx>[]),
    {
      title: 'Probe',
      skip: () => (o.probe === null ? 'Probe: skipped (--no-probe)' : false),
      task: async (c, task) => {
        c.snapshot = assembleSnapshot(c, endpoint, o.toolVersion, startedAt);
        const probes = await runProbes(c.snapshot, c.sessions!, o.probe!, (msg) => {
          task.output = msg;
        });
        c.snapshot.probes = probes;
        const n = probes.ports.length + probes.mtu.length + probes.dataPath.length;
        task.title = `Probe: ${n} probes in ${(probes.durationMs / 1000).toFixed(1)} s`;
      },
    },
    {
      title: 'Analyse',
      task: (c, task) => {
        c.snapshot ??= assembleSnapshot(c, endpoint, o.toolVersion, startedAt);
        c.findings = analyse(c.snapshot, o.selection);
        const fails = c.findings.filter((f) => f.status === 'fail').length;
        task.title = `Analyse: ${c.findings.length} findings, ${fails} failed`;
      },
    },
  ];
  try {
    const list = new Listr<CheckCtx>(stages, { ...listrOptions(o.progress), ctx } as never);
    await list.run(ctx);
    throwIfFatal(ctx);
  } finally {
    for (const s of ctx.sessions!.values()) s.close();
  }
  const snapshot = ctx.snapshot ?? assembleSnapshot(ctx, endpoint, o.toolVersion, startedAt);
  const findings = ctx.findings ?? analyse(snapshot, o.selection);
  return { snapshot, report: buildReport(snapshot, findings, o.toolVersion, startedAt, Date.now() - startedAt.getTime()) };
}
