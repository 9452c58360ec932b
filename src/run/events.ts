/** What the pipeline's stages tell whoever shows progress (report/progress.ts). */
import type { SshTarget } from '../ssh/config.js';
import type { NodeSnapshot } from '../snapshot/types.js';

export type StageName = 'read-stack' | 'discover' | 'collect' | 'probe' | 'analyse';

/** What a stage tells whoever shows progress; every handler is optional. */
export interface PipelineEvents {
  stageStart?(stage: StageName): void;
  /** A stage ended: its one-line summary, or the error that ended it, or why it was skipped. */
  stageEnd?(stage: StageName, outcome: { summary: string } | { error: unknown } | { skipped: string }): void;
  nodesPlanned?(targets: readonly SshTarget[]): void;
  nodePhase?(node: string, phase: 'connecting' | 'collecting', target: SshTarget): void;
  nodeEnd?(node: string, snapshot: NodeSnapshot): void;
  probeProgress?(message: string): void;
}
