/**
 * The SSH layer against the real lab swarm: real sshd on every node, the
 * lab's key and known_hosts, strict host key checking, ProxyJump through a
 * node, and the failure kinds a user will meet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labState, nodeExec, type LabState } from '../lab/lab.js';
import { resolveTargets, type ResolveOptions, type SshTarget } from '../../src/ssh/config.js';
import { fingerprintSha256, parseKnownHosts } from '../../src/ssh/known-hosts.js';
import { connect, SshError, type ConnectOptions, type SshSession } from '../../src/ssh/session.js';

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
    const results = await Promise.allSettled(
      targets.map(async (t) => {
        expect(t.strictHostKeyChecking).toBe('yes');
        const s = await connect(t, connectOpts());
        try {
          const r = await s.exec('hostname');
          return { node: t.node, host: r.stdout.trim(), code: r.code, fp: s.hostKeyFingerprint, ms: s.connectMs };
        } finally {
          s.close();
        }
      }),
    );
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
    expect(err.message).toBe(`host key for ${nd2.ip} is not known (ED25519 ${err.fingerprint}); add it to known_hosts or use --accept-new-host-keys`);
  });

  it('a changed host key is refused under every policy (--accept-new-host-keys, StrictHostKeyChecking=no), and known_hosts is left alone', async () => {
    const other = join(tmp, 'otherkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const kh = join(tmp, 'changed_known_hosts');
    // a comment first: the conflict must name the line the key is on
    const text = `# old\n${nd2.ip} ${readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`;
    writeFileSync(kh, text);
    const strict = await targetFor(nd2.name, { knownHostsFile: kh });
    const acceptNew = await targetFor(nd2.name, { knownHostsFile: kh, acceptNewHostKeys: true });
    expect(strict.strictHostKeyChecking).toBe('yes');
    expect(acceptNew.strictHostKeyChecking).toBe('accept-new');
    for (const t of [strict, acceptNew, { ...strict, strictHostKeyChecking: 'no' as const }]) {
      const err = await sshError(connect(t, connectOpts()));
      expect(err.kind, t.strictHostKeyChecking).toBe('hostkey-changed');
      expect(err.fingerprint).toBe(fingerprintSha256(labKeyFor(nd2.ip)));
      expect(err.message).toMatch(new RegExp(`^REMOTE HOST IDENTIFICATION HAS CHANGED for ${nd2.ip.replace(/\./g, '\\.')}: `));
      expect(err.message).toContain(`${kh}:2`);
    }
    expect(readFileSync(kh, 'utf8')).toBe(text);
  });

  it('--accept-new-host-keys records the key in a known_hosts copy; the next connect matches', async () => {
    const kh = join(tmp, 'tofu_known_hosts');
    // a copy of the lab file without nd2's line
    const before = readFileSync(lab.knownHosts, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`${nd2.ip} `))
      .join('\n');
    writeFileSync(kh, before);
    const warnings: string[] = [];
    const s1 = await connect(
      await targetFor(nd2.name, { knownHostsFile: kh, acceptNewHostKeys: true }),
      connectOpts({ onWarning: (m) => warnings.push(m) }),
    );
    expect(s1.hostKeys.at(-1)?.status).toBe('added');
    s1.close();
    expect(warnings.some((w) => w.startsWith(`permanently added ${nd2.ip}`))).toBe(true);
    // exactly one line appended, in OpenSSH's format
    const sep = before === '' || before.endsWith('\n') ? '' : '\n';
    expect(readFileSync(kh, 'utf8')).toBe(`${before}${sep}${nd2.ip} ssh-ed25519 ${labKeyFor(nd2.ip).toString('base64')}\n`);
    // OpenSSH finds what we wrote
    const found = execFileSync('ssh-keygen', ['-F', nd2.ip, '-f', kh], { encoding: 'utf8' });
    expect(found).toContain(labKeyFor(nd2.ip).toString('base64'));

    const s2 = await connect(await targetFor(nd2.name, { knownHostsFile: kh }), connectOpts());
    expect(s2.hostKeys.at(-1)?.status).toBe('match');
    expect(s2.hostKeyFingerprint).toBe(fingerprintSha256(labKeyFor(nd2.ip)));
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
    writeFileSync(
      kh,
      readFileSync(lab.knownHosts, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${nd2.ip} `))
        .join('\n'),
    );
    const err = await sshError(connect(await targetFor(nd2.name, { jump: nd1.name, knownHostsFile: kh }), connectOpts()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.hop).toBe(`${lab.user}@${nd1.ip}`);
    expect(err.message).toMatch(
      new RegExp(`^jump host ${lab.user}@${nd1.ip.replace(/\./g, '\\.')}: host key for ${nd1.ip.replace(/\./g, '\\.')} is not known`),
    );
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
    writeFileSync(
      cfg,
      `Host lab-*\n  User ${lab.user}\n  IdentityFile ${lab.sshKey}\n  UserKnownHostsFile ${lab.knownHosts}\nHost lab-nd2\n  HostName ${nd2.ip}\n`,
    );
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

// ---------------------------------------------------------------------------
// Cases that used to run against an in-process fake sshd (unit tests), now
// against the lab's real OpenSSH.

const lineFor = (host: string, ip: string) => `${host} ssh-ed25519 ${labKeyFor(ip).toString('base64')}\n`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PIDs (in the node's PID namespace) of processes whose command line matches `re`, an extended regex. */
async function nodePids(node: string, re: string): Promise<number[]> {
  // "[x]yz": the pattern does not match the pgrep/sh command line that carries it
  const r = await nodeExec(node, `pgrep -f ${shellQuoteSh(`[${re[0]}]${re.slice(1)}`)} || true`);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}
const shellQuoteSh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A real TCP listener inside a node that accepts connections and never
 * speaks (busybox nc with a stdin that never ends: a FIFO opened read-write).
 * Returns a stop function that kills it by PID.
 */
async function silentListener(node: string, port: number): Promise<() => Promise<void>> {
  const fifo = `/tmp/nd-e2e-silent-${process.pid}-${port}`;
  const busy = await nodeExec(node, `ss -ltnH 'sport = :${port}'`);
  expect(busy.stdout.trim(), `port ${port} on ${node} is already taken`).toBe('');
  const r = await nodeExec(node, `rm -f ${fifo}; mkfifo ${fifo} && { busybox nc -l -p ${port} 0<>${fifo} >/dev/null 2>&1 & echo $!; }`);
  const pid = Number(r.stdout.trim());
  expect(Number.isInteger(pid) && pid > 1, `${r.stdout}${r.stderr}`).toBe(true);
  const stop = async () => {
    await nodeExec(node, `kill ${pid} 2>/dev/null; rm -f ${fifo}; true`);
  };
  for (let i = 0; i < 50; i++) {
    if ((await nodeExec(node, `ss -ltnH 'sport = :${port}'`)).stdout.trim() !== '') return stop;
    await sleepMs(100);
  }
  await stop();
  throw new Error(`busybox nc did not start listening on ${node}:${port}`);
}

describe('host keys against the real sshd', () => {
  it('a revoked host key is refused, even next to a matching line', async () => {
    const kh = join(tmp, 'revoked_known_hosts');
    writeFileSync(kh, `${lineFor(nd1.ip, nd1.ip)}@revoked ${lineFor(nd1.ip, nd1.ip)}`);
    for (const t of [await targetFor(nd1.name, { knownHostsFile: kh }), await targetFor(nd1.name, { knownHostsFile: kh, acceptNewHostKeys: true })]) {
      const err = await sshError(connect(t, connectOpts()));
      expect(err.kind).toBe('hostkey-revoked');
      expect(err.fingerprint).toBe(fingerprintSha256(labKeyFor(nd1.ip)));
      expect(err.message).toBe(`host key for ${nd1.ip} is REVOKED (${kh}:2) (ED25519 ${err.fingerprint}); refusing to connect`);
    }
    expect(readFileSync(kh, 'utf8')).toBe(`${lineFor(nd1.ip, nd1.ip)}@revoked ${lineFor(nd1.ip, nd1.ip)}`);
  });

  it('looks the host key up under HostKeyAlias when set', async () => {
    const kh = join(tmp, 'alias_known_hosts');
    writeFileSync(kh, lineFor('nd1-alias', nd1.ip));
    const t = await targetFor(nd1.name, { knownHostsFile: kh });
    // without the alias the IP is not in that file
    expect((await sshError(connect(t, connectOpts()))).kind).toBe('hostkey-unknown');
    const s = await connect({ ...t, hostKeyAlias: 'nd1-alias' }, connectOpts());
    try {
      expect(s.hostKeys).toEqual([
        { endpoint: `${lab.user}@${nd1.ip}`, fingerprint: fingerprintSha256(labKeyFor(nd1.ip)), keyType: 'ssh-ed25519', status: 'match' },
      ]);
      expect((await s.exec('hostname')).stdout.trim()).toBe(nd1.name);
    } finally {
      s.close();
    }
  });

  it('warns once about malformed known_hosts lines and still uses the good ones', async () => {
    const kh = join(tmp, 'bad_known_hosts');
    writeFileSync(kh, `garbage line\n${readFileSync(lab.knownHosts, 'utf8')}`);
    const warnings: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await connect(await targetFor(nd1.name, { knownHostsFile: kh }), connectOpts({ onWarning: (m) => warnings.push(m) }));
      expect(s.hostKeys.at(-1)?.status).toBe('match');
      s.close();
    }
    expect(warnings).toEqual([`${kh}:1: expected "hostpatterns keytype key"; line ignored`]);
  });
});

describe('auth against the real sshd', () => {
  /** A copy of the lab key, encrypted: the same public key, so the nodes accept it. */
  const encryptedCopy = (name: string): string => {
    const p = join(tmp, name);
    copyFileSync(lab.sshKey, p);
    chmodSync(p, 0o600);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'secret', '-a', '2', '-f', p]);
    expect(readFileSync(p, 'utf8')).not.toBe(readFileSync(lab.sshKey, 'utf8'));
    return p;
  };

  it('an encrypted key with no passphrase and no TTY: clear error; with the option, the env var or a prompt: works', async () => {
    const enc = encryptedCopy('enc_id_ed25519');
    // really encrypted: OpenSSH cannot read it without the passphrase
    expect(spawnSync('ssh-keygen', ['-y', '-P', '', '-f', enc]).status).not.toBe(0);
    const t = await targetFor(nd1.name, { identity: enc });
    expect(t.identityFiles).toEqual([enc]);

    const err = await sshError(connect(t, connectOpts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(
      `identity file ${enc} is encrypted and there is no passphrase (no TTY to ask): set NETDOCTOR_SSH_PASSPHRASE or load the key into ssh-agent`,
    );

    const viaOption = await connect(t, connectOpts({ passphrase: 'secret' }));
    expect((await viaOption.exec('hostname')).stdout.trim()).toBe(nd1.name);
    viaOption.close();

    const viaEnv = await connect(t, connectOpts({ env: { NETDOCTOR_SSH_PASSPHRASE: 'secret' } }));
    expect((await viaEnv.exec('hostname')).stdout.trim()).toBe(nd1.name);
    viaEnv.close();

    // a prompt callback is used when given (a fresh file: answers are remembered per file)
    const enc2 = encryptedCopy('enc2_id_ed25519');
    const asked: string[] = [];
    const viaPrompt = await connect(
      await targetFor(nd1.name, { identity: enc2 }),
      connectOpts({ promptPassphrase: async (file) => (asked.push(file), 'secret') }),
    );
    expect(asked).toEqual([enc2]);
    expect((await viaPrompt.exec('hostname')).stdout.trim()).toBe(nd1.name);
    viaPrompt.close();

    // a wrong passphrase is not an accepted key
    const wrong = await sshError(connect(t, connectOpts({ passphrase: 'not-it' })));
    expect(wrong.kind).toBe('auth');
    expect(wrong.message).toMatch(/no usable identity file; skipped .*enc_id_ed25519 \(bad passphrase\)/);
  });

  it('skips an unusable identity file listed first when the next one works', async () => {
    const enc = encryptedCopy('enc_first_id_ed25519');
    const t = await targetFor(nd1.name);
    const warnings: string[] = [];
    const s = await connect({ ...t, identityFiles: [enc, lab.sshKey] }, connectOpts({ onWarning: (m) => warnings.push(m) }));
    try {
      expect(warnings).toEqual([`identity file ${enc} (encrypted, no passphrase) skipped`]);
      expect((await s.exec('hostname')).stdout.trim()).toBe(nd1.name);
    } finally {
      s.close();
    }
  });

  it('goes on with the identity files when the agent socket is dead (no listener) or missing', async () => {
    // a unix socket file no one listens on: bound by a process that then died
    const dead = join(tmp, 'dead-agent.sock');
    const r = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(dead)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(dead).isSocket()).toBe(true);
    for (const sock of [dead, join(tmp, 'no-such-agent.sock')]) {
      const s = await connect(await targetFor(nd1.name), connectOpts({ env: { SSH_AUTH_SOCK: sock } }));
      try {
        expect((await s.exec('echo ok')).stdout).toBe('ok\n');
      } finally {
        s.close();
      }
    }
  });

  it('with no agent and no key: says so', async () => {
    const t = await targetFor(nd1.name);
    const err = await sshError(connect({ ...t, identityFiles: [] }, connectOpts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(`no credentials for ${lab.user}@${nd1.ip}: no ssh-agent (SSH_AUTH_SOCK unset) and no usable identity file`);
  });
});

describe('exec against the real sshd', () => {
  it('returns stdout, stderr, exit code and duration; feeds stdin', async () => {
    const s = await connect(await targetFor(nd1.name), connectOpts());
    try {
      expect(s.connectMs).toBeGreaterThanOrEqual(0);
      const r = await s.exec('echo out; cat; echo err >&2; exit 3', { stdin: 'in\n' });
      expect(r).toMatchObject({ stdout: 'out\nin\n', stderr: 'err\n', code: 3, signal: null });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      // without stdin, the command gets EOF at once
      expect(await s.exec('cat; echo done')).toMatchObject({ stdout: 'done\n', stderr: '', code: 0 });
      // the duration is the command's
      expect((await s.exec('sleep 0.3')).durationMs).toBeGreaterThanOrEqual(290);
      // with a timeout the command is wrapped; the wrapper is invisible
      const r2 = await s.exec("printf '%s' \"it's\"; echo e >&2; cat; exit 4", { stdin: 'in\n', timeoutMs: 5000 });
      expect(r2).toMatchObject({ stdout: "it'sin\n", stderr: 'e\n', code: 4, signal: null });
      const r3 = await s.exec('kill -TERM $$', { timeoutMs: 5000 });
      expect(r3).toMatchObject({ code: null, signal: 'SIGTERM' });
    } finally {
      s.close();
    }
  });

  it('stdinTail: sh -s runs the head at once and the tail when it comes; the timeout counts from the tail', async () => {
    const s = await connect(await targetFor(nd1.name), connectOpts());
    try {
      let go: (tail: string) => void = () => undefined;
      const tail = new Promise<string>((r) => (go = r));
      let head = '';
      const p = s.exec('sh -s', {
        stdin: 'echo head\n',
        stdinTail: tail,
        timeoutMs: 3000,
        onStdout: (d) => (head += d.toString()),
      });
      // The head ran and the script now waits for its tail: longer than the timeout, which has not started.
      await sleepMs(3500);
      expect(head).toBe('head\n');
      go('echo tail; sleep 1\n');
      const r = await p;
      expect(r).toMatchObject({ stdout: 'head\ntail\n', code: 0 });
      // A tail that never comes is ended by its rejection: EOF, the head's output, exit 0.
      expect(await s.exec('sh -s', { stdin: 'echo only\n', stdinTail: Promise.reject(new Error('no')) })).toMatchObject({
        stdout: 'only\n',
        code: 0,
      });
      // The timeout, counted from the tail, still ends a tail that runs too long.
      const late = s.exec('sh -s', { stdin: 'true\n', stdinTail: sleepMs(200).then(() => 'sleep 30\n'), timeoutMs: 500 });
      expect((await sshError(late)).kind).toBe('exec-timeout');
    } finally {
      s.close();
    }
  });

  it('close() rejects a running command', async () => {
    const s = await connect(await targetFor(nd1.name), connectOpts());
    const p = s.exec('sleep 5');
    await sleepMs(200);
    s.close();
    const err = await sshError(p);
    expect(err.kind).toBe('closed');
    expect(err.message).toBe('connection closed');
    expect(s.closed).toBe(true);
    expect((await sshError(s.exec('true'))).kind).toBe('closed');
  });

  it('after close(), the command that was running is gone from the node', async () => {
    const dur = `31.${process.pid}${Date.now() % 1000}`;
    const re = `sleep ${escapeRe(dur)}`;
    const s = await connect(await targetFor(nd1.name), connectOpts());
    try {
      const p = s.exec(`sleep ${dur}`);
      let pids: number[] = [];
      for (let i = 0; i < 50 && pids.length === 0; i++) {
        await sleepMs(100);
        pids = await nodePids(nd1.name, re);
      }
      expect(pids.length, 'the command runs on the node').toBeGreaterThan(0);
      s.close();
      expect((await sshError(p)).kind).toBe('closed');
      for (let i = 0; i < 30 && pids.length > 0; i++) {
        await sleepMs(100);
        pids = await nodePids(nd1.name, re);
      }
      const ps = pids.length > 0 ? (await nodeExec(nd1.name, `ps -o pid,ppid,pgid,sid,args -p ${pids.join(',')}`)).stdout : '';
      expect(pids, `sleep ${dur} still running on ${nd1.name} 3 s after close():\n${ps}`).toEqual([]);
    } finally {
      s.close();
      const left = await nodePids(nd1.name, re);
      if (left.length > 0) await nodeExec(nd1.name, `kill ${left.join(' ')} 2>/dev/null; true`);
    }
  });

  it('a jump host that cannot reach the target: an error that names the hop', async () => {
    // nothing listens on nd2:2222; the hop itself is nd1:22
    const t = { ...(await targetFor(nd2.name, { jump: nd1.name })), port: 2222 };
    expect(t.proxyJump.map((h) => `${h.host}:${h.port}`)).toEqual([`${nd1.ip}:22`]);
    const err = await sshError(connect(t, connectOpts()));
    expect(err.hop).toBe(`${lab.user}@${nd1.ip}`);
    expect(err.kind).toBe('refused');
    expect(err.message).toBe(`connection refused (from jump host ${lab.user}@${nd1.ip})`);
  });
});

describe('network errors against real listeners', () => {
  it('a server that accepts TCP but never speaks: timeout within connectTimeoutMs', async () => {
    const stop = await silentListener(nd1.name, 2299);
    try {
      const t0 = Date.now();
      const err = await sshError(connect(await targetFor(nd1.name, { port: 2299 }), connectOpts({ connectTimeoutMs: 800 })));
      const took = Date.now() - t0;
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe('timed out after 800 ms');
      expect(took).toBeGreaterThanOrEqual(700);
      expect(took).toBeLessThan(2000);
    } finally {
      await stop();
    }
  });

  it('a name under .invalid (RFC 6761): dns', async () => {
    const t = await targetFor(nd1.name);
    const err = await sshError(connect({ ...t, name: 'no-such-host.invalid', host: 'no-such-host.invalid' }, connectOpts()));
    expect(err.kind).toBe('dns');
    expect(err.message).toMatch(/^could not resolve hostname no-such-host\.invalid( \(temporary DNS failure\))?$/);
  });

  it('an abort signal: before connecting, and while the connection hangs', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await sshError(connect(await targetFor(nd1.name), connectOpts({ signal: ac.signal })));
    expect(err.kind).toBe('closed');
    expect(err.message).toMatch(/aborted/);

    const stop = await silentListener(nd1.name, 2298);
    try {
      const ac2 = new AbortController();
      const t0 = Date.now();
      const p = connect(await targetFor(nd1.name, { port: 2298 }), connectOpts({ connectTimeoutMs: 10_000, signal: ac2.signal }));
      setTimeout(() => ac2.abort(), 300);
      const err2 = await sshError(p);
      expect(err2.kind).toBe('closed');
      expect(err2.message).toBe('connection attempt aborted');
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await stop();
    }
  });
});
