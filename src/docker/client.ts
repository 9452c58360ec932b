/**
 * A dockerode client for a resolved endpoint, and the "is this a swarm
 * manager?" gate every cluster command goes through.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import url from 'node:url';
import type Dockerode from 'dockerode';
import type ssh2 from 'ssh2';
import DockerodeClient from './dockerode.js';
import { parseKnownHosts, verifyHostKey, type HostKeyVerdict } from '../ssh/known-hosts.js';
import { type NetdoctorError, unreachableError, usageError } from '../errors.js';
import { parseSSHURL, type ResolvedEndpoint } from './endpoint.js';
import { rememberInfo } from './info-once.js';

export interface DockerClientOptions {
  /** Per-request socket inactivity timeout (ms), passed to docker-modem. None by default. */
  timeoutMs?: number;
  /** Environment for SSH_AUTH_SOCK (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Home directory for the default ssh identities (default: os.homedir()). */
  homedir?: string;
}

/** Options docker-modem understands beyond @types/dockerode's DockerOptions. */
type ModemOptions = Dockerode.DockerOptions & {
  agent?: https.Agent;
  pathPrefix?: string;
};

/**
 * Build a dockerode client for the endpoint:
 *  - unix / npipe → socketPath;
 *  - tcp → http, or https with the endpoint's CA/cert/key (contents read here)
 *    and, without verification, an https.Agent with rejectUnauthorized: false;
 *  - ssh → docker-modem's ssh protocol, which, like the docker CLI, runs
 *    `docker system dial-stdio` on the remote host (over ssh2, not the ssh binary).
 * Throws usage errors (exit 2) for unreadable TLS files or unsupported URLs.
 */
export function createDockerClient(ep: ResolvedEndpoint, options: DockerClientOptions = {}): Dockerode {
  const env = options.env ?? process.env;
  // Every key docker-modem could take from its DOCKER_HOST-based defaults is
  // set explicitly (undefined included), so they cannot leak in; see
  // withoutModemEnv for why the environment is also hidden.
  const base: ModemOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    username: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    agent: undefined,
    sshOptions: undefined,
    timeout: options.timeoutMs,
    pathPrefix: undefined,
  };
  let modemOptions: ModemOptions;
  switch (ep.protocol) {
    case 'unix':
      modemOptions = { ...base, socketPath: ep.host.slice('unix://'.length) };
      break;
    case 'npipe':
      modemOptions = { ...base, socketPath: ep.host.slice('npipe://'.length) };
      break;
    case 'tcp':
      modemOptions = { ...base, ...tcpOptions(ep) };
      break;
    case 'ssh':
      modemOptions = { ...base, ...sshModemOptions(ep, env, options.homedir ?? os.homedir(), options.timeoutMs) };
      silenceModemSshUrlWarning();
      break;
  }
  return withoutModemEnv(() => new DockerodeClient(modemOptions));
}

function tcpOptions(ep: ResolvedEndpoint): ModemOptions {
  // tcp://host:port[/path]. Like the docker client, a URL path is a prefix of
  // every request (/prefix/_ping, /prefix/info). docker-modem resolves request
  // paths from the root but puts its `version` in front of each one, so the
  // prefix travels there (netdoctor sets no API version of its own).
  const u = new URL(`http://${ep.host.slice('tcp://'.length)}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? 80 : Number(u.port);
  const prefix = u.pathname.replace(/^\/+|\/+$/g, '');
  const base: ModemOptions = prefix === '' ? {} : { version: prefix };
  if (!ep.tls) return { ...base, host, port, protocol: 'http' };

  const read = (file: string | undefined, what: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw usageError(`cannot read TLS ${what} ${file}: ${reason(err)}`, err);
    }
  };
  const ca = read(ep.tls.ca, 'CA certificate');
  // As in docker, a client certificate is only used with its key.
  const haveKeyPair = ep.tls.cert !== undefined && ep.tls.key !== undefined;
  const cert = haveKeyPair ? read(ep.tls.cert, 'client certificate') : undefined;
  const key = haveKeyPair ? read(ep.tls.key, 'client key') : undefined;
  // docker-modem passes ca/cert/key per request but has no rejectUnauthorized;
  // an agent's options take precedence over request options in Node, so the
  // agent carries the complete TLS configuration.
  const agent = new https.Agent({ ca, cert, key, rejectUnauthorized: ep.tls.verify, keepAlive: false });
  return { ...base, host, port, protocol: 'https', ca, cert, key, agent };
}

function sshModemOptions(ep: ResolvedEndpoint, env: NodeJS.ProcessEnv, homedir: string, timeoutMs: number | undefined): ModemOptions {
  let target;
  try {
    target = parseSSHURL(ep.host);
  } catch (err) {
    throw usageError(`invalid docker host ${ep.host}: ${reason(err)}`, err);
  }
  if (target.path !== undefined) {
    // docker runs `docker --host unix://<path> system dial-stdio`; docker-modem
    // always runs plain `docker system dial-stdio`.
    throw usageError(`docker host ${ep.host}: a remote socket path in an ssh URL is not supported by netdoctor; use ssh://[user@]host[:port]`);
  }
  const sshOptions: ssh2.ConnectConfig = {};
  if (env.SSH_AUTH_SOCK) sshOptions.agent = env.SSH_AUTH_SOCK;
  // Like ssh, also offer the first default identity that needs no passphrase.
  const privateKey = defaultIdentity(homedir);
  if (privateKey) sshOptions.privateKey = privateKey;
  if (timeoutMs !== undefined) sshOptions.readyTimeout = timeoutMs;
  // Unlike ssh2's default, the daemon's host key must be known, as the docker CLI's ssh requires.
  sshOptions.hostVerifier = sshHostVerifier(target.host, target.port ?? 22, env, homedir);
  return {
    protocol: 'ssh',
    host: target.host,
    port: target.port ?? 22,
    // ssh defaults to the local user name; ssh2 needs one.
    username: target.user ?? localUser(),
    sshOptions,
  };
}

/** Host-key verdicts of ssh:// daemons, by host, for the error message when one is refused. */
const refusedHostKeys = new Map<string, HostKeyVerdict>();

/**
 * Verify an ssh:// daemon's host key against known_hosts: NETDOCTOR_SSH_KNOWN_HOSTS
 * when set (the same variable as --known-hosts), else ~/.ssh/known_hosts{,2}
 * and /etc/ssh/ssh_known_hosts{,2}. Only a matching key is accepted.
 */
function sshHostVerifier(host: string, port: number, env: NodeJS.ProcessEnv, homedir: string): (key: Buffer) => boolean {
  const files = env.NETDOCTOR_SSH_KNOWN_HOSTS
    ? [env.NETDOCTOR_SSH_KNOWN_HOSTS]
    : [
        path.join(homedir, '.ssh', 'known_hosts'),
        path.join(homedir, '.ssh', 'known_hosts2'),
        '/etc/ssh/ssh_known_hosts',
        '/etc/ssh/ssh_known_hosts2',
      ];
  return (key: Buffer) => {
    const entries = files.flatMap((f) => {
      try {
        return parseKnownHosts(readFileSync(f, 'utf8'), f).entries;
      } catch {
        return [];
      }
    });
    const verdict = verifyHostKey(entries, host, port, key);
    if (verdict.status === 'match') return true;
    refusedHostKeys.set(host, verdict);
    return false;
  };
}

/** ssh2 only for an ssh:// docker host: most runs never load it. */
const loadSsh2 = (): typeof ssh2 => createRequire(import.meta.url)('ssh2') as typeof ssh2;

function defaultIdentity(homedir: string): Buffer | undefined {
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    let data: Buffer;
    try {
      data = readFileSync(path.join(homedir, '.ssh', name));
    } catch {
      continue;
    }
    // parseKey returns an Error for encrypted keys (no passphrase) and junk.
    if (!(loadSsh2().utils.parseKey(data) instanceof Error)) return data;
  }
  return undefined;
}

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/**
 * For ssh, docker-modem builds a throwaway request URL like
 * "ssh:10.0.0.5:2210.0.0.5" and url.resolve()s it, which makes Node print
 * "[DEP0170] DeprecationWarning: The URL ... is invalid" on stderr (harmless:
 * the ssh agent ignores that URL). Node warns about this only once per process,
 * so consume that one warning here with deprecation output muted.
 */
let sshUrlWarningSilenced = false;
function silenceModemSshUrlWarning(): void {
  if (sshUrlWarningSilenced) return;
  sshUrlWarningSilenced = true;
  const saved = process.noDeprecation;
  process.noDeprecation = true;
  try {
    url.parse('ssh:127.0.0.1:22127.0.0.1');
  } finally {
    process.noDeprecation = saved;
  }
}

/**
 * docker-modem's constructor always computes defaults from DOCKER_HOST (and,
 * for a non-unix DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH...): it
 * throws on an unparsable DOCKER_HOST or missing $DOCKER_CERT_PATH files, and
 * merges ssh options from it. The endpoint is already resolved, so hide
 * DOCKER_HOST for the (synchronous) construction.
 */
function withoutModemEnv<T>(build: () => T): T {
  const saved = process.env.DOCKER_HOST;
  if (saved === undefined) return build();
  delete process.env.DOCKER_HOST;
  try {
    return build();
  } finally {
    process.env.DOCKER_HOST = saved;
  }
}

/** The part of GET /info's "Swarm" object netdoctor relies on (API swarm.Info). */
export interface SwarmInfo {
  NodeID: string;
  NodeAddr: string;
  /** "", "inactive", "pending", "active", "error" or "locked". */
  LocalNodeState: string;
  ControlAvailable: boolean;
  Error?: string;
  RemoteManagers?: Array<{ NodeID: string; Addr: string }> | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: { ID: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RequireManagerOptions {
  /** Give up on GET /info after this long (ms). Default 10 000. */
  timeoutMs?: number;
}

export const DEFAULT_INFO_TIMEOUT_MS = 10_000;

/**
 * GET /info with a timeout and check the daemon is a swarm manager. Throws
 * one-line unreachable errors (exit 3) for connection failures, a daemon not
 * in a swarm, or a worker.
 */
export async function requireSwarmManager(
  docker: Dockerode,
  ep: ResolvedEndpoint,
  options: RequireManagerOptions = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- GET /info as the daemon answers it, read field by field by callers
): Promise<{ info: any; swarm: SwarmInfo }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_INFO_TIMEOUT_MS;
  const info: unknown = await dockerInfo(docker, ep, timeoutMs);
  const at = `the Docker daemon at ${ep.host}`;
  if (typeof info !== 'object' || info === null || Buffer.isBuffer(info)) {
    throw unreachableError(`${ep.host} did not answer GET /info like a Docker daemon (no JSON in the response)`);
  }
  const rawSwarm = (info as { Swarm?: unknown }).Swarm;
  const swarm = (typeof rawSwarm === 'object' && rawSwarm !== null ? rawSwarm : {}) as SwarmInfo;
  const state = typeof swarm.LocalNodeState === 'string' ? swarm.LocalNodeState : '';
  switch (state) {
    case 'active':
      if (swarm.ControlAvailable !== true) {
        throw unreachableError(
          `${at} is a swarm worker; netdoctor needs a manager for cluster state (use --host or --context to point at a manager)`,
        );
      }
      rememberInfo(docker, info);
      return { info, swarm };
    case 'locked':
      throw unreachableError(`${at} is a manager of a locked swarm (Swarm: locked); unlock it with "docker swarm unlock" and retry`);
    case '':
    case 'inactive':
      throw unreachableError(`${at} is not part of a swarm (Swarm: ${state || 'inactive'}); run docker netdoctor against a swarm manager`);
    default: {
      // pending, error: joining, or failed to.
      const detail = typeof swarm.Error === 'string' && swarm.Error !== '' ? `: ${oneLine(swarm.Error)}` : '';
      throw unreachableError(`${at} is not an active swarm member (Swarm: ${state}${detail}); run docker netdoctor against a swarm manager`);
    }
  }
}

class InfoTimeout extends Error {}

async function dockerInfo(docker: Dockerode, ep: ResolvedEndpoint, timeoutMs: number): Promise<unknown> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new InfoTimeout());
    }, timeoutMs);
  });
  // dockerode's info() takes { abortSignal } (missing from @types/dockerode).
  const info = docker.info.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  try {
    return await Promise.race([info.call(docker, { abortSignal: abort.signal }), timeout]);
  } catch (err) {
    throw describeConnectError(err, ep, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Map a failed GET /info to a one-line unreachable error; never a raw stack. */
export function describeConnectError(err: unknown, ep: ResolvedEndpoint, timeoutMs: number): NetdoctorError {
  const prefix = `cannot connect to the Docker daemon at ${ep.host}`;
  const running = 'Is the docker daemon running?';
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    level?: unknown;
    statusCode?: unknown;
    json?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = oneLine(typeof e.message === 'string' ? e.message : String(err)).replace(/[\s:]+$/, '');
  const socket = ep.protocol === 'unix' || ep.protocol === 'npipe' ? ep.host.replace(/^[a-z]+:\/\//, '') : '';
  const remote = ep.protocol === 'ssh' ? sshTargetLabel(ep.host) : '';
  const fail = (text: string) => unreachableError(text, err);

  if (err instanceof InfoTimeout) {
    return fail(`${prefix}: no answer within ${formatMs(timeoutMs)}. ${running}`);
  }
  if (typeof e.statusCode === 'number') return fail(httpStatusText(e.statusCode, e.json, message, ep));
  const byErrno = errnoText(code, { prefix, running, socket, message, ep });
  if (byErrno !== undefined) return fail(byErrno);
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) {
    return fail(`${prefix}: TLS error: ${message}`);
  }
  if (ep.protocol === 'ssh' && /verification failed|host denied/i.test(message)) {
    const host = sshTargetLabel(ep.host).replace(/^.*@/, '').replace(/:\d+$/, '');
    const v = refusedHostKeys.get(host) ?? [...refusedHostKeys.values()].at(-1);
    const what = v
      ? `${v.status === 'changed' ? 'has CHANGED' : v.status === 'revoked' ? 'is revoked' : 'is not known'} (${v.keyType} ${v.fingerprint})`
      : 'could not be verified';
    return fail(
      `${prefix}: the ssh host key of ${remote} ${what}; check it and add it to ~/.ssh/known_hosts (or point NETDOCTOR_SSH_KNOWN_HOSTS at a known_hosts file)`,
    );
  }
  if (typeof e.level === 'string' && ep.protocol === 'ssh') {
    // ssh2 errors: client-authentication, client-timeout, client-socket, protocol...
    if (e.level === 'client-authentication') {
      const agentHint = process.env.SSH_AUTH_SOCK
        ? 'is the right key loaded in ssh-agent?'
        : 'SSH_AUTH_SOCK is not set: start ssh-agent and ssh-add your key';
      return fail(`${prefix}: ssh authentication failed for ${remote} (${agentHint})`);
    }
    if (e.level === 'client-timeout') return fail(`${prefix}: ssh handshake with ${remote} timed out`);
    return fail(`${prefix}: ssh error: ${message}`);
  }
  if (/socket hang up/i.test(message)) {
    return fail(`${prefix}: connection closed by the other end${closedHint(ep)}`);
  }
  if (code === 'ABORT_ERR' || (err instanceof Error && err.name === 'AbortError')) {
    return fail(`${prefix}: no answer within ${formatMs(timeoutMs)}. ${running}`);
  }
  return fail(`${prefix}: ${message || 'unknown error'}. ${running}`);
}

/** The one line for an HTTP error status from GET /info (docker-modem puts the parsed body in json). */
function httpStatusText(statusCode: number, json: unknown, message: string, ep: ResolvedEndpoint): string {
  // docker-modem: "(HTTP code 500) server error - <daemon message> ", json = parsed body.
  const body = json as { message?: unknown } | undefined;
  const detail =
    typeof body?.message === 'string' ? oneLine(body.message) : message.replace(/^\(HTTP code \d+\)\s*/, '').replace(/^[a-z ]+ -\s*/, '');
  const hint = /HTTP request to an HTTPS server/i.test(detail)
    ? ' (it expects TLS: use --tlsverify or DOCKER_TLS_VERIFY=1)'
    : statusCode === 404
      ? ' (is it a Docker daemon?)'
      : '';
  return `${ep.host} answered GET /info with HTTP ${statusCode}${detail ? `: ${detail}` : ''}${hint}`;
}

/** The parts of the message describeConnectError's errno cases use. */
interface ConnectContext {
  prefix: string;
  running: string;
  socket: string;
  message: string;
  ep: ResolvedEndpoint;
}

/** The one line for a Node errno code (ENOENT, ECONNREFUSED...), or undefined when it is not one of them. */
function errnoText(code: string, ctx: ConnectContext): string | undefined {
  const { prefix, running, socket, message, ep } = ctx;
  switch (code) {
    case 'ENOENT':
      return `${prefix}: ${socket ? `socket ${socket} does not exist` : 'no such file or directory'}. ${running}`;
    case 'ECONNREFUSED':
      return `${prefix}: connection refused. ${running}`;
    case 'EACCES':
    case 'EPERM':
      return `${prefix}: permission denied${socket ? ` on ${socket} (is your user in the "docker" group?)` : ''}`;
    case 'ENOTSOCK':
      return `${prefix}: ${socket} is not a socket`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${prefix}: cannot resolve host name (${message})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${prefix}: host unreachable`;
    case 'ETIMEDOUT':
      return `${prefix}: connection timed out. ${running}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${prefix}: connection closed by the other end${closedHint(ep)}`;
    default:
      return undefined;
  }
}

function closedHint(ep: ResolvedEndpoint): string {
  if (ep.protocol === 'ssh') {
    return ` (is docker installed on ${sshTargetLabel(ep.host)}, and may that user run "docker system dial-stdio"?)`;
  }
  if (ep.protocol === 'tcp' && !ep.tls) return ' (does it expect TLS? try --tlsverify)';
  return '';
}

function sshTargetLabel(host: string): string {
  try {
    const t = parseSSHURL(host);
    return `${t.user ?? localUser()}@${t.host}${t.port ? `:${t.port}` : ''}`;
  } catch {
    return host;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function reason(err: unknown): string {
  const msg = oneLine(err instanceof Error ? err.message : String(err));
  return /^[A-Z]+: ([^,]+)/.exec(msg)?.[1] ?? msg;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
