/**
 * The main job: Discover cluster → Connect and collect nodes → Probe →
 * Analyse, composed from the pipeline's stages (pipeline.ts) with the staged
 * view subscribed to their events. Live runs and offline runs (a snapshot
 * file, a bundle) share analyse(), so the same snapshot yields the same findings.
 */
import type Dockerode from 'dockerode';
import type { CollectOptions } from '../collect/collect.js';
import type { Selection } from '../checks/registry.js';
import type { ResolvedEndpoint } from '../docker/endpoint.js';
import type { ProbeOptions } from '../probe/run.js';
import type { ProgressOptions } from '../report/progress.js';
import { openProgress } from '../report/progress-lazy.js';
import { buildReport, type Report } from '../report/model.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import { analyse, assembleSnapshot, collectAndProbe, collectNodes, discover } from './pipeline.js';

export interface CheckRunOptions {
  collect: CollectOptions;
  probe: ProbeOptions | null;
  selection: Selection;
  progress: ProgressOptions;
  toolVersion: string;
}

export interface CheckRunResult {
  snapshot: ClusterSnapshot;
  report: Report;
}

export { analyse };

export async function runCheck(docker: Dockerode, endpoint: ResolvedEndpoint, o: CheckRunOptions): Promise<CheckRunResult> {
  const startedAt = new Date();
  const view = await openProgress(['discover', 'collect', 'probe', 'analyse'], o.progress);
  const ev = view.events;
  try {
    const d = await discover(docker, o.collect, ev);
    // While a probe waits out its timeout, the same analysis runs once on the collected snapshot and
    // is dropped: its code is then compiled and warm (on the lab, ~70 ms of analysis becomes ~30).
    // A failure here is the real analysis's to report.
    const warm = (collected: ClusterSnapshot) => {
      try {
        analyse(collected, o.selection);
      } catch {
        /* reported by the analysis that counts */
      }
    };
    const snapshot = await collectAndProbe(d, o.collect, o.probe, { endpoint, toolVersion: o.toolVersion, startedAt }, ev, warm);
    const findings = analyse(snapshot, o.selection, ev);
    return { snapshot, report: buildReport(snapshot, findings, o.toolVersion, startedAt, Date.now() - startedAt.getTime()) };
  } finally {
    await view.close();
  }
}

/** Collection alone (the collect command): the snapshot even when nodes failed. */
export async function runCollect(
  docker: Dockerode,
  endpoint: ResolvedEndpoint,
  toolVersion: string,
  opts: CollectOptions,
  progress: ProgressOptions,
): Promise<ClusterSnapshot> {
  const startedAt = new Date();
  const view = await openProgress(['discover', 'collect'], progress);
  try {
    const d = await discover(docker, opts, view.events);
    const { nodes } = await collectNodes(d, opts, view.events);
    return assembleSnapshot(d, nodes, endpoint, toolVersion, startedAt);
  } finally {
    await view.close();
  }
}
