import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shq } from '../../src/text/shell.js';

const HOSTILE = ['nd3;touch${IFS}/tmp/PWNED;#', '$(id)', '`id`', "it's", 'a b', 'x\ny', '', '-rf', '"quoted"', '\\', '*', '~root', 'a|b&c>d<e'];

describe('shq', () => {
  it('leaves plain names alone', () => {
    for (const s of ['nd1', 'web.1.abc', '10.213.0.11', 'lb_aweos9uhr', '/var/run/docker/netns/1-abc', 'a=b']) expect(shq(s)).toBe(s);
  });
  it.each(HOSTILE)('a real sh reads %j back as exactly one argument', (s) => {
    const r = spawnSync('sh', ['-c', `printf '%s\\0' ${shq(s)}`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${s}\0`);
  });
});
