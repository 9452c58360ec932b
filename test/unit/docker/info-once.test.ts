/** docker/info-once.ts: GET /info asked once per run when the answer is fresh. */
import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { infoOnce, rememberInfo } from '../../../src/docker/info-once.js';

const client = () => {
  let asked = 0;
  const docker = { info: () => Promise.resolve({ asked: ++asked }) } as unknown as Dockerode;
  return { docker, asked: () => asked };
};

afterEach(() => vi.useRealTimers());

describe('infoOnce', () => {
  it('takes the answer requireSwarmManager remembered, once; then asks again', async () => {
    const c = client();
    rememberInfo(c.docker, { remembered: true });
    expect(await infoOnce(c.docker)).toEqual({ remembered: true });
    expect(c.asked()).toBe(0);
    expect(await infoOnce(c.docker)).toEqual({ asked: 1 });
  });

  it('asks again when the remembered answer is older than 5 s, or belongs to another client', async () => {
    vi.useFakeTimers();
    const c = client();
    rememberInfo(c.docker, { remembered: true });
    vi.advanceTimersByTime(5001);
    expect(await infoOnce(c.docker)).toEqual({ asked: 1 });
    const other = client();
    rememberInfo(c.docker, { remembered: true });
    expect(await infoOnce(other.docker)).toEqual({ asked: 1 });
  });
});
