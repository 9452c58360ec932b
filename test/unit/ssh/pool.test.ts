import { describe, expect, it } from 'vitest';
import { DeadlineError, mapLimit, withDeadline } from '../../../src/ssh/pool.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('bounds concurrency, keeps order and never rejects as a whole', async () => {
    let inFlight = 0;
    let peak = 0;
    const res = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(n * 3);
      inFlight--;
      if (n === 4) throw new Error('four');
      if (n === 0) throw new Error('zero'); // (sync-ish throw after await)
      return `${i}:${n}`;
    });
    expect(peak).toBe(2);
    expect(res.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      '0:5',
      '1:1',
      'four',
      '3:2',
      '4:3',
      'zero',
    ]);
  });

  it('handles synchronous throws, empty input and odd limits', async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
    const res = await mapLimit([1, 2], 0, (n) => {
      if (n === 1) throw new Error('sync');
      return n;
    });
    expect(res[0]).toMatchObject({ status: 'rejected' });
    expect(res[1]).toEqual({ status: 'fulfilled', value: 2 });
    expect((await mapLimit([1, 2, 3], Infinity, async (n) => n * 2)).map((r) => r.status === 'fulfilled' && r.value)).toEqual([2, 4, 6]);
  });
});

describe('withDeadline', () => {
  it('resolves in time and rejects (aborting the signal) after the deadline', async () => {
    expect(await withDeadline(200, async () => 'ok')).toBe('ok');
    let seen: AbortSignal | undefined;
    const t0 = Date.now();
    await expect(
      withDeadline(30, (signal) => {
        seen = signal;
        return sleep(1000).then(() => 'late');
      }),
    ).rejects.toBeInstanceOf(DeadlineError);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(seen?.aborted).toBe(true);
    await expect(withDeadline(10, () => sleep(100), { onTimeout: () => new Error('custom') })).rejects.toThrow('custom');
  });

  it('follows a parent signal and passes failures through', async () => {
    const ac = new AbortController();
    const p = withDeadline(1000, () => sleep(500));
    const q = withDeadline(1000, () => sleep(500), { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(q).rejects.toThrow('stop');
    await p;
    await expect(withDeadline(100, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
