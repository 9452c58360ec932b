import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetdoctorError } from '../../../src/errors.js';
import { describeEndpoint, parseInventory, parseJumpSpec, resolveTargets, type ResolveOptions } from '../../../src/ssh/config.js';

let home: string;
const nodes = [
  { name: 'nd1', sshAddress: '10.213.0.11' },
  { name: 'nd2', sshAddress: '10.213.0.12' },
  { name: 'nd3', sshAddress: null },
];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'nd-cfg-'));
  mkdirSync(join(home, '.ssh'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const write = (rel: string, text: string): string => {
  const p = join(home, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const touch = (rel: string) => write(rel, 'not really a key\n');

const base = (extra: ResolveOptions = {}): ResolveOptions => ({
  homedir: home,
  localUser: 'alice',
  env: { HOME: home, KEYDIR: join(home, 'keys') },
  globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts'],
  // The parser (what runs without ssh); conformance.test.ts compares it and `ssh -G` with ssh itself.
  resolver: 'parser',
  systemSshConfigFile: '/nonexistent/ssh_config',
  ...extra,
});

async function usageMessage(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(NetdoctorError);
    expect((err as NetdoctorError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('defaults', () => {
  it('connects to the SSH address as the local user on port 22 with OpenSSH default files', async () => {
    touch('.ssh/id_ed25519');
    const [t1, , t3] = await resolveTargets(nodes, base());
    expect(t1).toMatchObject({
      node: 'nd1',
      name: '10.213.0.11',
      host: '10.213.0.11',
      port: 22,
      user: 'alice',
      identityFiles: [join(home, '.ssh/id_ed25519')],
      knownHostsFiles: [join(home, '.ssh/known_hosts'), join(home, '.ssh/known_hosts2'), '/etc/ssh/ssh_known_hosts'],
      strictHostKeyChecking: 'yes',
      proxyJump: [],
      resolver: 'parser',
      from: { host: 'the name itself', port: 'default', user: 'default (local user)', identityFiles: 'default (~/.ssh/id_*)', proxyJump: 'none' },
    });
    expect(t1?.hostKeyAlias).toBeUndefined();
    // no address: the node name, as `ssh nd3` would
    expect(t3?.host).toBe('nd3');
    expect(describeEndpoint(t1!)).toBe('alice@10.213.0.11');
  });

  it('uses flags over defaults, and --accept-new-host-keys', async () => {
    const key = touch('k');
    const [t] = await resolveTargets(
      nodes.slice(0, 1),
      base({ user: 'root', port: 2222, identity: key, knownHostsFile: '~/kh', acceptNewHostKeys: true }),
    );
    expect(t).toMatchObject({
      user: 'root',
      port: 2222,
      identityFiles: [key],
      knownHostsFiles: [join(home, 'kh'), '/etc/ssh/ssh_known_hosts'],
      strictHostKeyChecking: 'accept-new',
    });
  });

  it('reads ~/.ssh/config only when it exists, and a missing explicit one is an error', async () => {
    const [t] = await resolveTargets(nodes.slice(0, 1), base());
    expect(t?.user).toBe('alice');
    expect(await usageMessage(resolveTargets(nodes, base({ sshConfigFile: join(home, 'nope') })))).toMatch(/nope: no such file/);
  });
});

describe('ssh_config', () => {
  it('applies Host patterns, HostName, User, Port, IdentityFile (~, %h, ${ENV}), known hosts and StrictHostKeyChecking', async () => {
    touch('.ssh/lab_key');
    touch('keys/10.213.0.12');
    write(
      '.ssh/config',
      `
# lab nodes
Host 10.213.0.1? !10.213.0.13
  User labuser
  Port 2200
  IdentityFile ~/.ssh/lab_key
  IdentityFile \${KEYDIR}/%h
  IdentityFile ~/.ssh/missing_key
  UserKnownHostsFile ~/.ssh/lab_known_hosts /dev/null
  StrictHostKeyChecking accept-new

Host nd3
  HostName %h.lab.example
  HostKeyAlias nd3-key
  StrictHostKeyChecking no
  IdentitiesOnly yes
  IdentityAgent none

Host *
  User fallback
  Port 22
  GlobalKnownHostsFile /etc/ssh/lab_global
`,
    );
    const warnings: string[] = [];
    const [t1, t2, t3] = await resolveTargets(nodes, base({ globalKnownHostsFiles: undefined, onWarning: (m) => warnings.push(m) }));
    expect(t1).toMatchObject({
      host: '10.213.0.11',
      user: 'labuser',
      port: 2200,
      identityFiles: [join(home, '.ssh/lab_key')],
      knownHostsFiles: [join(home, '.ssh/lab_known_hosts'), '/dev/null', '/etc/ssh/lab_global'],
      strictHostKeyChecking: 'accept-new',
    });
    expect(t2?.identityFiles).toEqual([join(home, '.ssh/lab_key'), join(home, 'keys/10.213.0.12')]);
    expect(warnings.some((w) => w.includes('missing_key'))).toBe(true);
    expect(t3).toMatchObject({
      name: 'nd3',
      host: 'nd3.lab.example',
      user: 'fallback',
      port: 22,
      hostKeyAlias: 'nd3-key',
      strictHostKeyChecking: 'no',
      identitiesOnly: true,
      identityAgent: null,
      // no IdentityFile matched nd3 and no default ~/.ssh/id_* key exists
      identityFiles: [],
    });
  });

  it('lets flags beat ssh_config, as on the ssh command line', async () => {
    write('.ssh/config', 'Host *\n  User fromconfig\n  Port 2022\n  StrictHostKeyChecking yes\n');
    const [t] = await resolveTargets(nodes.slice(0, 1), base({ user: 'root', port: 22, acceptNewHostKeys: true }));
    expect(t).toMatchObject({ user: 'root', port: 22, strictHostKeyChecking: 'accept-new' });
    const [u] = await resolveTargets(nodes.slice(0, 1), base());
    expect(u).toMatchObject({ user: 'fromconfig', port: 2022 });
  });

  it('resolves a ProxyJump chain, each hop through ssh_config', async () => {
    write(
      '.ssh/config',
      `
Host bastion
  HostName bastion.example.com
  User jumper
  Port 2222

Host inner
  HostName 192.168.50.5
  ProxyJump outer.example.com

Host 10.213.0.*
  ProxyJump bastion,admin@inner:2200
  User root
`,
    );
    const [t] = await resolveTargets(nodes.slice(0, 1), base());
    expect(t?.proxyJump.map((h) => describeEndpoint(h))).toEqual([
      'jumper@bastion.example.com:2222',
      'admin@192.168.50.5:2200', // inner's own ProxyJump is ignored: it is not the first hop
    ]);
    expect(describeEndpoint(t!)).toBe('root@10.213.0.11 via jumper@bastion.example.com:2222, admin@192.168.50.5:2200');

    write('.ssh/config', 'Host inner\n  HostName 192.168.50.5\n  ProxyJump outer.example.com\nHost 10.213.0.*\n  ProxyJump inner\n');
    const [u] = await resolveTargets(nodes.slice(0, 1), base());
    // the first hop's own ProxyJump comes first, as with ssh -J
    expect(u?.proxyJump.map((h) => h.host)).toEqual(['outer.example.com', '192.168.50.5']);
  });

  it('detects ProxyJump loops and refuses ProxyCommand', async () => {
    write('.ssh/config', 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\nHost 10.*\n  ProxyJump a\n');
    expect(await usageMessage(resolveTargets(nodes.slice(0, 1), base()))).toMatch(/loop/);
    write('.ssh/config', 'Host x\n  User y\n\nHost 10.*\n  ProxyCommand nc %h %p\n');
    expect(await usageMessage(resolveTargets(nodes.slice(0, 1), base()))).toMatch(
      new RegExp(`ssh_config ${join(home, '.ssh/config')}:5: ProxyCommand "nc %h %p" \\(used for 10\\.213\\.0\\.11\\) is not supported`),
    );
  });

  it('follows Include (relative to ~/.ssh, with globs)', async () => {
    write('.ssh/config.d/10-lab.conf', 'Host 10.213.0.*\n  User included\n  Port 2201\n');
    write('.ssh/config.d/20-other.conf', 'Host *\n  User never\n');
    write('.ssh/config', 'Include config.d/*.conf\n');
    const [t] = await resolveTargets(nodes.slice(0, 1), base());
    expect(t).toMatchObject({ user: 'included', port: 2201 });
  });

  it('reports bad lines with file and line', async () => {
    const cases: [string, RegExp][] = [
      ['Host a\n  User b\n  Port 99999\n', /:3: Bad port '99999'/],
      ['Host a\n\n  StrictHostKeyChecking maybe\n', /:3: unsupported option "maybe"/],
      ['Host a\n  ProxyJump user@:22\n', /:2: Invalid ProxyJump "user@:22": bad jump host/],
      ['Host a\n  IdentityFile "~/x\n', /:2: invalid quotes/],
      ['Host a\nHost\n', /:2: no argument after keyword "host"/],
      ['Host a\n  Colour blue\n', /:2: Bad configuration option: colour/],
      ['Match hots a\n', /:1: Unsupported Match attribute hots/],
    ];
    for (const [text, re] of cases) {
      const f = write('.ssh/bad', text);
      const msg = await usageMessage(resolveTargets(nodes, base({ sshConfigFile: f })));
      expect(msg).toMatch(new RegExp(`^ssh config ${f}:\\d+: `));
      expect(msg).toMatch(re);
    }
  });
});

describe('inventory', () => {
  it('beats flags and ssh_config; defaults apply to unlisted nodes', async () => {
    touch('keys/nd1');
    touch('keys/all');
    const flagKey = touch('flagkey');
    write('.ssh/config', 'Host *\n  User cfguser\n  Port 2022\n');
    const inv = write(
      'inv.yaml',
      `defaults:
  user: deploy
  identity: keys/all
nodes:
  nd1:
    host: 10.0.0.1
    port: 2201
    user: root
    identity: [keys/nd1]
  nd2: 10.0.0.2
`,
    );
    const warnings: string[] = [];
    const [t1, t2, t3] = await resolveTargets(
      nodes,
      base({ inventoryFile: inv, user: 'flaguser', port: 2300, identity: flagKey, onWarning: (m) => warnings.push(m) }),
    );
    expect(t1).toMatchObject({ node: 'nd1', host: '10.0.0.1', port: 2201, user: 'root' });
    expect(t1?.identityFiles).toEqual([join(home, 'keys/nd1'), flagKey]);
    expect(t2).toMatchObject({ host: '10.0.0.2', port: 2300, user: 'deploy' });
    expect(t2?.identityFiles).toEqual([join(home, 'keys/all'), flagKey]);
    expect(t3).toMatchObject({ host: 'nd3', user: 'deploy', port: 2300 });
    expect(warnings).toEqual([]);
  });

  it('resolves jumps that name swarm nodes, drops self-jumps, and warns about unknown nodes', async () => {
    write('.ssh/config', 'Host bastion\n  HostName 198.51.100.7\n  User ops\n');
    const inv = write(
      'inv.yaml',
      `defaults:
  user: root
  jump: nd1
nodes:
  nd1: { host: 10.213.0.11 }
  nd3: { host: 10.213.0.13, jump: "bastion,nd1" }
  ghost: { host: 10.9.9.9 }
  nd2: { jump: none }
`,
    );
    const warnings: string[] = [];
    const [t1, t2, t3] = await resolveTargets(nodes, base({ inventoryFile: inv, onWarning: (m) => warnings.push(m) }));
    expect(t1?.proxyJump).toEqual([]); // nd1 via nd1 is just nd1
    expect(t2?.proxyJump).toEqual([]);
    expect(t3?.proxyJump.map((h) => describeEndpoint(h))).toEqual(['ops@198.51.100.7', 'root@10.213.0.11']);
    expect(warnings).toEqual([`inventory ${inv}:7: node "ghost" is not in the swarm; ignored`]);

    const inv2 = write('inv2.yaml', 'defaults: { user: root, jump: nd1 }\n');
    const [, u2] = await resolveTargets(nodes, base({ inventoryFile: inv2 }));
    expect(u2?.proxyJump.map((h) => describeEndpoint(h))).toEqual(['root@10.213.0.11']);
  });

  it('reports errors with file and line', async () => {
    const cases: [string, RegExp][] = [
      ['nodes:\n  nd1:\n    hots: 10.0.0.1\n', /:3: unknown key "hots" in node "nd1"/],
      ['nodes:\n  nd1:\n    port: 70000\n', /:3: node "nd1" port must be a number/],
      ['nodes:\n  nd1: [a, b]\n', /:2: node "nd1" must be a mapping/],
      ['defaults:\n  host: x\n', /:2: unknown key "host" in defaults/],
      ['nodes:\n  nd1:\n    jump: "root@"\n', /:3: node "nd1" jump: bad jump host/],
      ['nodes:\n  nd1:\n    jump: [none, a]\n', /:3: .*"none" cannot be combined/],
      ['nodez: {}\n', /:1: unknown top-level key "nodez"/],
      ['nodes:\n  nd1: {host: a\n', /inventory inline:\d+: /],
      ['nodes:\n  nd1: a\n  nd1: b\n', /:3: .*unique/],
      ['- a\n- b\n', /:1: expected a mapping/],
      ['nodes:\n  nd1: root@10.0.0.1\n', /:2: node "nd1" host "root@10.0.0.1" must be a bare host name/],
      ['nodes:\n  nd1:\n    host: 10.0.0.1:2222\n', /:3: node "nd1" host "10.0.0.1:2222" must not carry a port/],
    ];
    for (const [text, re] of cases) {
      expect(await usageMessage(() => parseInventory(text, 'inline')), text).toMatch(re);
    }
    expect(await usageMessage(resolveTargets(nodes, base({ inventoryFile: join(home, 'none.yaml') })))).toMatch(/none\.yaml: no such file/);
    const inv = write('inv.yaml', 'nodes:\n  nd1:\n    identity: keys/missing\n');
    expect(await usageMessage(resolveTargets(nodes, base({ inventoryFile: inv })))).toMatch(
      new RegExp(`identity file ${join(home, 'keys/missing')} \\(node "nd1" in ${inv}:3\\) does not exist`),
    );
  });

  it('accepts an empty inventory', () => {
    expect(parseInventory('', 'x').nodes.size).toBe(0);
    expect(parseInventory('# nothing\n', 'x').nodes.size).toBe(0);
  });
});

describe('parseJumpSpec', () => {
  it('parses ProxyJump syntax', () => {
    expect(parseJumpSpec('none')).toBe('none');
    expect(parseJumpSpec('a')).toEqual([{ host: 'a' }]);
    expect(parseJumpSpec('u@a:2222, b')).toEqual([{ user: 'u', host: 'a', port: 2222 }, { host: 'b' }]);
    expect(parseJumpSpec('ssh://u@[fe80::1]:22')).toEqual([{ user: 'u', host: 'fe80::1', port: 22 }]);
    expect(parseJumpSpec('fe80::1')).toEqual([{ host: 'fe80::1' }]);
    expect(() => parseJumpSpec('a:0')).toThrow(/bad port/);
    expect(() => parseJumpSpec('a,,b')).toThrow(/empty/);
  });
});
