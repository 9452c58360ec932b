import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshTarget } from '../../../src/ssh/config.js';
import { fingerprintSha256 } from '../../../src/ssh/known-hosts.js';
import {
  connect,
  hostKeyAlgorithms,
  shellQuote,
  SshError,
  sudoFailure,
  sudoWrap,
  withPgidReport,
  type ConnectOptions,
} from '../../../src/ssh/session.js';
import { startFakeSshd, type FakeSshd } from './fake-sshd.js';

let dir: string;
let jump: FakeSshd;
let node: FakeSshd;
const f = (n: string) => join(dir, n);
const pub = (n: string) => readFileSync(f(`${n}.pub`), 'utf8').trim();
const blob = (n: string) => Buffer.from(pub(n).split(/\s+/)[1]!, 'base64');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nd-sess-'));
  const gen = (name: string, extra: string[] = []) =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', f(name), ...extra]);
  gen('host_jump');
  gen('host_node');
  gen('host_other');
  gen('client');
  gen('stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', 'sekret', '-C', 'enc', '-f', f('client_enc')]);
  jump = await startFakeSshd({ hostKeyFile: f('host_jump'), allowedPubKeyFile: f('client.pub') });
  node = await startFakeSshd({ hostKeyFile: f('host_node'), allowedPubKeyFile: f('client.pub') });
});
afterAll(async () => {
  await jump?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

const khLine = (port: number, key: string) => `[127.0.0.1]:${port} ${pub(key).split(/\s+/).slice(0, 2).join(' ')}\n`;

function target(port: number, over: Partial<SshTarget> = {}): SshTarget {
  return {
    node: 'n1',
    name: '127.0.0.1',
    host: '127.0.0.1',
    port,
    user: 'tester',
    identityFiles: [f('client')],
    knownHostsFiles: [],
    strictHostKeyChecking: 'yes',
    proxyJump: [],
    ...over,
  };
}
const opts = (over: Partial<ConnectOptions> = {}): ConnectOptions => ({
  connectTimeoutMs: 5000,
  env: {},
  promptPassphrase: null,
  ...over,
});

async function sshError(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    return err as SshError;
  }
  throw new Error('expected an SshError');
}

describe('host keys', () => {
  it('refuses an unknown host under strict checking, with the fingerprint', async () => {
    const kh = f('kh-empty');
    writeFileSync(kh, '');
    const err = await sshError(connect(target(node.port, { knownHostsFiles: [kh] }), opts()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.fingerprint).toBe(fingerprintSha256(blob('host_node')));
    expect(err.message).toBe(
      `host key for [127.0.0.1]:${node.port} is not known (ED25519 ${err.fingerprint}); add it to known_hosts or use --accept-new-host-keys`,
    );
  });

  it('accept-new records the key, then it matches; a changed key is refused under every policy', async () => {
    const kh = f('kh-tofu');
    const s1 = await connect(target(node.port, { knownHostsFiles: [kh], strictHostKeyChecking: 'accept-new' }), opts());
    expect(s1.hostKeys[0]?.status).toBe('added');
    s1.close();
    expect(readFileSync(kh, 'utf8')).toBe(khLine(node.port, 'host_node'));
    const s2 = await connect(target(node.port, { knownHostsFiles: [kh] }), opts());
    expect(s2.hostKeys[0]?.status).toBe('match');
    expect(s2.hostKeyFingerprint).toBe(fingerprintSha256(blob('host_node')));
    s2.close();

    const changed = f('kh-changed');
    writeFileSync(changed, `# old\n${khLine(node.port, 'host_other')}`);
    for (const policy of ['yes', 'accept-new', 'no'] as const) {
      const err = await sshError(connect(target(node.port, { knownHostsFiles: [changed], strictHostKeyChecking: policy }), opts()));
      expect(err.kind).toBe('hostkey-changed');
      expect(err.message).toContain(`REMOTE HOST IDENTIFICATION HAS CHANGED for [127.0.0.1]:${node.port}`);
      expect(err.message).toContain(`${changed}:2`);
    }
    expect(readFileSync(changed, 'utf8')).toBe(`# old\n${khLine(node.port, 'host_other')}`);
  });

  it('refuses a revoked key', async () => {
    const kh = f('kh-revoked');
    writeFileSync(kh, `${khLine(node.port, 'host_node')}@revoked * ${pub('host_node')}\n`);
    expect((await sshError(connect(target(node.port, { knownHostsFiles: [kh] }), opts()))).kind).toBe('hostkey-revoked');
  });

  it('looks the key up under HostKeyAlias when set', async () => {
    const kh = f('kh-alias');
    writeFileSync(kh, `mynode ${pub('host_node')}\n`);
    const s = await connect(target(node.port, { knownHostsFiles: [kh], hostKeyAlias: 'mynode' }), opts());
    s.close();
  });

  it('orders host key algorithms by what known_hosts holds', () => {
    expect(hostKeyAlgorithms(['ssh-rsa'])[0]).toBe('rsa-sha2-512');
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256']).slice(0, 2)).toEqual(['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });
});

describe('auth', () => {
  const kh = () => {
    const p = f('kh-auth');
    writeFileSync(p, khLine(node.port, 'host_node'));
    return p;
  };

  it('says which keys were offered when the server refuses them', async () => {
    const err = await sshError(connect(target(node.port, { knownHostsFiles: [kh()], identityFiles: [f('stranger')] }), opts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toBe(`permission denied for tester@127.0.0.1:${node.port} (publickey); offered ${f('stranger')}`);
  });

  it('needs a passphrase for an encrypted key and has no TTY: clear error; with one: works', async () => {
    const t = target(node.port, { knownHostsFiles: [kh()], identityFiles: [f('client_enc')] });
    const err = await sshError(connect(t, opts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/client_enc is encrypted and there is no passphrase \(no TTY to ask\): set NETDOCTOR_SSH_PASSPHRASE/);
    // right passphrase, but this key is not authorised on the fake server: auth fails at the server, not locally
    const err2 = await sshError(connect(t, opts({ env: { NETDOCTOR_SSH_PASSPHRASE: 'sekret' } })));
    expect(err2.message).toMatch(/^permission denied .* offered .*client_enc$/);
    // a prompt callback is used when given
    const asked: string[] = [];
    const err3 = await sshError(
      connect(t, opts({ promptPassphrase: async (file) => (asked.push(file), 'sekret') })),
    );
    expect(asked).toEqual([f('client_enc')]);
    expect(err3.message).toMatch(/^permission denied/);
  });

  it('skips an unusable identity file when another one works', async () => {
    const warnings: string[] = [];
    const s = await connect(
      target(node.port, { knownHostsFiles: [kh()], identityFiles: [f('client_enc'), f('client')] }),
      opts({ onWarning: (m) => warnings.push(m) }),
    );
    expect(warnings.some((w) => w.includes('client_enc (encrypted, no passphrase)'))).toBe(true);
    s.close();
  });

  it('goes on with the identity files when the agent socket is dead', async () => {
    const s = await connect(target(node.port, { knownHostsFiles: [kh()] }), opts({ env: { SSH_AUTH_SOCK: f('no-agent.sock') } }));
    expect((await s.exec('echo ok')).stdout).toBe('ok\n');
    s.close();
  });

  it('warns once about malformed known_hosts lines', async () => {
    const p = f('kh-bad');
    writeFileSync(p, `garbage line\n${khLine(node.port, 'host_node')}`);
    const warnings: string[] = [];
    for (let i = 0; i < 2; i++) {
      (await connect(target(node.port, { knownHostsFiles: [p] }), opts({ onWarning: (m) => warnings.push(m) }))).close();
    }
    expect(warnings).toEqual([`${p}:1: expected "hostpatterns keytype key"; line ignored`]);
  });

  it('with no agent and no key: says so', async () => {
    const err = await sshError(connect(target(node.port, { identityFiles: [] }), opts()));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/no ssh-agent \(SSH_AUTH_SOCK unset\) and no usable identity file/);
  });
});

describe('exec', () => {
  const kh = () => {
    const p = f('kh-exec');
    writeFileSync(p, khLine(node.port, 'host_node') + khLine(jump.port, 'host_jump'));
    return p;
  };

  it('returns stdout, stderr, exit code and duration; feeds stdin', async () => {
    const s = await connect(target(node.port, { knownHostsFiles: [kh()] }), opts());
    try {
      expect(s.connectMs).toBeGreaterThanOrEqual(0);
      const r = await s.exec("echo out; echo err >&2; exit 3");
      expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', code: 3, signal: null });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      // with a timeout the command is wrapped; the wrapper is invisible
      const r2 = await s.exec("printf '%s' \"it's\"; echo e >&2; cat; exit 4", { stdin: 'in\n', timeoutMs: 5000 });
      expect(r2).toMatchObject({ stdout: "it'sin\n", stderr: 'e\n', code: 4 });
      const r3 = await s.exec('kill -TERM $$', { timeoutMs: 5000 });
      expect(r3).toMatchObject({ code: null, signal: 'SIGTERM' });
    } finally {
      s.close();
    }
  });

  it('a timed-out command rejects quickly, is killed, and the session stays usable', async () => {
    const s = await connect(target(node.port, { knownHostsFiles: [kh()] }), opts());
    const pidFile = f('sleeper.pid');
    const t0 = Date.now();
    const err = await sshError(s.exec(`echo $$ > ${pidFile}; sleep 30; echo never`, { timeoutMs: 400 }));
    expect(err.kind).toBe('exec-timeout');
    expect(err.message).toBe('command timed out after 400 ms');
    expect(Date.now() - t0).toBeLessThan(2000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 300));
    expect(() => process.kill(pid, 0)).toThrow(); // the whole process group is gone
    expect((await s.exec('echo still')).stdout).toBe('still\n');
    s.close();
    expect(s.closed).toBe(true);
    expect((await sshError(s.exec('true'))).kind).toBe('closed');
  });

  it('close() rejects running commands', async () => {
    const s = await connect(target(node.port, { knownHostsFiles: [kh()] }), opts());
    const p = s.exec('sleep 5');
    await new Promise((r) => setTimeout(r, 100));
    s.close();
    expect((await sshError(p)).kind).toBe('closed');
  });

  it('goes through a jump host (forwardOut + sock), verifying both host keys', async () => {
    const before = jump.forwards.length;
    const hop = { name: 'jump', host: '127.0.0.1', port: jump.port, user: 'hopper', identityFiles: [f('client')], knownHostsFiles: [kh()], strictHostKeyChecking: 'yes' as const };
    const s = await connect(target(node.port, { knownHostsFiles: [kh()], proxyJump: [hop] }), opts());
    expect(jump.forwards.slice(before)).toEqual([`127.0.0.1:${node.port}`]);
    expect(s.hostKeys.map((k) => k.fingerprint)).toEqual([fingerprintSha256(blob('host_jump')), fingerprintSha256(blob('host_node'))]);
    expect((await s.exec('echo via')).stdout).toBe('via\n');
    s.close();

    // unknown hop key: a hostkey error that names the hop
    const empty = f('kh-none');
    writeFileSync(empty, khLine(node.port, 'host_node'));
    const err = await sshError(connect(target(node.port, { knownHostsFiles: [kh()], proxyJump: [{ ...hop, knownHostsFiles: [empty] }] }), opts()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.hop).toBe(`hopper@127.0.0.1:${jump.port}`);
    expect(err.message).toMatch(/^jump host hopper@127\.0\.0\.1:\d+: host key for \[127\.0\.0\.1\]:\d+ is not known/);

    // the hop cannot reach the target
    const closed = await freePort();
    const err2 = await sshError(connect(target(closed, { knownHostsFiles: [kh()], proxyJump: [hop] }), opts()));
    expect(err2.kind).toBe('proxy');
    expect(err2.hop).toBe(`hopper@127.0.0.1:${jump.port}`);
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('network errors', () => {
  it('connection refused, quickly', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await sshError(connect(target(port), opts()));
    expect(err.kind).toBe('refused');
    expect(err.message).toBe('connection refused');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('timeout when the server never speaks', async () => {
    const srv = createServer(() => undefined);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    try {
      const err = await sshError(connect(target(port), opts({ connectTimeoutMs: 300 })));
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe('timed out after 300 ms');
    } finally {
      srv.close();
    }
  });

  it('dns failure', async () => {
    const err = await sshError(connect(target(22, { host: 'no-such-host.invalid' }), opts()));
    expect(err.kind).toBe('dns');
  });

  it('abort signal', async () => {
    const ac = new AbortController();
    ac.abort();
    expect((await sshError(connect(target(node.port), opts({ signal: ac.signal })))).message).toMatch(/aborted/);
  });
});

describe('sudo helpers', () => {
  it('wraps for non-root users only, quoting for sh', () => {
    expect(sudoWrap('ip -j addr', 'root')).toBe('ip -j addr');
    const wrapped = sudoWrap(`echo "it's" $HOME`, 'admin');
    expect(wrapped).toBe(`sudo -n sh -c 'echo "it'\\''s" $HOME'`);
    // the quoted part survives a real shell unchanged
    expect(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(`echo "it's" $HOME`)}`], { encoding: 'utf8' })).toBe(`echo "it's" $HOME`);
  });

  it('detects sudo asking for a password', () => {
    const e = sudoFailure({ stderr: 'sudo: a password is required\n', code: 1 }, 'admin', 'admin@10.0.0.1');
    expect(e?.kind).toBe('sudo-password');
    expect(e?.endpoint).toBe('admin@10.0.0.1');
    expect(sudoFailure({ stderr: '', code: 0 }, 'admin')).toBeNull();
    expect(sudoFailure({ stderr: 'other failure', code: 1 }, 'admin')).toBeNull();
  });

  it('withPgidReport reports the process group first on stderr and keeps the command intact', () => {
    const out = execFileSync('sh', ['-c', `${withPgidReport("echo \"a'b\" x; exit 0")} 2>&1`], { encoding: 'utf8' });
    expect(out).toMatch(/^@@netdoctor-pgid=\d+\na'b x\n$/);
  });
});
