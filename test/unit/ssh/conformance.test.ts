/**
 * ssh_config conformance: every scenario is resolved three ways and compared:
 *   - OpenSSH itself (`ssh -G`, plus `ssh -G` for each jump hop): the oracle;
 *   - netdoctor with the `ssh -G` resolver;
 *   - netdoctor with its built-in parser (what runs when no ssh is installed).
 * Each scenario runs in a throwaway home: ssh takes ~ from the passwd entry,
 * not $HOME, so ssh runs in a private mount namespace whose /etc/passwd gives
 * root that home (unshare -m as root, unshare -Urm otherwise).
 * Compared: host, port, user, identity files (that exist), jump chain,
 * known-hosts files and host-key policy; where ssh refuses the config (or a
 * ProxyCommand is in use), netdoctor must refuse with exit 2.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetdoctorError } from '../../../src/errors.js';
import { resolveTargets, type ResolveOptions, type SshTarget } from '../../../src/ssh/config.js';
import { parseSshG } from '../../../src/ssh/openssh.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const unshare = isRoot ? ['unshare', '-m', '--'] : ['unshare', '-Urm', '--'];
const wrapper = (passwd: string) => [...unshare, 'sh', '-c', 'mount --bind "$0" /etc/passwd && exec ssh "$@"', passwd];

function probe(): string | null {
  const v = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  if (v.status !== 0) return 'no ssh binary';
  const dir = mkdtempSync(join(tmpdir(), 'nd-conf-probe-'));
  try {
    writeFileSync(join(dir, 'passwd'), `root:x:0:0:root:${dir}:/bin/sh\n`);
    const r = spawnSync(wrapper(join(dir, 'passwd'))[0]!, [...wrapper(join(dir, 'passwd')).slice(1), '-G', '-F', 'none', 'x'], { encoding: 'utf8' });
    if (r.status !== 0) return `cannot give ssh a throwaway home: ${r.stderr.split('\n')[0]}`;
    return /userknownhostsfile .*\/\.ssh\/known_hosts/.test(r.stdout) && r.stdout.includes(dir) ? null : 'ssh did not take the throwaway home';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const unavailable = probe();

interface Scenario {
  name: string;
  /** Contents of the config passed with -F (ignored with `noF`). */
  config: string;
  /** The node's address: what netdoctor types after ssh. */
  host: string;
  /** Extra files under the home (keys, includes); '600:' prefix for mode. */
  files?: Record<string, string>;
  /** netdoctor flags that map to ssh -l / -p. */
  user?: string;
  port?: number;
  /** Write the config to ~/.ssh/config and pass no -F (system config read too). */
  noF?: boolean;
}

const KEY = 'not really a key\n';

const scenarios: Scenario[] = [
  // -- basics
  { name: 'no config at all: defaults', config: '', host: '10.1.0.1' },
  { name: 'Host alias with HostName, User, Port', config: 'Host web\n  HostName 10.1.0.2\n  User deploy\n  Port 2222\n', host: 'web' },
  { name: 'first value wins across blocks', config: 'Host web\n  User a\nHost *\n  User b\n  Port 2200\n', host: 'web' },
  { name: 'Host * first overrides later specific blocks', config: 'Host *\n  User early\nHost web\n  User late\n', host: 'web' },
  { name: 'keyword case and = separator', config: 'HOST web\n  hostNAME=10.1.0.3\n  user = ops\n  PORT 2201\n', host: 'web' },
  { name: 'options before any Host apply to all', config: 'User top\nHost web\n  User inner\n', host: 'web' },
  { name: 'comments and blank lines', config: '# c\n\nHost web # trailing\n  # x\n  User u1 # comment\n', host: 'web' },
  // -- quoting
  { name: 'quoted IdentityFile with a space', config: 'Host web\n  IdentityFile "~/keys/my key"\n', host: 'web', files: { 'keys/my key': KEY } },
  { name: 'quoted UserKnownHostsFile list with a space', config: 'Host web\n  UserKnownHostsFile "~/known hosts" ~/kh2\n', host: 'web' },
  {
    name: 'single quotes and escaped space',
    config: "Host web\n  IdentityFile '~/keys/a b'\n  IdentityFile ~/keys/c\\ d\n",
    host: 'web',
    files: { 'keys/a b': KEY, 'keys/c d': KEY },
  },
  { name: 'quoted Host pattern', config: 'Host "web"\n  User quoted\n', host: 'web' },
  { name: 'unterminated quote refuses the file', config: 'Host web\n  User "oops\n', host: 'web' },
  // -- patterns
  { name: '? matches exactly one character (no match on web)', config: 'Host web?\n  User q\n', host: 'web' },
  { name: '? matches exactly one character (web1)', config: 'Host web?\n  User q\n', host: 'web1' },
  { name: 'node-?? does not catch node-1', config: 'Host node-??\n  User two\nHost *\n  User other\n', host: 'node-1' },
  { name: 'node-?? catches node-12', config: 'Host node-??\n  User two\n', host: 'node-12' },
  { name: 'star patterns', config: 'Host *.lab.example 10.2.*\n  User lab\n', host: '10.2.0.7' },
  { name: 'negated Host pattern vetoes', config: 'Host 10.3.0.* !10.3.0.9\n  User lab\n', host: '10.3.0.9' },
  { name: 'negation does not veto others', config: 'Host 10.3.0.* !10.3.0.9\n  User lab\n', host: '10.3.0.8' },
  { name: 'Host a,b is literal (no match for a)', config: 'Host a,b\n  User comma\n', host: 'a' },
  { name: 'Host a,b is literal (matches "a,b")', config: 'Host a,b\n  User comma\n', host: 'a,b' },
  { name: 'Host is case-sensitive (Node1 vs node1)', config: 'Host Node1\n  User upper\n', host: 'node1' },
  { name: 'Host is case-sensitive (Node1 matches)', config: 'Host Node1\n  User upper\n  HostName 10.4.0.1\n', host: 'Node1' },
  { name: 'star in the middle', config: 'Host node-*-prod\n  User prod\n', host: 'node-7-prod' },
  { name: 'host with shell metacharacters is refused like ssh', config: '', host: 'web;id' },
  // -- Match
  {
    name: 'Match host sees HostName (spelled Hostname)',
    config: 'Host web\n  Hostname 10.5.0.1\nMatch host 10.5.0.*\n  User matched\n',
    host: 'web',
  },
  { name: 'Match host sees HostName %h', config: 'Host web\n  HostName %h.lab.example\nMatch host *.lab.example\n  Port 2202\n', host: 'web' },
  { name: 'Match negated host', config: 'Match !host bastion\n  User notbastion\n', host: '10.5.0.2' },
  { name: 'Match negated host (the bastion itself)', config: 'Match !host bastion\n  User notbastion\nHost bastion\n  User b\n', host: 'bastion' },
  {
    name: 'Match originalhost and user',
    config: 'Host web\n  HostName 10.5.0.3\n  User ops\nMatch originalhost web user ops\n  Port 2203\n',
    host: 'web',
  },
  { name: 'Match user sees -l from the command line', config: 'Match user admin\n  Port 2204\n', host: '10.5.0.4', user: 'admin' },
  { name: 'Match localuser', config: 'Match localuser root\n  User fromlocal\n', host: '10.5.0.5' },
  { name: 'Match all', config: 'Match all\n  User everyone\n', host: '10.5.0.6' },
  { name: 'Match host list with negation', config: 'Match host 10.5.0.*,!10.5.0.7\n  User listed\n', host: '10.5.0.7' },
  { name: 'Match final triggers a second pass', config: 'Match final host 10.5.0.8\n  User final\n', host: '10.5.0.8' },
  { name: 'Match canonical only on the final pass', config: 'Match canonical\n  User canon\nHost *\n  CanonicalizeHostname yes\n', host: 'web' },
  { name: 'bad Match attribute refuses the file', config: 'Match colour blue\n  User x\n', host: 'web' },
  // -- canonicalization
  {
    name: 'CanonicalizeHostname re-reads with the HostName',
    config: 'Host web\n  HostName Web.Internal\n  CanonicalizeHostname yes\nHost web.internal\n  User deploy\n  Port 2205\n',
    host: 'web',
  },
  { name: 'no re-read without CanonicalizeHostname', config: 'Host web\n  HostName web.internal\nHost web.internal\n  User deploy\n', host: 'web' },
  // -- Include
  {
    name: 'top-level Include',
    config: 'Include conf.d/*.conf\nHost *\n  User after\n',
    host: 'web',
    files: { '.ssh/conf.d/10-web.conf': 'Host web\n  User included\n  Port 2206\n' },
  },
  {
    name: 'Include inside a Host block is scoped to it',
    config: 'Host web\n  Port 2207\nHost bastion\n  Include conf.d/*\n',
    host: 'web',
    files: { '.ssh/conf.d/x': 'User leaked\nPort 2299\nHost *\n  User starred\n' },
  },
  {
    name: 'Include inside the matching Host block applies',
    config: 'Host bastion\n  Include conf.d/*\n',
    host: 'bastion',
    files: { '.ssh/conf.d/x': 'User inner\nHost *\n  Port 2208\n' },
  },
  { name: 'Include of a missing glob is fine', config: 'Include nothing-here/*\nHost web\n  User ok\n', host: 'web' },
  { name: 'Include absolute and ~ paths', config: 'Include ~/extra.conf\n', host: 'web', files: { 'extra.conf': 'Host web\n  User tilde\n' } },
  // -- proxies
  {
    name: 'ProxyJump chain with users and ports',
    config: 'Host web\n  HostName 10.6.0.1\n  ProxyJump jumpuser@bastion:2222,10.6.0.254\n',
    host: 'web',
  },
  {
    name: 'first hop has its own ProxyJump',
    config: 'Host web\n  ProxyJump b2\nHost b2\n  HostName 10.6.0.2\n  ProxyJump outer\nHost outer\n  User o\n',
    host: 'web',
  },
  { name: 'ProxyJump none first disables a later one', config: 'Host web\n  ProxyJump none\nHost *\n  ProxyJump bastion\n', host: 'web' },
  { name: 'ProxyCommand none first beats a later ProxyJump', config: 'Host web\n  ProxyCommand none\nHost *\n  ProxyJump bastion\n', host: 'web' },
  {
    name: 'ProxyCommand first wins over a wildcard ProxyJump: refused',
    config: 'Host web\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump bastion\n',
    host: 'web',
  },
  {
    name: 'ProxyJump first wins over a later ProxyCommand',
    config: 'Host web\n  ProxyJump bastion\nMatch host web\n  ProxyCommand nc %h %p\n',
    host: 'web',
  },
  { name: 'a jump host reached by ProxyCommand: refused', config: 'Host web\n  ProxyJump bastion\nHost *\n  ProxyCommand nc %h %p\n', host: 'web' },
  { name: 'ssh:// ProxyJump URI', config: 'Host web\n  ProxyJump ssh://ops@bastion:2022\n', host: 'web' },
  { name: 'IPv6 jump host in brackets', config: 'Host web\n  ProxyJump [fd00::1]:2222\n', host: 'web' },
  // -- ports
  { name: 'Port ssh (a service name)', config: 'Host web\n  Port ssh\n', host: 'web' },
  { name: 'Port ssh elsewhere does not refuse the file', config: 'Host other\n  Port ssh\nHost web\n  Port 2209\n', host: 'web' },
  { name: 'bad Port refuses the file', config: 'Host other\n  Port nope\n', host: 'web' },
  { name: '-p on the command line beats Port', config: 'Host web\n  Port 2210\n', host: 'web', port: 2022 },
  { name: '-l on the command line beats User', config: 'Host web\n  User cfg\n', host: 'web', user: 'cli' },
  // -- identities
  {
    name: 'default identities include id_ecdsa_sk and id_ed25519_sk',
    config: '',
    host: 'web',
    files: { '.ssh/id_ecdsa_sk': KEY, '.ssh/id_ed25519_sk': KEY, '.ssh/id_rsa': KEY },
  },
  {
    name: 'IdentityFile accumulates across blocks, tokens expanded',
    config: 'Host web\n  HostName 10.7.0.1\n  IdentityFile ~/keys/%h\n  IdentityFile %d/keys/%r-%p\nHost *\n  IdentityFile ~/keys/all\n  User ops\n',
    host: 'web',
    files: { 'keys/10.7.0.1': KEY, 'keys/ops-22': KEY, 'keys/all': KEY },
  },
  {
    name: 'configured IdentityFile disables defaults',
    config: 'Host web\n  IdentityFile ~/keys/only\n',
    host: 'web',
    files: { 'keys/only': KEY, '.ssh/id_ed25519': KEY },
  },
  // -- known hosts and host key policy
  {
    name: 'UserKnownHostsFile with tokens, GlobalKnownHostsFile',
    config: 'Host web\n  HostName 10.8.0.1\n  UserKnownHostsFile ~/.ssh/kh_%h ~/.ssh/kh_%n\n  GlobalKnownHostsFile /etc/ssh/lab_known_hosts\n',
    host: 'web',
  },
  { name: 'UserKnownHostsFile none', config: 'Host web\n  UserKnownHostsFile none\n', host: 'web' },
  { name: 'StrictHostKeyChecking values', config: 'Host web\n  StrictHostKeyChecking accept-new\n', host: 'web' },
  { name: 'StrictHostKeyChecking off', config: 'Host web\n  StrictHostKeyChecking off\n', host: 'web' },
  { name: 'StrictHostKeyChecking bad value refuses the file', config: 'Host other\n  StrictHostKeyChecking perhaps\n', host: 'web' },
  { name: 'HostKeyAlias (lower-cased like ssh)', config: 'Host web\n  HostKeyAlias Web-Key\n', host: 'web' },
  // -- errors and unknowns
  { name: 'unknown keyword refuses the file', config: 'Host other\n  Frobnicate yes\n', host: 'web' },
  { name: 'IgnoreUnknown lets it pass', config: 'IgnoreUnknown Frob*\nHost web\n  Frobnicate yes\n  User ignored\n', host: 'web' },
  { name: 'keyword without a value refuses the file', config: 'Host web\n  User\n', host: 'web' },
  { name: 'extra arguments refuse the file', config: 'Host web\n  User a b\n', host: 'web' },
  // -- no -F: ~/.ssh/config then /etc/ssh/ssh_config
  { name: 'default ~/.ssh/config and the system file', config: 'Host web\n  User home\n  HostName 10.9.0.1\n', host: 'web', noF: true },
];

interface Expected {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  knownHosts: string;
  strict: string;
  hostKeyAlias: string | undefined;
  jump: { host: string; port: number; user: string }[];
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function setup(s: Scenario) {
  const home = mkdtempSync(join(tmpdir(), 'nd-conf-'));
  roots.push(home);
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  const passwd = join(home, 'passwd');
  const others = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('root:'));
  writeFileSync(passwd, [`root:x:0:0:root:${home}:/bin/sh`, ...others].join('\n') + '\n');
  for (const [rel, text] of Object.entries(s.files ?? {})) {
    const p = join(home, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    chmodSync(p, 0o600);
  }
  const cfg = s.noF ? join(home, '.ssh', 'config') : join(home, 'test_config');
  writeFileSync(cfg, s.config);
  chmodSync(cfg, 0o600);
  return { home, passwd, cfg, command: wrapper(passwd) };
}

/** `ssh -G` through the namespace wrapper; null when ssh refuses. */
function oracleG(command: string[], home: string, host: string, o: { cfg?: string; user?: string; port?: number }) {
  const args = ['-G'];
  if (o.cfg) args.push('-F', o.cfg);
  if (o.user) args.push('-l', o.user);
  if (o.port) args.push('-p', String(o.port));
  args.push('--', host);
  // glob(3) expands ~ in Include from $HOME: the throwaway home is $HOME too.
  const r = spawnSync(command[0]!, [...command.slice(1), ...args], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, HOME: home } });
  return r.status === 0 ? parseSshG(r.stdout) : null;
}

const hopRe = /^(?:ssh:\/\/)?(?:(.+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/;

/** The oracle's reading of a target: ssh -G for it and each hop (first hop's own jump recursively, like ssh -J). */
function oracle(s: Scenario, env: ReturnType<typeof setup>): Expected | 'refused' {
  const cfg = s.noF ? undefined : env.cfg;
  const g = oracleG(env.command, env.home, s.host, {
    ...(cfg ? { cfg } : {}),
    ...(s.user ? { user: s.user } : {}),
    ...(s.port ? { port: s.port } : {}),
  });
  if (!g) return 'refused';
  if (g.proxyJump === undefined && g.proxyCommand !== undefined && g.proxyCommand !== 'none') return 'refused';
  let hopByCommand = false;
  const chain = (spec: string, depth: number): Expected['jump'] => {
    const hops = spec.split(',');
    const out: Expected['jump'] = [];
    for (const [i, raw] of hops.entries()) {
      const m = hopRe.exec(raw)!;
      const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
      const hg = oracleG(env.command, env.home, host, {
        ...(cfg ? { cfg } : {}),
        ...(m[1] ? { user: m[1] } : {}),
        ...(m[3] ? { port: Number(m[3]) } : {}),
      })!;
      if (i === 0 && hg.proxyJump && depth < 8) out.push(...chain(hg.proxyJump, depth + 1));
      // ssh would reach this first hop through its ProxyCommand: netdoctor must refuse.
      else if (i === 0 && hg.proxyCommand !== undefined && hg.proxyCommand !== 'none') hopByCommand = true;
      out.push({ host: hg.hostname, port: hg.port, user: hg.user });
    }
    return out;
  };
  const jump = g.proxyJump ? chain(g.proxyJump, 0) : [];
  if (hopByCommand) return 'refused';
  const expand = (p: string) =>
    p
      .replace(/^~(?=\/)/, env.home)
      .replace(
        /%(.)/g,
        (_m, c: string) => ({ '%': '%', d: env.home, h: g.hostname, r: g.user, p: String(g.port), n: s.host, u: 'root' })[c] ?? `%${c}`,
      );
  const ids: string[] = [];
  for (const raw of g.identityFiles) {
    const p = expand(raw);
    if (!ids.includes(p) && spawnSync('test', ['-e', p]).status === 0) ids.push(p);
  }
  const strict = { true: 'yes', ask: 'yes', false: 'no', 'accept-new': 'accept-new' }[g.strictHostKeyChecking] ?? g.strictHostKeyChecking;
  return {
    host: g.hostname,
    port: g.port,
    user: g.user,
    identityFiles: ids,
    knownHosts: [g.userKnownHostsLine, g.globalKnownHostsLine].filter((x) => x !== '' && x !== 'none').join(' '),
    strict,
    hostKeyAlias: g.hostKeyAlias,
    jump,
  };
}

const view = (t: SshTarget): Expected => ({
  host: t.host,
  port: t.port,
  user: t.user,
  identityFiles: t.identityFiles,
  knownHosts: t.knownHostsFiles.join(' '),
  strict: t.strictHostKeyChecking,
  hostKeyAlias: t.hostKeyAlias,
  jump: t.proxyJump.map((h) => ({ host: h.host, port: h.port, user: h.user })),
});

async function netdoctor(s: Scenario, env: ReturnType<typeof setup>, resolver: 'ssh' | 'parser'): Promise<Expected | 'refused'> {
  const opts: ResolveOptions = {
    homedir: env.home,
    localUser: 'root',
    resolver,
    sshCommand: env.command,
    env: { ...process.env, HOME: env.home },
    ...(s.noF ? {} : { sshConfigFile: env.cfg }),
    ...(s.user ? { user: s.user } : {}),
    ...(s.port ? { port: s.port } : {}),
  };
  try {
    const [t] = await resolveTargets([{ name: 'n1', sshAddress: s.host }], opts);
    return view(t!);
  } catch (err) {
    if (!(err instanceof NetdoctorError) || err.exitCode !== 2) throw err;
    // A refusal must say why in one line; a ProxyCommand refusal names the host.
    expect(err.message).not.toContain('\n');
    return 'refused';
  }
}

const tally = { scenarios: 0, ssh: 0, parser: 0 };

const sshVersion = unavailable ?? spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();

describe.skipIf(unavailable !== null)(`ssh_config conformance with ssh -G (${sshVersion})`, () => {
  it('has at least 50 scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(50);
  });

  for (const s of scenarios) {
    it(s.name, async () => {
      const env = setup(s);
      const want = oracle(s, env);
      const started = Date.now();
      const viaSsh = await netdoctor(s, env, 'ssh');
      const viaParser = await netdoctor(s, env, 'parser');
      tally.scenarios++;
      if (JSON.stringify(viaSsh) === JSON.stringify(want)) tally.ssh++;
      if (JSON.stringify(viaParser) === JSON.stringify(want)) tally.parser++;
      expect({ resolver: 'ssh -G', got: viaSsh }).toEqual({ resolver: 'ssh -G', got: want });
      expect({ resolver: 'parser', got: viaParser }).toEqual({ resolver: 'parser', got: want });
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  }

  afterAll(() => {
    console.log(`ssh_config conformance: ssh -G resolver ${tally.ssh}/${tally.scenarios} agree, parser ${tally.parser}/${tally.scenarios} agree`);
  });
});

it('ProxyCommand is refused with a message naming the host', async () => {
  const home = mkdtempSync(join(tmpdir(), 'nd-conf-pc-'));
  roots.push(home);
  const cfg = join(home, 'cfg');
  writeFileSync(cfg, 'Host web\n  ProxyCommand nc %h %p\n');
  for (const resolver of ['parser', ...(unavailable === null ? ['ssh' as const] : [])] as const) {
    const passwd = join(home, 'passwd');
    writeFileSync(passwd, `root:x:0:0:root:${home}:/bin/sh\n`);
    await expect(
      resolveTargets([{ name: 'n1', sshAddress: 'web' }], {
        sshConfigFile: cfg,
        homedir: home,
        localUser: 'root',
        resolver,
        sshCommand: wrapper(passwd),
      }),
    ).rejects.toThrow(/ProxyCommand "nc %h %p" \(used for web\) is not supported/);
  }
});
