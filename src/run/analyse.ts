/**
 * Analyse a snapshot (live or from a file): pure. Apart from run/check.ts so
 * that offline runs (--from-snapshot, --from-bundle) load no SSH or progress code.
 */
import { runChecks } from '../checks/runner.js';
import type { Selection } from '../checks/registry.js';
import type { Finding } from '../checks/types.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

export function analyse(snapshot: ClusterSnapshot, selection: Selection): Finding[] {
  return runChecks({ snapshot, probes: snapshot.probes ?? null }, selection);
}
