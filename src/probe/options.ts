/** Probe options and their defaults, apart from the runner so that flag definitions load no SSH code. */
export interface ProbeOptions {
  /** Per-probe timeout, seconds: the upper bound of every probe and of each receiver's capture. */
  timeoutSec: number;
}

export const PROBE_DEFAULTS: ProbeOptions = { timeoutSec: 2 };
