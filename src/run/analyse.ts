/**
 * Snapshot → model → checks: pure, the same for a live run, a snapshot file
 * and a bundle. Apart from the other stages so that offline runs
 * (--from-snapshot, --from-bundle) load no SSH or progress code.
 */
import type { Selection } from '../checks/registry.js';
import { runChecks } from '../checks/runner.js';
import type { Finding } from '../checks/types.js';
import { buildModel } from '../model/build.js';
import type { ClusterSnapshot } from '../snapshot/types.js';
import type { PipelineEvents } from './events.js';

export function analyse(snapshot: ClusterSnapshot, selection: Selection, ev: PipelineEvents = {}): Finding[] {
  ev.stageStart?.('analyse');
  const findings = runChecks(buildModel(snapshot), selection);
  const fails = findings.filter((f) => f.status === 'fail').length;
  ev.stageEnd?.('analyse', { summary: `${findings.length} findings, ${fails} failed` });
  return findings;
}
