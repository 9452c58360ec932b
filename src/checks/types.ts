/**
 * Checks are pure functions from the snapshot (plus recorded probe results)
 * to findings. Each check has stable metadata; the runner, not the check,
 * attaches id, layer and title to what it reports.
 */
import type { ProbeResults } from '../probe/types.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

export const LAYERS = ['cluster', 'host', 'underlay', 'overlay', 'service'] as const;
export type Layer = (typeof LAYERS)[number];

export const STATUSES = ['pass', 'warn', 'fail', 'skip', 'error'] as const;
export type Status = (typeof STATUSES)[number];

export interface CheckMeta {
  /** Stable id `layer.topic.name`, e.g. `overlay.fdb.missing`. Never reuse or rename. */
  id: string;
  layer: Layer;
  title: string;
  /** What the check looked at, for the catalogue and --explain. */
  looksAt: string;
  /** Default remediation: a command or a step. A finding may give a more specific one. */
  remediation: string;
}

/** What a check reports; the runner completes it into a Finding. */
export interface FindingDraft {
  status: Status;
  node?: string | null;
  peer?: string | null;
  network?: string | null;
  detail: string;
  remediation?: string;
}

export interface Finding {
  id: string;
  layer: Layer;
  status: Status;
  node: string | null;
  peer: string | null;
  network: string | null;
  title: string;
  detail: string;
  remediation: string;
}

export interface CheckContext {
  snapshot: ClusterSnapshot;
  /** Active probe results; null when probes were skipped (--no-probe) or not recorded. */
  probes: ProbeResults | null;
}

export interface Check {
  meta: CheckMeta;
  run(ctx: CheckContext): FindingDraft[];
}

export const defineCheck = (meta: CheckMeta, run: Check['run']): Check => ({ meta, run });
