/**
 * GET /info answered once per run: requireSwarmManager asks it to know the
 * endpoint is a manager, and discovery (collect/cluster.ts) needs it again
 * a moment later; it takes that answer instead of asking twice, when it is
 * fresh (MAX_AGE_MS), and only once.
 */
import type Dockerode from 'dockerode';

const MAX_AGE_MS = 5000;
const answers = new WeakMap<Dockerode, { info: unknown; at: number }>();

export function rememberInfo(docker: Dockerode, info: unknown): void {
  answers.set(docker, { info, at: Date.now() });
}

/** The remembered answer if fresh (then forgotten), else a new GET /info. */
export function infoOnce(docker: Dockerode): Promise<unknown> {
  const a = answers.get(docker);
  answers.delete(docker);
  return a !== undefined && Date.now() - a.at <= MAX_AGE_MS ? Promise.resolve(a.info) : (docker.info() as Promise<unknown>);
}
