/**
 * The pieces of the ssh_config reader and of the `ssh -G` resolver that the
 * conformance suite does not isolate: lexing, pattern matching bounds,
 * service ports, `ssh -G` output (recorded from OpenSSH 9.2, config in
 * test/fixtures/ssh/ssh-G-web.config), resolver choice and `-v` lines.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetdoctorError } from '../../../src/errors.js';
import { chooseResolver, describeResolution, resolveTargets } from '../../../src/ssh/config.js';
import { parseSshG, splitKnownHostsLine, sshG, sshGArgs } from '../../../src/ssh/openssh.js';
import { a2port, argvSplit, matchPattern, matchPatternList, SshConfigReader } from '../../../src/ssh/readconf.js';

const fixture = (f: string) => readFileSync(new URL(`../../fixtures/ssh/${f}`, import.meta.url), 'utf8');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nd-readconf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lexing (argv_split)', () => {
  it('splits like OpenSSH: quotes, escapes, comments', () => {
    expect(argvSplit('"~/keys/my key" kh2')).toEqual(['~/keys/my key', 'kh2']);
    expect(argvSplit("'a b'c d\\ e # comment")).toEqual(['a bc', 'd e']);
    expect(argvSplit('a\\"b \\\\x')).toEqual(['a"b', '\\x']);
    expect(argvSplit('"unterminated')).toBeNull();
    expect(argvSplit('   ')).toEqual([]);
  });
});

describe('patterns (match.c)', () => {
  it('? is exactly one character, * any run, case-sensitive', () => {
    expect(matchPattern('web', 'web?')).toBe(false);
    expect(matchPattern('web1', 'web?')).toBe(true);
    expect(matchPattern('node-1', 'node-??')).toBe(false);
    expect(matchPattern('Node1', 'node1')).toBe(false);
    expect(matchPattern('a.b.c', '*.c')).toBe(true);
    expect(matchPattern('', '*')).toBe(true);
  });

  it('pattern lists: negation wins, Match lower-cases', () => {
    expect(matchPatternList('10.5.0.7', '10.5.0.*,!10.5.0.7', true)).toBe(-1);
    expect(matchPatternList('10.5.0.6', '10.5.0.*,!10.5.0.7', true)).toBe(1);
    expect(matchPatternList('web', 'WEB', true)).toBe(1);
    expect(matchPatternList('web', 'WEB', false)).toBe(0);
  });

  it('stays polynomial on patterns that make recursive matchers (OpenSSH included) blow up', () => {
    const started = process.hrtime.bigint();
    expect(matchPattern('a'.repeat(5000), `${'*a'.repeat(200)}b`)).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});

describe('ports', () => {
  it('takes numbers and tcp service names from /etc/services', () => {
    expect(a2port('2222')).toBe(2222);
    expect(a2port('ssh')).toBe(22);
    expect(a2port('70000')).toBeNull();
    expect(a2port('no-such-service')).toBeNull();
  });
});

describe('reader', () => {
  const pw = () => ({ name: 'alice', dir, uid: 1000 });
  it('does not run Match exec without ssh, and says so', async () => {
    const f = join(dir, 'cfg');
    writeFileSync(f, 'Match exec "true"\n  User fromexec\nHost *\n  User other\n');
    const warnings: string[] = [];
    const r = new SshConfigReader([{ path: f, required: true, system: false, checkPerm: false }], { pw: pw(), onWarning: (m) => warnings.push(m) });
    expect((await r.evaluate('web')).user).toBe('other');
    expect(warnings).toEqual([`ssh config ${f}:1: "Match exec" is not run without ssh; treated as not matching`]);
  });

  it('refuses a ~/.ssh/config writable by others, like ssh', () => {
    const f = join(dir, 'config');
    writeFileSync(f, 'Host *\n  User x\n');
    chmodSync(f, 0o666);
    expect(() => new SshConfigReader([{ path: f, required: false, system: false, checkPerm: true }], { pw: pw() })).toThrow(
      /bad owner or permissions/,
    );
  });

  it('refuses host names and users with shell metacharacters (ssh.c valid_hostname / valid_ruser)', async () => {
    const r = new SshConfigReader([], { pw: pw() });
    await expect(r.evaluate('$(id)')).rejects.toThrow(/contains invalid characters/);
    await expect(r.evaluate('-oProxyCommand=x')).rejects.toThrow(/contains invalid characters/);
    await expect(r.evaluate('web', { user: 'a;b' })).rejects.toThrow(/remote username/);
  });
});

describe('ssh -G output', () => {
  it('parses what OpenSSH 9.2 printed for the fixture config', () => {
    const g = parseSshG(fixture('ssh-G-web.txt'));
    expect(g).toMatchObject({
      hostname: '10.1.2.3',
      port: 2222,
      user: 'ops',
      identityFiles: ['~/.ssh/web_%h'],
      proxyJump: 'admin@[fd00::1]:2200,bastion',
      userKnownHostsLine: '/root/.ssh/kh_10.1.2.3',
      globalKnownHostsLine: '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2',
      strictHostKeyChecking: 'accept-new',
      hostKeyAlias: 'webkey',
      identityAgent: 'none',
      identitiesOnly: false,
    });
    expect(g.proxyCommand).toBeUndefined();
  });

  it('an ssh -G that hangs (a Match exec) is a bounded usage error', async () => {
    const started = Date.now();
    await expect(sshG('web', { command: ['sh', '-c', 'sleep 5', 'sh'], timeoutMs: 300 })).rejects.toThrow(/^ssh -G web did not answer within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('builds argv with -- before the host', () => {
    expect(sshGArgs('-oProxyCommand=x', { configFile: '/c', user: 'u', port: 2, identities: ['/k'] })).toEqual([
      '-G',
      '-F',
      '/c',
      '-l',
      'u',
      '-p',
      '2',
      '-i',
      '/k',
      '--',
      '-oProxyCommand=x',
    ]);
  });

  it('splits space-joined known-hosts lines, trusting the parser when a path has a space', () => {
    const pw = { name: 'root', dir: '/root', uid: 0 };
    expect(splitKnownHostsLine('/root/.ssh/known_hosts /root/.ssh/known_hosts2', pw)).toEqual(['/root/.ssh/known_hosts', '/root/.ssh/known_hosts2']);
    expect(splitKnownHostsLine('/root/known hosts /root/kh2', pw, ['~/known hosts', '~/kh2'])).toEqual(['/root/known hosts', '/root/kh2']);
    expect(splitKnownHostsLine('none', pw)).toEqual([]);
  });

  it('a config ssh refuses is a one-line usage error quoting ssh', async () => {
    if (chooseResolver({}).kind !== 'ssh -G') return;
    const f = join(dir, 'cfg');
    writeFileSync(f, 'Host a\n  Colour blue\n');
    const err = await resolveTargets([{ name: 'n', sshAddress: '10.0.0.1' }], { sshConfigFile: f, resolver: 'ssh' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetdoctorError);
    expect((err as NetdoctorError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(new RegExp(`^ssh -G 10\\.0\\.0\\.1: ${f}: line 2: Bad configuration option: colour$`));
  });
});

describe('resolver choice and -v', () => {
  it('uses ssh -G when ssh is on PATH, the parser otherwise or when asked', () => {
    expect(chooseResolver({ env: { PATH: dir } }).kind).toBe('parser');
    expect(chooseResolver({ env: { PATH: '/usr/bin:/bin', NETDOCTOR_SSH_RESOLVER: 'parser' } }).kind).toBe('parser');
    expect(() => chooseResolver({ env: { PATH: dir, NETDOCTOR_SSH_RESOLVER: 'ssh' } })).toThrow(/no ssh binary/);
  });

  it('prints each value with where it came from', async () => {
    const f = join(dir, 'cfg');
    writeFileSync(f, 'Host web\n  HostName 10.1.2.3\n  Port 2222\n  ProxyJump bastion\n');
    const [t] = await resolveTargets([{ name: 'nd1', sshAddress: 'web' }], {
      sshConfigFile: f,
      resolver: 'parser',
      user: 'ops',
      homedir: dir,
      localUser: 'alice',
      globalKnownHostsFiles: [],
    });
    expect(describeResolution(t!)).toEqual([
      // --ssh-user is for the nodes; a jump host that is not a node gets its user as `ssh -J` would
      'nd1: ops@10.1.2.3:2222 via alice@bastion (resolved with parser)',
      `  host 10.1.2.3 <- ssh_config ${f}:2`,
      `  port 2222 <- ssh_config ${f}:3`,
      '  user ops <- from the command line',
      '  identity (agent only) <- default (~/.ssh/id_*)',
      `  known hosts ${dir}/.ssh/known_hosts, ${dir}/.ssh/known_hosts2 <- default`,
      '  host keys yes <- default',
      `  jump alice@bastion <- ssh_config ${f}:4`,
    ]);
  });
});
