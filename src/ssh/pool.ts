/**
 * Small concurrency helpers for fanning work out over swarm nodes: a bounded
 * map that never rejects as a whole, and a per-item deadline.
 */

/**
 * Run `fn` over `items` with at most `limit` calls in flight. Never rejects:
 * each item gets its own settled result, in input order (a synchronous throw
 * from `fn` counts as a rejection of that item).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R> | R,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  const width = Math.max(1, Math.min(items.length, Number.isFinite(limit) ? Math.floor(limit) : items.length));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: items.length === 0 ? 0 : width }, worker));
  return results;
}

export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Run `fn` with an AbortSignal that fires after `ms` (or when `opts.signal`
 * does). Settles as soon as the deadline passes, rejecting with
 * `opts.onTimeout?.()` or a DeadlineError, even if `fn` ignores the signal;
 * whatever `fn` settles with later is dropped.
 */
export function withDeadline<R>(
  ms: number,
  fn: (signal: AbortSignal) => Promise<R>,
  opts: { signal?: AbortSignal; onTimeout?: () => Error } = {},
): Promise<R> {
  const ac = new AbortController();
  return new Promise<R>((resolve, reject) => {
    let done = false;
    const settle = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onParentAbort);
      f();
    };
    const timer = setTimeout(() => {
      const err = opts.onTimeout?.() ?? new DeadlineError(ms);
      ac.abort(err);
      settle(() => reject(err));
    }, ms);
    const onParentAbort = () => {
      const reason: unknown = opts.signal?.reason ?? new Error('aborted');
      ac.abort(reason);
      settle(() => reject(reason));
    };
    if (opts.signal?.aborted) {
      onParentAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onParentAbort, { once: true });
    let p: Promise<R>;
    try {
      p = fn(ac.signal);
    } catch (err) {
      settle(() => reject(err));
      return;
    }
    p.then(
      (v) => settle(() => resolve(v)),
      (e: unknown) => settle(() => reject(e)),
    );
  });
}
