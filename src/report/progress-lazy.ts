/**
 * The staged view, loaded only when someone will see it: listr2 (and the
 * view built on it, progress.ts) is imported when the view renders, so a
 * silent run (a machine format on stdout: json, junit, github, `collect -o -`)
 * never loads it. A silent run needs no view at all: the pipeline emits its
 * events whether or not anyone listens.
 */
import type { StageName } from '../run/events.js';
import type { ProgressOptions, ProgressView } from './progress.js';

const silent: ProgressView = { events: {}, close: () => Promise.resolve() };

export async function openProgress(stages: readonly StageName[], p: ProgressOptions): Promise<ProgressView> {
  if (p.silent) return silent;
  const { progressView } = await import('./progress.js');
  return progressView(stages, p);
}
