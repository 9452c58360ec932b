/** Probe options and their defaults, apart from the runner so that flag definitions load no SSH code. */

/** auto: every pair up to ALL_PAIRS_MAX nodes, a covering subset above (src/probe/plan.ts); all: every pair. */
export const PROBE_PAIRS = ['auto', 'all'] as const;
export type ProbePairsMode = (typeof PROBE_PAIRS)[number];

export interface ProbeOptions {
  /** Per-probe timeout, seconds: the upper bound of every probe and of each receiver's capture. */
  timeoutSec: number;
  /** Which pairs get the per-pair probes (TCP 7946, DF pings, overlay pings); default auto. */
  pairs?: ProbePairsMode;
  /**
   * Groups of nodes among which every ordered pair gets the ESP probe (gate: per encrypted network of
   * the stack, its candidate nodes). Absent: the encrypted overlays of the snapshot decide (plan.ts espGroups).
   */
  espGroups?: readonly (readonly string[])[];
  /**
   * Ids of the overlays whose data path is pinged (gate: the networks the stack joins). Absent: every
   * overlay of the snapshot (plan.ts dataPathTargets).
   */
  dataPathNetworks?: readonly string[];
}

export const PROBE_DEFAULTS: ProbeOptions = { timeoutSec: 2, pairs: 'auto' };
