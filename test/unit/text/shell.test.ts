/**
 * The shell-quoting helper against a real /bin/sh: every quoted line must
 * parse (`sh -n`) and, run as `printf '%s\n' <words>`, echo back exactly the
 * intended argv, for names an attacker would pick.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nameArg, placeholderNotes, shcmd, shq, shqAlways } from '../../../src/text/shell.js';

const HOSTILE = [
  'nd3;touch${IFS}/tmp/PWNED;#',
  '$(id)',
  '`id`',
  'a\nb',
  "it's",
  '"double"',
  "'",
  "''",
  '',
  ' ',
  'a b\tc',
  '*',
  '~root',
  '-rf',
  'a|b&&c>d<e',
  '\\',
  'x\u001b[2J\u001b]8;;http://evil\u0007y',
  '!!',
  '{a,b}',
  '#comment',
  'ü-ñode',
];

const dir = mkdtempSync(join(tmpdir(), 'nd-shq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** argv of `printf '%s\0' <line>` as a real sh runs it, in a scratch directory. */
function argvOf(words: string): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words}`], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
  const parts = out.toString('utf8').split('\0');
  parts.pop();
  return parts;
}

describe('shq', () => {
  it('leaves plain names alone and quotes anything a shell would interpret', () => {
    expect(shq('nd1')).toBe('nd1');
    expect(shq('worker-2.example.com')).toBe('worker-2.example.com');
    expect(shq('10.0.0.1/24')).toBe('10.0.0.1/24');
    expect(shq('/var/run/docker/netns/1-abc')).toBe('/var/run/docker/netns/1-abc');
    expect(shq('nd3;touch${IFS}/tmp/PWNED;#')).toBe("'nd3;touch${IFS}/tmp/PWNED;#'");
    expect(shq("it's")).toBe("'it'\\''s'");
    expect(shq('')).toBe("''");
    expect(shqAlways('nd1')).toBe("'nd1'");
  });

  for (const name of HOSTILE) {
    it(`round-trips ${JSON.stringify(name)} through sh -n and sh -c as one argument`, () => {
      const line = `docker node rm ${shq(name)}`;
      execFileSync('sh', ['-n', '-c', line]);
      expect(argvOf(shq(name))).toEqual([name]);
      expect(argvOf(`${shq(name)} ${shq(name)} x`)).toEqual([name, name, 'x']);
    });
  }

  it('runs nothing when a quoted hostile line is pasted', () => {
    const marker = join(dir, 'PWNED');
    const name = `nd3;touch${'${IFS}'}${marker};#`;
    const line = shcmd`printf '%s\n' ${name} ${'$(touch ' + marker + ')'} ${'`touch ' + marker + '`'}`;
    const out = execFileSync('sh', ['-c', line], { cwd: dir }).toString();
    expect(out.split('\n').slice(0, 3)).toEqual([name, `$(touch ${marker})`, `\`touch ${marker}\``]);
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('shcmd quotes each value and keeps the literal parts', () => {
    expect(shcmd`docker node demote ${'nd1'}`).toBe('docker node demote nd1');
    expect(shcmd`nc -zv ${'a b'} ${7946}`).toBe("nc -zv 'a b' 7946");
    const argv = execFileSync('sh', ['-c', `set -- ${shcmd`${'$(id)'} ${'a\nb'}`}; printf '%s\\0' "$@"`])
      .toString()
      .split('\0');
    expect(argv.slice(0, 2)).toEqual(['$(id)', 'a\nb']);
  });
});

describe('nameArg', () => {
  it('quotes plausible names', () => {
    expect(nameArg('nd1', 'node')).toEqual({ arg: 'nd1', reason: null });
    expect(nameArg('my_net.v2', 'network')).toEqual({ arg: 'my_net.v2', reason: null });
    expect(nameArg('10.213.0.12', 'ip')).toEqual({ arg: '10.213.0.12', reason: null });
    expect(nameArg('fe80::1', 'ip')).toEqual({ arg: 'fe80::1', reason: null });
  });

  it('replaces an implausible name by a placeholder with the reason, control characters escaped', () => {
    const a = nameArg('nd3;touch${IFS}/tmp/PWNED;#', 'node');
    expect(a.arg).toBe("'<node-name>'");
    expect(a.reason).toMatch(/^<node-name> stands for /);
    expect(a.reason).toContain('not a hostname');
    const b = nameArg('evil\u001b[2Jname', 'network');
    expect(b.arg).toBe("'<network>'");
    expect(b.reason).toContain('\\x1b[2J');
    expect(b.reason).not.toMatch(/\u001b/);
    expect(nameArg('-rf', 'node').arg).toBe("'<node-name>'");
    expect(nameArg('eth0;reboot', 'interface').arg).toBe("'<interface>'");
    expect(placeholderNotes([a, nameArg('nd1', 'node')])).toBe(` (${a.reason})`);
    expect(placeholderNotes([])).toBe('');
  });

  it('still parses as the intended command with a placeholder (sh -n), the placeholder one literal argument', () => {
    const a = nameArg('$(id)', 'node');
    execFileSync('sh', ['-n', '-c', `docker node rm ${a.arg}`]);
    expect(argvOf(`node rm ${a.arg}`)).toEqual(['node', 'rm', '<node-name>']);
  });
});
