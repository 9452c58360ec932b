/**
 * The staged progress view (listr2), a pure subscriber of the pipeline's
 * events (run/pipeline.ts): one task per stage, one concurrent subtask per
 * node with its own status; a failing node is marked failed and the others
 * go on. The pipeline runs whether or not anyone watches.
 *
 * Progress always goes to stderr so that stdout carries only the report; on
 * a TTY the live tree, elsewhere the plain line renderer, and nothing at all
 * when `silent` (machine formats on stdout, --json).
 */
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput, type ListrTask, type ListrTaskWrapper } from 'listr2';
import { nodeSummary, type PipelineEvents, type StageName } from '../run/pipeline.js';
import type { SshTarget } from '../ssh/config.js';
import type { NodeSnapshot } from '../snapshot/types.js';
import { sanitizeLine as t } from '../text/sanitize.js';

export interface ProgressOptions {
  silent: boolean;
  /** Force the plain line renderer even on a TTY. */
  plain?: boolean;
}

const TITLES: Record<StageName, string> = {
  'read-stack': 'Read stack',
  discover: 'Discover cluster',
  collect: 'Connect and collect nodes',
  probe: 'Probe',
  analyse: 'Analyse',
};

type Outcome = Parameters<NonNullable<PipelineEvents['stageEnd']>>[1];

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** listr2 options shared by every staged command. */
function listrOptions(p: ProgressOptions) {
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

type Wrapper = ListrTaskWrapper<object, never, never>;

export interface ProgressView {
  events: PipelineEvents;
  /** The pipeline ended (normally or not): settle what is still open and wait for the view. */
  close(): Promise<void>;
}

/** A listr2 view of the given stages, driven by the events it returns. */
export function progressView(stages: readonly StageName[], p: ProgressOptions): ProgressView {
  const ends = new Map(stages.map((s) => [s, deferred<Outcome>()]));
  const wrappers = new Map<StageName, Wrapper>();
  const planned = deferred<readonly SshTarget[]>();
  const nodeEnds = new Map<string, Deferred<NodeSnapshot | null>>();
  const nodeTitles = new Map<string, string>();
  const nodeWrappers = new Map<string, Wrapper>();
  const nodeEnd = (node: string) => nodeEnds.get(node) ?? nodeEnds.set(node, deferred()).get(node)!;

  const stageTask = (stage: StageName): ListrTask => ({
    title: TITLES[stage],
    task: async (_ctx, task) => {
      wrappers.set(stage, task as unknown as Wrapper);
      if (stage === 'collect') {
        const targets = await Promise.race([planned.promise, ends.get(stage)!.promise.then(() => [] as readonly SshTarget[])]);
        if (targets.length > 0) return task.newListr(targets.map(nodeTask), { concurrent: true, exitOnError: false });
      }
      const o = await ends.get(stage)!.promise;
      // listr prints the message: the command's one-line error comes from the pipeline's own throw.
      if ('error' in o) throw new Error(t(o.error instanceof Error ? o.error.message : String(o.error)));
      if ('skipped' in o) task.skip(t(o.skipped));
      else task.title = `${TITLES[stage]}: ${t(o.summary)}`;
      return undefined;
    },
  });

  const nodeTask = (target: SshTarget): ListrTask => ({
    title: nodeTitles.get(target.node) ?? t(target.node),
    task: async (_ctx, sub) => {
      nodeWrappers.set(target.node, sub as unknown as Wrapper);
      const snap = await nodeEnd(target.node).promise;
      if (snap === null) throw new Error(`${t(target.node)}: not finished`);
      sub.title = t(`${target.node}: ${nodeSummary(snap)}`);
      if (snap.host === null) throw new Error(t(`${target.node}: ${nodeSummary(snap)}`));
    },
  });

  const setNodeTitle = (node: string, title: string) => {
    nodeTitles.set(node, title);
    const w = nodeWrappers.get(node);
    if (w) w.title = title;
  };

  const list = new Listr(stages.map(stageTask), listrOptions(p));
  const running = list.run().then(
    () => undefined,
    () => undefined,
  );
  const events: PipelineEvents = {
    stageEnd: (stage, outcome) => {
      // The collect stage's own title is set once its node subtasks are done.
      ends.get(stage)?.resolve(outcome);
      const w = wrappers.get(stage);
      if (stage === 'collect' && w && 'summary' in outcome) w.title = `${TITLES[stage]}: ${t(outcome.summary)}`;
    },
    nodesPlanned: (targets) => planned.resolve(targets),
    nodePhase: (node, phase, target) => setNodeTitle(node, t(`${node}: ${phase} ${target.user}@${target.host}`)),
    nodeEnd: (node, snap) => nodeEnd(node).resolve(snap),
    probeProgress: (message) => {
      const w = wrappers.get('probe');
      if (w) w.output = t(message);
    },
  };
  return {
    events,
    close: async () => {
      for (const d of ends.values()) d.resolve({ skipped: 'not run' });
      planned.resolve([]);
      for (const d of nodeEnds.values()) d.resolve(null);
      await running;
    },
  };
}
