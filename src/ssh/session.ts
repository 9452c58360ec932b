/**
 * One SSH connection to a swarm node (ssh2), optionally through ProxyJump
 * hops, with OpenSSH-like host key checking and one-line errors.
 *
 * - ONE TCP connection per node; each jump host adds its own, and the next
 *   hop's SSH connection runs over a `direct-tcpip` channel (forwardOut) of
 *   the previous one (ssh2's `sock` option), exactly like `ssh -J`.
 * - Every hop's host key and the node's are checked against known_hosts
 *   (known-hosts.ts) in ssh2's `hostVerifier`. Host key algorithms are ordered
 *   so that types already recorded for the host come first, as ssh does, so a
 *   host known by its RSA key is not reported "unknown" for offering ED25519.
 * - Auth: ssh-agent (SSH_AUTH_SOCK, or IdentityAgent) first, then the
 *   identity files in order; never passwords or keyboard-interactive.
 *   Encrypted keys use opts.passphrase, then $NETDOCTOR_SSH_PASSPHRASE, then a
 *   prompt when stdin and stderr are TTYs; otherwise they are skipped, and
 *   when nothing else is left that is a clear 'auth' error.
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Writable, type Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import type { AnyAuthMethod, Client, ClientChannel, ConnectConfig, ParsedKey } from 'ssh2';
import { shq, shqAlways } from '../text/shell.js';
import { describeEndpoint, type SshEndpoint, type SshTarget } from './config.js';
import {
  appendKnownHost,
  KnownHostsConflictError,
  keyTypeLabel,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
  verifyHostKey,
  type HostKeyVerdict,
} from './known-hosts.js';

// ssh2 is CommonJS and Node only detects some of its named exports: use the default export.
// Loaded on first use (a connection, a key to parse), not with this module: runs that make
// no SSH connection (gate --no-live, --from-bundle, nodes) import the pipeline without it.
let ssh2lib: typeof ssh2 | undefined;
const loadSsh2 = (): typeof ssh2 => (ssh2lib ??= createRequire(import.meta.url)('ssh2') as typeof ssh2);
/** Load ssh2 now (~60 ms of CPU), e.g. while the manager answers, rather than at the first connection. */
export const preloadSsh2 = (): void => void loadSsh2();

export type SshErrorKind =
  | 'timeout'
  | 'refused'
  | 'unreachable'
  | 'dns'
  | 'auth'
  | 'hostkey-unknown'
  | 'hostkey-changed'
  | 'hostkey-revoked'
  | 'proxy'
  | 'exec-timeout'
  | 'closed'
  | 'sudo-password';

export class SshError extends Error {
  readonly kind: SshErrorKind;
  /** Host key fingerprint (SHA256:...) for hostkey-* errors. */
  readonly fingerprint?: string;
  /** Host key type (ssh-ed25519, ...) for hostkey-* errors. */
  readonly keyType?: string;
  /** `user@host[:port]` of the server the error is about (a jump host for hop failures). */
  readonly endpoint?: string;
  /** Set when the failure happened at (or through) a jump host. */
  readonly hop?: string;

  constructor(
    kind: SshErrorKind,
    message: string,
    extra: { fingerprint?: string; keyType?: string; endpoint?: string; hop?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SshError';
    this.kind = kind;
    if (extra.fingerprint !== undefined) this.fingerprint = extra.fingerprint;
    if (extra.keyType !== undefined) this.keyType = extra.keyType;
    if (extra.endpoint !== undefined) this.endpoint = extra.endpoint;
    if (extra.hop !== undefined) this.hop = extra.hop;
  }
}

export interface ExecOptions {
  /** Written to the command's stdin, then EOF. Without it stdin gets EOF at once (like ssh -n). */
  stdin?: string;
  /**
   * Written after `stdin` once it resolves, then EOF (EOF alone if it rejects); `timeoutMs` then
   * counts from that moment. `sh -s` runs a script as it arrives: its head gets ready now, its
   * tail acts when the caller says so (which it must: until then only close() ends the command).
   */
  stdinTail?: Promise<string>;
  /** Kill the command (signal KILL, then close the channel) and reject with 'exec-timeout'. */
  timeoutMs?: number;
  /** Each stdout chunk as it arrives (stdout is still kept in the result, bounded): lets a caller act on a line before the command ends. */
  onStdout?: (chunk: Buffer) => void;
  /**
   * Take stdout as it arrives instead of buffering it (ExecResult.stdout is
   * then ''): the collection splits sections on the fly and bounds each.
   */
  takeStdout?: (chunk: Buffer) => void;
  /**
   * Bytes of stdout (when buffered) and of stderr kept; beyond, the rest is
   * counted and dropped (ExecResult.droppedBytes) while the command runs on
   * to its end or its timeout. Default EXEC_MAX_OUTPUT_BYTES.
   */
  maxOutputBytes?: number;
}

/** A node decides how much it prints: what one exec keeps of stdout and of stderr. */
export const EXEC_MAX_OUTPUT_BYTES = 64 * 2 ** 20;

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when the command died of a signal or the server sent none. */
  code: number | null;
  /** Signal name as Node spells it (e.g. SIGKILL) when the command died of one. */
  signal: string | null;
  durationMs: number;
  /** Bytes beyond maxOutputBytes that were dropped; absent when nothing was. */
  droppedBytes?: { stdout: number; stderr: number };
}

export interface HostKeyInfo {
  endpoint: string;
  fingerprint: string;
  keyType: string;
  /** match: in known_hosts; added: accepted and recorded; accepted: accepted but could not be recorded. */
  status: 'match' | 'added' | 'accepted';
}

export interface SshSession {
  exec(cmd: string, o?: ExecOptions): Promise<ExecResult>;
  /** Close the node's connection and every jump connection. Idempotent. */
  close(): void;
  readonly target: SshTarget;
  /** The node's host key fingerprint, SHA256:... */
  readonly hostKeyFingerprint: string;
  /** Host keys of every hop then the node, in connection order. */
  readonly hostKeys: readonly HostKeyInfo[];
  /** Time from connect() to an authenticated session, ms. */
  readonly connectMs: number;
  readonly closed: boolean;
}

export interface ConnectOptions {
  /** ssh2 readyTimeout for each connection (TCP + handshake + auth), and the limit for opening a jump channel. */
  connectTimeoutMs: number;
  /** SSH keepalives (ServerAliveInterval); 0/undefined disables. */
  keepaliveIntervalMs?: number;
  /** ServerAliveCountMax; default 3. */
  keepaliveCountMax?: number;
  /** ssh-agent socket; default $SSH_AUTH_SOCK (an endpoint's IdentityAgent wins). */
  agentSocket?: string;
  /** Passphrase for encrypted identity files; default $NETDOCTOR_SSH_PASSPHRASE. */
  passphrase?: string;
  /** Aborts the attempt; once connected, closes the session. */
  signal?: AbortSignal;
  /** Environment for SSH_AUTH_SOCK / NETDOCTOR_SSH_PASSPHRASE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Asks for an encrypted key's passphrase. Default: a prompt on the terminal
   * when stdin and stderr are TTYs, else none. Return undefined to skip the key.
   */
  promptPassphrase?: ((file: string) => Promise<string | undefined>) | null;
  /** Non-fatal notes: unreadable/malformed known_hosts lines, keys skipped, host keys added. */
  onWarning?: (message: string) => void;
  /** ssh2 debug output. */
  debug?: (message: string) => void;
}

// ---------------------------------------------------------------------------
// sudo

/** POSIX single-quote a string for sh (always quoted; see text/shell.ts). */
export const shellQuote = shqAlways;

/** Run `cmd` as root: unchanged for root, else `sudo -n sh -c '<cmd>'` (never prompts). */
export function sudoWrap(cmd: string, user: string): string {
  return user === 'root' ? cmd : `sudo -n sh -c ${shellQuote(cmd)}`;
}

/** Whether stderr says sudo refused because it wanted a password (sudo -n). */
export function sudoPasswordRequired(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required)/.test(stderr);
}

/** An 'sudo-password' SshError when `result` is sudo asking for a password, else null. */
export function sudoFailure(result: Pick<ExecResult, 'stderr' | 'code'>, user: string, endpoint?: string): SshError | null {
  if (result.code === 0 || !sudoPasswordRequired(result.stderr)) return null;
  return new SshError(
    'sudo-password',
    `sudo needs a password for ${user}; allow ${user} passwordless sudo (NOPASSWD) or connect as root`,
    endpoint === undefined ? {} : { endpoint },
  );
}

// ---------------------------------------------------------------------------
// Identity files and passphrases

type KeyLoad = { key: ParsedKey } | { encrypted: true } | { error: string };

const keyCache = new Map<string, Promise<KeyLoad>>();
const promptCache = new Map<string, Promise<string | undefined>>();
let promptChain: Promise<unknown> = Promise.resolve();

function parseKeyData(data: Buffer, passphrase: string | undefined): KeyLoad {
  const parsed = loadSsh2().utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error;
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) return { encrypted: true };
    if (/bad passphrase/i.test(parsed.message)) return { error: 'bad passphrase' };
    return { error: parsed.message };
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return { error: 'no key in file' };
  if (!key.isPrivateKey()) return { error: 'not a private key' };
  return { key };
}

/** Parse an identity file, cached per (path, mtime, passphrase): bcrypt-protected keys are slow to decrypt. */
async function loadKey(file: string, passphrase: string | undefined): Promise<KeyLoad> {
  let mtime: number;
  try {
    mtime = (await stat(file)).mtimeMs;
  } catch (err) {
    return { error: (err as Error).message };
  }
  const id = `${file}\0${mtime}\0${passphrase ?? ''}`;
  let p = keyCache.get(id);
  if (!p) {
    p = readFile(file).then(
      (data) => parseKeyData(data, passphrase),
      (err: Error) => ({ error: err.message }),
    );
    keyCache.set(id, p);
  }
  return p;
}

async function ttyPrompt(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return new Promise((resolve) => {
    const muted = new Writable({ write: (_c, _e, cb) => cb() });
    process.stderr.write(question);
    const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      resolve(undefined);
    });
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** One prompt per key file for the whole process, and one at a time. */
function askPassphrase(file: string, prompt: (file: string) => Promise<string | undefined>): Promise<string | undefined> {
  let p = promptCache.get(file);
  if (!p) {
    p = promptChain.then(() => prompt(file));
    promptChain = p.catch(() => undefined);
    promptCache.set(file, p);
  }
  return p;
}

interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What was offered, for the "permission denied" message. */
  offered: string[];
  /** Why identity files were skipped. */
  skipped: string[];
}

async function planAuth(ep: SshEndpoint, opts: ConnectOptions, env: NodeJS.ProcessEnv): Promise<AuthPlan> {
  const plan: AuthPlan = { methods: [], offered: [], skipped: [] };
  const agent = ep.identityAgent === null ? undefined : (ep.identityAgent ?? opts.agentSocket ?? env.SSH_AUTH_SOCK);
  if (agent && !ep.identitiesOnly) {
    plan.methods.push({ type: 'agent', username: ep.user, agent });
    plan.offered.push('ssh-agent');
  }
  const passphrase = opts.passphrase ?? env.NETDOCTOR_SSH_PASSPHRASE;
  const prompt =
    opts.promptPassphrase === null ? undefined : (opts.promptPassphrase ?? ((f: string) => ttyPrompt(`Enter passphrase for key '${f}': `)));
  const encryptedNoPass: string[] = [];
  for (const file of ep.identityFiles) {
    let loaded = await loadKey(file, passphrase);
    if ('encrypted' in loaded && prompt) {
      const answer = await askPassphrase(file, prompt);
      if (answer !== undefined && answer !== '') loaded = await loadKey(file, answer);
    }
    if ('key' in loaded) {
      plan.methods.push({ type: 'publickey', username: ep.user, key: loaded.key });
      plan.offered.push(file);
    } else if ('encrypted' in loaded) {
      encryptedNoPass.push(file);
      plan.skipped.push(`${file} (encrypted, no passphrase)`);
    } else {
      plan.skipped.push(`${file} (${loaded.error})`);
    }
  }
  if (plan.methods.length === 0) {
    const who = describeEndpoint(ep);
    if (encryptedNoPass.length > 0) {
      throw new SshError(
        'auth',
        `identity file ${encryptedNoPass.join(', ')} is encrypted and there is no passphrase${prompt ? '' : ' (no TTY to ask)'}: set NETDOCTOR_SSH_PASSPHRASE or load the key into ssh-agent`,
        { endpoint: who },
      );
    }
    const why = plan.skipped.length > 0 ? `; skipped ${plan.skipped.join(', ')}` : '';
    throw new SshError('auth', `no credentials for ${who}: no ssh-agent (SSH_AUTH_SOCK unset) and no usable identity file${why}`, {
      endpoint: who,
    });
  }
  return plan;
}

// ---------------------------------------------------------------------------
// Connecting

/** ssh2's default host key algorithm order (ssh2 1.x, Node with Ed25519). */
const HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgo = (typeof HOST_KEY_ALGOS)[number] | 'ssh-dss';

const algosForKeyType = (t: string): HostKeyAlgo[] =>
  t === 'ssh-rsa'
    ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
    : t === 'ssh-dss'
      ? ['ssh-dss']
      : (HOST_KEY_ALGOS as readonly string[]).includes(t)
        ? [t as HostKeyAlgo]
        : [];

/** Known key types first (in default order), then the rest: what ssh does with known_hosts. */
export function hostKeyAlgorithms(knownTypes: readonly string[]): HostKeyAlgo[] {
  const preferred = HOST_KEY_ALGOS.filter((a) => knownTypes.some((t) => algosForKeyType(t).includes(a)));
  const rest = HOST_KEY_ALGOS.filter((a) => !preferred.includes(a));
  const dss: HostKeyAlgo[] = knownTypes.includes('ssh-dss') ? ['ssh-dss'] : [];
  return [...preferred, ...dss, ...rest];
}

function hostKeyError(v: HostKeyVerdict, endpoint: string): SshError {
  const label = `${keyTypeLabel(v.keyType)} ${v.fingerprint}`;
  const extra = { fingerprint: v.fingerprint, keyType: v.keyType, endpoint };
  if (v.status === 'revoked') {
    const at = v.matchedAt ? ` (${v.matchedAt.file}:${v.matchedAt.line})` : '';
    return new SshError('hostkey-revoked', `host key for ${v.lookupName} is REVOKED${at} (${label}); refusing to connect`, extra);
  }
  if (v.status === 'changed') {
    const at = (v.conflicts ?? []).map((c) => `${c.file}:${c.line}`).join(', ');
    return new SshError(
      'hostkey-changed',
      `REMOTE HOST IDENTIFICATION HAS CHANGED for ${v.lookupName}: it offered ${label}, known_hosts has another ${keyTypeLabel(v.keyType)} key (${at}); if the node was reinstalled, remove the old key with ssh-keygen -R ${shq(v.lookupName)}`,
      extra,
    );
  }
  const other = v.otherKeyTypes?.length ? `; known_hosts only has ${v.otherKeyTypes.map(keyTypeLabel).join(', ')} keys for it` : '';
  return new SshError(
    'hostkey-unknown',
    `host key for ${v.lookupName} is not known (${label})${other}; add it to known_hosts or use --accept-new-host-keys`,
    extra,
  );
}

type Errno = Error & { code?: string | number; level?: string; syscall?: string; hostname?: string };

function classify(err: Errno, ep: SshEndpoint, timeoutMs: number): SshError {
  const who = describeEndpoint(ep);
  const code = typeof err.code === 'string' ? err.code : undefined;
  const msg = err.message;
  const mk = (kind: SshErrorKind, m: string) => new SshError(kind, m, { endpoint: who, cause: err });
  if (err.level === 'client-timeout' || code === 'ETIMEDOUT') {
    return mk('timeout', msg === 'Keepalive timeout' ? 'connection lost (keepalive timeout)' : `timed out after ${timeoutMs} ms`);
  }
  if (code === 'ECONNREFUSED') return mk('refused', 'connection refused');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL' || err.level === 'client-dns') {
    return mk('dns', `could not resolve hostname ${ep.host}${code === 'EAI_AGAIN' ? ' (temporary DNS failure)' : ''}`);
  }
  if (code === 'EHOSTUNREACH' || code === 'EHOSTDOWN') return mk('unreachable', 'no route to host');
  if (code === 'ENETUNREACH') return mk('unreachable', 'network is unreachable');
  if (code === 'ECONNRESET' || code === 'EPIPE') return mk('closed', 'connection reset by peer');
  if (err.level === 'client-authentication') return mk('auth', msg);
  return mk('closed', `connection failed: ${msg}`);
}

const warnedOnce = new Set<string>();

interface Connected {
  client: Client;
  hostKey: HostKeyInfo;
}

/** The authentication plan and the known_hosts entries for one endpoint; problems with local files are warned once per process, not once per node. */
async function authAndKnownHosts(ep: SshEndpoint, opts: ConnectOptions, env: NodeJS.ProcessEnv, warn: (m: string) => void) {
  const plan = await planAuth(ep, opts, env);
  const warnOnce = (m: string) => {
    if (warnedOnce.has(m)) return;
    warnedOnce.add(m);
    warn(m);
  };
  for (const s of plan.skipped) warnOnce(`identity file ${s} skipped`);

  const known = await loadKnownHosts(ep.knownHostsFiles);
  for (const p of known.problems) warnOnce(`${p.file}${p.line ? `:${p.line}` : ''}: ${p.reason}; ${p.line ? 'line' : 'file'} ignored`);
  return { plan, known };
}

async function connectOne(
  ep: SshEndpoint,
  sock: Duplex | undefined,
  opts: ConnectOptions,
  env: NodeJS.ProcessEnv,
  warn: (m: string) => void,
  signal: AbortSignal | undefined,
): Promise<Connected> {
  const who = describeEndpoint(ep);
  const { plan, known } = await authAndKnownHosts(ep, opts, env, warn);
  const keyHost = ep.hostKeyAlias ?? ep.host;
  const keyPort = ep.hostKeyAlias ? 22 : ep.port;

  return new Promise<Connected>((resolve, reject) => {
    const client = new (loadSsh2().Client)();
    let settled = false;
    let hostKeyFailure: SshError | undefined;
    let hostKey: HostKeyInfo | undefined;
    const notes: string[] = [];

    const fail = (e: SshError) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      client.destroy();
      reject(e);
    };
    const onAbort = () => fail(new SshError('closed', 'connection attempt aborted', { endpoint: who }));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const hostVerifier = makeHostVerifier(ep, known.entries, warn, {
      accept: (k) => {
        hostKey = k;
      },
      refuse: (e) => {
        hostKeyFailure = e;
      },
    });

    client.on('error', (err: Errno) => {
      if (settled) return;
      const e = handshakeError(err, notes, plan, ep, opts.connectTimeoutMs);
      if (e) fail(hostKeyFailure ?? e);
    });
    client.on('close', () => {
      if (settled) return;
      fail(hostKeyFailure ?? new SshError('closed', 'connection closed by remote host during handshake', { endpoint: who }));
    });
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ client, hostKey: hostKey ?? { endpoint: who, fingerprint: '', keyType: '', status: 'match' } });
    });

    const cfg = connectConfig(ep, opts, plan, hostVerifier, knownKeyTypes(known.entries, keyHost, keyPort));
    if (sock) cfg.sock = sock;
    if (opts.debug) cfg.debug = opts.debug;
    try {
      client.connect(cfg);
      // ssh2 leaves Nagle's algorithm on: each small message written while one is unacknowledged
      // (key exchange, channel open then exec then stdin) waits for the peer's delayed ACK, ~40 ms.
      client.setNoDelay(true);
    } catch (err) {
      fail(classify(err as Errno, ep, opts.connectTimeoutMs));
    }
  });
}

/**
 * What an ssh2 'error' event during the handshake means: ssh2 reports agent
 * and per-key signing problems as errors and then goes on with the next
 * method (a note for the final message: null), else the connection failed.
 */
function handshakeError(err: Errno, notes: string[], plan: AuthPlan, ep: SshEndpoint, connectTimeoutMs: number): SshError | null {
  const allFailed = /All configured authentication methods failed/.test(err.message);
  if (err.level === 'agent') notes.push(`ssh-agent: ${err.message}`);
  else if (err.level === 'client-authentication' && !allFailed) notes.push(err.message);
  else return allFailed ? authError(err, plan, notes, describeEndpoint(ep)) : classify(err, ep, connectTimeoutMs);
  return null;
}

/**
 * The ssh2 hostVerifier for one endpoint: a known key passes, a changed or
 * revoked one is refused under every policy, an unknown one is refused under
 * StrictHostKeyChecking=yes and otherwise recorded in the first known_hosts file.
 */
function makeHostVerifier(
  ep: SshEndpoint,
  entries: Awaited<ReturnType<typeof loadKnownHosts>>['entries'],
  warn: (m: string) => void,
  set: { accept: (k: HostKeyInfo) => void; refuse: (e: SshError) => void },
): (key: Buffer, verify: (ok: boolean) => void) => void {
  const who = describeEndpoint(ep);
  const keyHost = ep.hostKeyAlias ?? ep.host;
  const keyPort = ep.hostKeyAlias ? 22 : ep.port;
  return (key: Buffer, verify: (ok: boolean) => void): void => {
    const v = verifyHostKey(entries, keyHost, keyPort, key);
    const info = (status: HostKeyInfo['status']): HostKeyInfo => ({
      endpoint: who,
      fingerprint: v.fingerprint,
      keyType: v.keyType,
      status,
    });
    if (v.status === 'match') {
      set.accept(info('match'));
      verify(true);
      return;
    }
    if (v.status !== 'unknown' || ep.strictHostKeyChecking === 'yes') {
      // 'changed' and 'revoked' are refused under every policy, StrictHostKeyChecking=no included.
      set.refuse(hostKeyError(v, who));
      verify(false);
      return;
    }
    const file = ep.knownHostsFiles[0];
    if (file === undefined) {
      warn(`${who}: accepted ${keyTypeLabel(v.keyType)} host key ${v.fingerprint} (no known_hosts file to record it in)`);
      set.accept(info('accepted'));
      verify(true);
      return;
    }
    appendKnownHost(file, keyHost, keyPort, key).then(
      (r) => {
        if (r === 'added') warn(`permanently added ${knownHostName(keyHost, keyPort)} (${keyTypeLabel(v.keyType)} ${v.fingerprint}) to ${file}`);
        set.accept(info(r === 'added' ? 'added' : 'match'));
        verify(true);
      },
      (err: unknown) => {
        if (err instanceof KnownHostsConflictError) {
          // Another connection recorded a different key meanwhile: treat as changed.
          set.refuse(hostKeyError({ ...err.verdict, fingerprint: v.fingerprint, keyType: v.keyType }, who));
          verify(false);
          return;
        }
        warn(`${who}: could not record host key in ${file}: ${(err as Error).message}`);
        set.accept(info('accepted'));
        verify(true);
      },
    );
  };
}

/** "permission denied" naming the identities offered and skipped and what ssh2 said about each. */
function authError(err: Errno, plan: Awaited<ReturnType<typeof planAuth>>, notes: string[], who: string): SshError {
  const skipped = plan.skipped.length > 0 ? `; skipped ${plan.skipped.join(', ')}` : '';
  const extra = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  return new SshError('auth', `permission denied for ${who} (publickey); offered ${plan.offered.join(', ')}${skipped}${extra}`, {
    endpoint: who,
    cause: err,
  });
}

function connectConfig(
  ep: SshEndpoint,
  opts: ConnectOptions,
  plan: Awaited<ReturnType<typeof planAuth>>,
  hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => void,
  knownTypes: ReturnType<typeof knownKeyTypes>,
): ConnectConfig {
  return {
    host: ep.host,
    port: ep.port,
    username: ep.user,
    readyTimeout: opts.connectTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 0,
    keepaliveCountMax: opts.keepaliveCountMax ?? 3,
    hostVerifier,
    algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) },
    authHandler: plan.methods,
    tryKeyboard: false,
  };
}

/** Open a direct-tcpip channel from `via` to the next hop (what `ssh -W host:port` does). */
function forwardTo(via: Client, next: SshEndpoint, timeoutMs: number, viaName: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const target = describeEndpoint(next);
    const timer = setTimeout(() => {
      reject(
        new SshError('timeout', `timed out after ${timeoutMs} ms (opening ${next.host}:${next.port} from jump host ${viaName})`, {
          endpoint: target,
          hop: viaName,
        }),
      );
    }, timeoutMs);
    try {
      via.forwardOut('127.0.0.1', 0, next.host, next.port, (err, stream) => {
        clearTimeout(timer);
        if (!err) return resolve(stream);
        const m = err.message.replace(/^\(SSH\) Channel open failure: ?/, '');
        const from = `(from jump host ${viaName})`;
        const extra = { endpoint: target, hop: viaName, cause: err };
        if (/refused/i.test(m)) return reject(new SshError('refused', `connection refused ${from}`, extra));
        if (/no route|unreachable/i.test(m)) return reject(new SshError('unreachable', `no route to host ${from}`, extra));
        if (/timed out/i.test(m)) return reject(new SshError('timeout', `connection timed out ${from}`, extra));
        if (/name or service|not known|resolve|nodename/i.test(m)) {
          return reject(new SshError('dns', `could not resolve hostname ${next.host} ${from}`, extra));
        }
        reject(
          new SshError(
            'proxy',
            `jump host ${viaName} could not open a connection to ${next.host}:${next.port}: ${m || 'administratively prohibited'}`,
            extra,
          ),
        );
      });
    } catch (err) {
      clearTimeout(timer);
      reject(new SshError('proxy', `jump host ${viaName}: ${(err as Error).message}`, { endpoint: target, hop: viaName, cause: err }));
    }
  });
}

/** Re-label an error that happened while connecting to jump host `hop`. */
function atHop(err: SshError, hop: string): SshError {
  const extra = {
    hop,
    endpoint: err.endpoint ?? hop,
    cause: err,
    ...(err.fingerprint === undefined ? {} : { fingerprint: err.fingerprint }),
    ...(err.keyType === undefined ? {} : { keyType: err.keyType }),
  };
  // Host key problems keep their kind: the remedy (known_hosts / --accept-new-host-keys) is the same.
  const kind: SshErrorKind = err.kind.startsWith('hostkey-') ? err.kind : 'proxy';
  return new SshError(kind, `jump host ${hop}: ${err.message}`, extra);
}

/**
 * The output of one exec: stdout and stderr kept up to a cap each (the rest
 * counted as dropped), and the process-group report that withPgidReport puts on
 * the first stderr line taken off and handed to onPgid.
 */
class ExecCapture {
  private readonly out: Buffer[] = [];
  private readonly errOut: Buffer[] = [];
  private outBytes = 0;
  private errBytes = 0;
  private readonly dropped = { stdout: 0, stderr: 0 };
  private head: Buffer | null = Buffer.alloc(0);

  constructor(
    private readonly cap: number,
    private readonly onPgid: (pgid: number) => void,
  ) {}

  stdout(d: Buffer): void {
    const take = Math.min(d.length, Math.max(0, this.cap - this.outBytes));
    if (take > 0) this.out.push(take === d.length ? d : d.subarray(0, take));
    this.outBytes += take;
    this.dropped.stdout += d.length - take;
  }

  stderr(d: Buffer): void {
    if (this.head === null) {
      this.keepErr(d);
      return;
    }
    this.head = Buffer.concat([this.head, d]);
    this.takeHead(false);
  }

  /** The first stderr line is our process-group report (see withPgidReport). */
  takeHead(final: boolean): void {
    const head = this.head;
    if (head === null) return;
    const nl = head.indexOf(10);
    if (nl < 0 && !final && head.length < 64) return;
    const line = head.subarray(0, nl < 0 ? head.length : nl).toString('latin1');
    if (line.startsWith(PGID_MARK)) {
      const n = Number(line.slice(PGID_MARK.length));
      if (Number.isInteger(n) && n > 1) this.onPgid(n);
      this.keepErr(head.subarray(nl < 0 ? head.length : nl + 1));
    } else {
      this.keepErr(head);
    }
    this.head = null;
  }

  result(code: number | null, signal: string | null, durationMs: number): ExecResult {
    const dropped = this.dropped;
    return {
      stdout: Buffer.concat(this.out).toString('utf8'),
      stderr: Buffer.concat(this.errOut).toString('utf8'),
      code,
      signal,
      durationMs,
      ...(dropped.stdout > 0 || dropped.stderr > 0 ? { droppedBytes: dropped } : {}),
    };
  }

  private keepErr(d: Buffer): void {
    const take = Math.min(d.length, Math.max(0, this.cap - this.errBytes));
    if (take > 0) this.errOut.push(take === d.length ? d : d.subarray(0, take));
    this.errBytes += take;
    this.dropped.stderr += d.length - take;
  }
}

class Session implements SshSession {
  private readonly clients: Client[];
  private readonly client: Client;
  private isClosed = false;
  /** Connection already gone (no channel can be opened to clean up). */
  private lost = false;
  /** Process groups of commands still running on the node. */
  private readonly running = new Set<number>();
  private readonly pending = new Set<(e: SshError) => void>();
  private lostReason: string | undefined;

  constructor(
    clients: Client[],
    readonly target: SshTarget,
    readonly hostKeys: readonly HostKeyInfo[],
    readonly connectMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.clients = clients;
    const last = clients[clients.length - 1];
    if (!last) throw new Error('no connection');
    this.client = last;
    for (const c of clients) {
      c.on('error', (err: Errno) => {
        if (err.level === 'client-timeout') this.lostReason = 'connection lost (keepalive timeout)';
        else this.lostReason ??= `connection lost: ${err.message}`;
      });
      c.on('close', () => this.onLost());
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get hostKeyFingerprint(): string {
    return this.hostKeys[this.hostKeys.length - 1]?.fingerprint ?? '';
  }

  get closed(): boolean {
    return this.isClosed;
  }

  private readonly onAbort = () => this.close();

  private onLost(): void {
    if (this.isClosed) return;
    this.lost = true;
    const err = new SshError('closed', this.lostReason ?? 'connection closed by remote host', { endpoint: describeEndpoint(this.target) });
    this.close();
    for (const rej of this.pending) rej(err);
    this.pending.clear();
  }

  exec(cmd: string, o: ExecOptions = {}): Promise<ExecResult> {
    const who = describeEndpoint(this.target);
    if (this.isClosed) return Promise.reject(new SshError('closed', 'connection is closed', { endpoint: who }));
    return new Promise<ExecResult>((resolve, reject) => {
      const start = performance.now();
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let channel: ClientChannel | undefined;
      let pgid: number | undefined;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        if (pgid !== undefined) this.running.delete(pgid);
        this.pending.delete(onLost);
        fn();
      };
      const onLost = (e: SshError) => finish(() => reject(e));
      this.pending.add(onLost);

      const arm = () => {
        if (o.timeoutMs === undefined || done) return;
        const ms = o.timeoutMs;
        timer = setTimeout(() => {
          finish(() => {
            if (channel) killChannel(channel);
            if (pgid !== undefined) this.killProcessGroup(pgid);
            reject(new SshError('exec-timeout', `command timed out after ${ms} ms`, { endpoint: who }));
          });
        }, ms);
      };
      if (o.stdinTail === undefined) arm();
      else o.stdinTail.then(arm, arm);
      try {
        // Every command reports its process group first, so that a timeout or
        // close() can kill it for sure (see killProcessGroup).
        this.client.exec(withPgidReport(cmd), (err, stream) => {
          if (err) {
            finish(() => reject(new SshError('closed', `could not start command: ${err.message}`, { endpoint: who, cause: err })));
            return;
          }
          channel = stream;
          if (done) {
            // Timed out (or connection lost) before the channel opened.
            killChannel(stream);
            return;
          }
          const capture = new ExecCapture(o.maxOutputBytes ?? EXEC_MAX_OUTPUT_BYTES, (n) => {
            pgid = n;
            if (done) this.killProcessGroup(n);
            else this.running.add(n);
          });
          let code: number | null = null;
          let sig: string | null = null;
          const takeStdout = o.takeStdout;
          stream.on('data', (d: Buffer) => {
            o.onStdout?.(d);
            if (takeStdout) takeStdout(d);
            else capture.stdout(d);
          });
          stream.stderr.on('data', (d: Buffer) => capture.stderr(d));
          stream.on('exit', (c: number | null, s?: string) => {
            code = typeof c === 'number' ? c : null;
            sig = s ?? null;
          });
          stream.on('close', () => {
            capture.takeHead(true);
            finish(() => resolve(capture.result(code, sig, Math.round(performance.now() - start))));
          });
          stream.on('error', () => undefined);
          feedStdin(stream, o);
        });
      } catch (err) {
        finish(() => reject(new SshError('closed', `could not start command: ${(err as Error).message}`, { endpoint: who, cause: err })));
      }
    });
  }

  /**
   * Kill a timed-out command's whole process group from a second channel:
   * OpenSSH refuses "signal" requests in root sessions (no privilege-separated
   * child after a root login), so the KILL sent on the channel alone would
   * leave the command running on the node.
   */
  private killProcessGroup(pgids: number | number[], then?: () => void): void {
    if (this.isClosed && !then) return;
    const groups = (Array.isArray(pgids) ? pgids : [pgids]).map((g) => `-${g}`).join(' ');
    // `kill -s KILL -- -PGID` is POSIX; dash and busybox also take `kill -KILL -PGID`.
    const k = `kill -s KILL -- ${groups} 2>/dev/null || kill -KILL ${groups} 2>/dev/null`;
    const kill = `${k}; [ "$(id -u)" = 0 ] || sudo -n sh -c ${shellQuote(k)} 2>/dev/null; true`;
    try {
      this.client.exec(kill, (err, s) => {
        if (err) {
          then?.();
          return;
        }
        s.on('error', () => undefined);
        if (then) s.on('close', then);
        s.resume();
        s.stderr.resume();
        s.end();
      });
    } catch {
      // connection gone: nothing more we can do
      then?.();
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    const end = () => {
      for (const c of [...this.clients].reverse()) {
        try {
          c.end();
        } catch {
          // already gone
        }
      }
    };
    // Commands still running are killed on the node before the connection
    // ends: without a TTY, sshd sends them no hang-up and they would live on.
    const groups = [...this.running];
    this.running.clear();
    if (groups.length > 0 && !this.lost) {
      const fallback = setTimeout(end, 2000);
      fallback.unref();
      this.killProcessGroup(groups, () => {
        clearTimeout(fallback);
        end();
      });
    } else {
      end();
    }
    const err = new SshError('closed', 'connection closed', { endpoint: describeEndpoint(this.target) });
    for (const rej of this.pending) rej(err);
    this.pending.clear();
  }
}

const PGID_MARK = '@@netdoctor-pgid=';

/** Write `stdin`, then EOF; with `stdinTail`, the tail and EOF once it resolves (EOF alone if it rejects). */
function feedStdin(stream: ClientChannel, o: ExecOptions): void {
  if (o.stdinTail === undefined) {
    stream.end(o.stdin ?? undefined);
    return;
  }
  if (o.stdin !== undefined) stream.write(o.stdin);
  o.stdinTail.then(
    (tail) => stream.end(tail),
    () => stream.end(),
  );
}

/**
 * Wrap a command so that its process group id (sshd makes each session's
 * command a session and process-group leader; `exec` keeps that pid) is the
 * first line on stderr; exec() strips that line. Used only for commands with a
 * timeout, so that they can be killed for sure.
 */
export function withPgidReport(cmd: string): string {
  return `exec sh -c ${shellQuote(`echo "${PGID_MARK}$$" >&2; exec sh -c "$1"`)} netdoctor ${shellQuote(cmd)}`;
}

/**
 * Send KILL to the remote command's process group and close the channel.
 * ssh2's Channel.signal() is a no-op once our side sent EOF (which exec() does
 * right away), yet servers accept the request until the channel is closed
 * (OpenSSH >= 7.9 delivers it), so the request is sent through the channel's
 * protocol object directly when needed.
 */
function killChannel(ch: ClientChannel): void {
  const c = ch as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  try {
    if (c.outgoing && (c.outgoing.state === 'open' || c.outgoing.state === 'eof') && c._client?._protocol) {
      c._client._protocol.signal(c.outgoing.id, 'KILL');
    } else {
      ch.signal('KILL');
    }
  } catch {
    // unsupported: closing the channel is all we can do
  }
  try {
    ch.close();
  } catch {
    // already closed
  }
}

/**
 * Connect to a node (through its ProxyJump hops, each verified and
 * authenticated on its own) and return an authenticated session. Rejects with
 * SshError; a failure at or through a jump host has `hop` set. The kind
 * says what failed: hostkey-* for a hop's key, 'refused'/'timeout'/… when the
 * hop could not reach the next host (the message says "from jump host …"),
 * 'proxy' for any other hop failure.
 */
export async function connect(target: SshTarget, opts: ConnectOptions): Promise<SshSession> {
  const start = performance.now();
  const env = opts.env ?? process.env;
  const warn = opts.onWarning ?? (() => undefined);
  const chain: SshEndpoint[] = [...target.proxyJump, target];
  const clients: Client[] = [];
  const hostKeys: HostKeyInfo[] = [];
  let sock: Duplex | undefined;
  try {
    for (const [i, ep] of chain.entries()) {
      const isHop = i < chain.length - 1;
      const name = describeEndpoint(ep);
      let conn: Connected;
      try {
        conn = await connectOne(ep, sock, opts, env, warn, opts.signal);
      } catch (err) {
        const e = err instanceof SshError ? err : new SshError('closed', (err as Error).message, { cause: err });
        throw isHop ? atHop(e, name) : e;
      }
      clients.push(conn.client);
      hostKeys.push(conn.hostKey);
      const next = chain[i + 1];
      if (next) {
        if (opts.signal?.aborted) throw new SshError('closed', 'connection attempt aborted', { endpoint: describeEndpoint(target) });
        sock = await forwardTo(conn.client, next, opts.connectTimeoutMs, name);
      }
    }
  } catch (err) {
    for (const c of clients.reverse()) {
      try {
        c.end();
        c.destroy();
      } catch {
        // ignore
      }
    }
    throw err;
  }
  const session = new Session(clients, target, hostKeys, Math.round(performance.now() - start), opts.signal);
  if (opts.signal?.aborted) {
    session.close();
    throw new SshError('closed', 'connection attempt aborted', { endpoint: describeEndpoint(target) });
  }
  return session;
}
