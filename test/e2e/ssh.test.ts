/**
 * The SSH layer against the real lab swarm: real sshd on every node, the
 * lab's key and known_hosts, strict host key checking, ProxyJump through a
 * node, and the failure kinds a user will meet.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labState, type LabState } from '../lab/lab.js';
import { resolveTargets, type ResolveOptions, type SshTarget } from '../../src/ssh/config.js';
import { fingerprintSha256, parseKnownHosts } from '../../src/ssh/known-hosts.js';
import { connect, SshError, type ConnectOptions, type SshSession } from '../../src/ssh/session.js';
import { mapLimit } from '../../src/ssh/pool.js';

let lab: LabState;
let tmp: string;
let nd1: LabState['nodes'][number];
let nd2: LabState['nodes'][number];

beforeAll(() => {
  lab = labState();
  tmp = mkdtempSync(join(tmpdir(), 'nd-e2e-ssh-'));
  const [a, b] = lab.nodes;
  if (!a || !b) throw new Error('the lab needs at least two nodes');
  nd1 = a;
  nd2 = b;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const swarmNodes = () => lab.nodes.map((n) => ({ name: n.name, sshAddress: n.ip }));

/** Lab settings, no ssh_config, no agent, no global known_hosts: only what the test says. */
const resolveOpts = (extra: ResolveOptions = {}): ResolveOptions => ({
  sshConfigFile: 'none',
  user: lab.user,
  identity: lab.sshKey,
  knownHostsFile: lab.knownHosts,
  globalKnownHostsFiles: [],
  env: {},
  ...extra,
});
const connectOpts = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  connectTimeoutMs: 5000,
  env: {},
  promptPassphrase: null,
  ...extra,
});

async function targetFor(name: string, extra: ResolveOptions = {}): Promise<SshTarget> {
  const t = (await resolveTargets(swarmNodes(), resolveOpts(extra))).find((x) => x.node === name);
  if (!t) throw new Error(`no target for ${name}`);
  return t;
}

async function sshError(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    return err as SshError;
  }
  throw new Error('expected an SshError');
}

const labKeyFor = (ip: string): Buffer => {
  const e = parseKnownHosts(readFileSync(lab.knownHosts, 'utf8')).entries.find(
    (x) => x.names.kind === 'patterns' && x.names.patterns.some((p) => p.pattern === ip),
  );
  if (!e) throw new Error(`lab known_hosts has no key for ${ip}`);
  return e.key;
};

describe('ssh to the lab nodes', () => {
  it('connects to every node with strict host key checking and runs hostname', async () => {
    const targets = await resolveTargets(swarmNodes(), resolveOpts());
    const results = await mapLimit(targets, 8, async (t) => {
      expect(t.strictHostKeyChecking).toBe('yes');
      const s = await connect(t, connectOpts());
      try {
        const r = await s.exec('hostname');
        return { node: t.node, host: r.stdout.trim(), code: r.code, fp: s.hostKeyFingerprint, ms: s.connectMs };
      } finally {
        s.close();
      }
    });
    for (const [i, r] of results.entries()) {
      const n = lab.nodes[i]!;
      expect(r.status, r.status === 'rejected' ? String(r.reason) : '').toBe('fulfilled');
      if (r.status !== 'fulfilled') continue;
      expect(r.value).toMatchObject({ node: n.name, host: n.name, code: 0, fp: fingerprintSha256(labKeyFor(n.ip)) });
      expect(r.value.ms).toBeLessThan(5000);
    }
  });

  it('an unknown host key is refused with its fingerprint', async () => {
    const kh = join(tmp, 'empty_known_hosts');
    writeFileSync(kh, '');
    const err = await sshError(connect(await targetFor(nd2.name, { knownHostsFile: kh }), connectOpts()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.fingerprint).toBe(fingerprintSha256(labKeyFor(nd2.ip)));
    expect(err.message).toBe(
      `host key for ${nd2.ip} is not known (ED25519 ${err.fingerprint}); add it to known_hosts or use --accept-new-host-keys`,
    );
  });

  it('a changed host key is refused, even with --accept-new-host-keys, and known_hosts is left alone', async () => {
    const other = join(tmp, 'otherkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const kh = join(tmp, 'changed_known_hosts');
    const text = `${nd2.ip} ${readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`;
    writeFileSync(kh, text);
    for (const acceptNewHostKeys of [false, true]) {
      const err = await sshError(connect(await targetFor(nd2.name, { knownHostsFile: kh, acceptNewHostKeys }), connectOpts()));
      expect(err.kind).toBe('hostkey-changed');
      expect(err.fingerprint).toBe(fingerprintSha256(labKeyFor(nd2.ip)));
      expect(err.message).toMatch(new RegExp(`^REMOTE HOST IDENTIFICATION HAS CHANGED for ${nd2.ip.replace(/\./g, '\\.')}: `));
      expect(err.message).toContain(`${kh}:1`);
    }
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });

  it('--accept-new-host-keys records the key in a known_hosts copy; the next connect matches', async () => {
    const kh = join(tmp, 'tofu_known_hosts');
    // a copy of the lab file without nd2's line
    writeFileSync(
      kh,
      readFileSync(lab.knownHosts, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(`${nd2.ip} `))
        .join('\n'),
    );
    const warnings: string[] = [];
    const s1 = await connect(await targetFor(nd2.name, { knownHostsFile: kh, acceptNewHostKeys: true }), connectOpts({ onWarning: (m) => warnings.push(m) }));
    expect(s1.hostKeys.at(-1)?.status).toBe('added');
    s1.close();
    expect(warnings.some((w) => w.startsWith(`permanently added ${nd2.ip}`))).toBe(true);
    // OpenSSH finds what we wrote
    const found = execFileSync('ssh-keygen', ['-F', nd2.ip, '-f', kh], { encoding: 'utf8' });
    expect(found).toContain(labKeyFor(nd2.ip).toString('base64'));

    const s2 = await connect(await targetFor(nd2.name, { knownHostsFile: kh }), connectOpts());
    expect(s2.hostKeys.at(-1)?.status).toBe('match');
    expect((await s2.exec('hostname')).stdout.trim()).toBe(nd2.name);
    s2.close();
  });

  it('ProxyJump through nd1 reaches nd2 by its IP, and the connection really comes from nd1', async () => {
    const direct = await connect(await targetFor(nd2.name), connectOpts());
    const directFrom = (await direct.exec('echo $SSH_CONNECTION')).stdout.trim().split(' ')[0];
    direct.close();
    expect(directFrom).not.toBe(nd1.ip);

    const t = await targetFor(nd2.name, { jump: nd1.name });
    expect(t.host).toBe(nd2.ip);
    expect(t.proxyJump.map((h) => h.host)).toEqual([nd1.ip]);
    const s = await connect(t, connectOpts());
    try {
      // both host keys were verified, the hop's first
      expect(s.hostKeys.map((k) => k.fingerprint)).toEqual([fingerprintSha256(labKeyFor(nd1.ip)), fingerprintSha256(labKeyFor(nd2.ip))]);
      const r = await s.exec('hostname; echo $SSH_CONNECTION');
      const [host, conn] = r.stdout.trim().split('\n');
      expect(host).toBe(nd2.name);
      expect(conn?.split(' ')[0]).toBe(nd1.ip);
      expect(conn?.split(' ')[2]).toBe(nd2.ip);
    } finally {
      s.close();
    }
  });

  it('an unknown jump host key is reported for the hop', async () => {
    const kh = join(tmp, 'only_nd2');
    writeFileSync(kh, readFileSync(lab.knownHosts, 'utf8').split('\n').filter((l) => l.startsWith(`${nd2.ip} `)).join('\n'));
    const err = await sshError(connect(await targetFor(nd2.name, { jump: nd1.name, knownHostsFile: kh }), connectOpts()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.hop).toBe(`${lab.user}@${nd1.ip}`);
    expect(err.message).toMatch(new RegExp(`^jump host ${lab.user}@${nd1.ip.replace(/\./g, '\\.')}: host key for ${nd1.ip.replace(/\./g, '\\.')} is not known`));
  });

  it('an exec timeout rejects quickly, kills the command on the node, and closes its channel', async () => {
    const s: SshSession = await connect(await targetFor(nd1.name), connectOpts());
    const pidFile = `/tmp/nd-e2e-sleep-${process.pid}-${Date.now()}.pid`;
    try {
      const t0 = Date.now();
      const err = await sshError(s.exec(`echo $$ > ${pidFile}; sleep 30`, { timeoutMs: 500 }));
      expect(err.kind).toBe('exec-timeout');
      expect(err.message).toBe('command timed out after 500 ms');
      expect(Date.now() - t0).toBeLessThan(2000);
      // the remote command is gone (OpenSSH ignores "signal" in root sessions: netdoctor kills the process group)
      await new Promise((r) => setTimeout(r, 500));
      const check = await s.exec(`pid=$(cat ${pidFile}); rm -f ${pidFile}; kill -0 "$pid" 2>/dev/null && echo alive || echo gone`);
      expect(check.stdout.trim()).toBe('gone');
    } finally {
      s.close();
    }
    expect(s.closed).toBe(true);
    expect((await sshError(s.exec('true'))).kind).toBe('closed');
  });

  it('nothing listening (lab IP, port 2222): connection refused, quickly', async () => {
    const t0 = Date.now();
    const err = await sshError(connect(await targetFor(nd1.name, { port: 2222 }), connectOpts()));
    expect(err.kind).toBe('refused');
    expect(err.message).toBe('connection refused');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a key the nodes do not accept: auth error naming the key', async () => {
    const stranger = join(tmp, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const err = await sshError(connect(await targetFor(nd1.name, { identity: stranger }), connectOpts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(`permission denied for ${lab.user}@${nd1.ip} (publickey); offered ${stranger}`);
  });

  it('a node address taken from an inventory and an ssh_config Host alias', async () => {
    const cfg = join(tmp, 'ssh_config');
    writeFileSync(cfg, `Host lab-*\n  User ${lab.user}\n  IdentityFile ${lab.sshKey}\n  UserKnownHostsFile ${lab.knownHosts}\nHost lab-nd2\n  HostName ${nd2.ip}\n`);
    const inv = join(tmp, 'inventory.yaml');
    writeFileSync(inv, `nodes:\n  ${nd2.name}:\n    host: lab-nd2\n`);
    const targets = await resolveTargets(swarmNodes(), { sshConfigFile: cfg, inventoryFile: inv, globalKnownHostsFiles: [], env: {}, homedir: tmp });
    const t = targets.find((x) => x.node === nd2.name)!;
    expect(t).toMatchObject({ name: 'lab-nd2', host: nd2.ip, user: lab.user, identityFiles: [lab.sshKey] });
    const s = await connect(t, connectOpts());
    expect((await s.exec('hostname')).stdout.trim()).toBe(nd2.name);
    s.close();
  });
});
