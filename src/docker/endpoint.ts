/**
 * Resolve the Docker endpoint the way the docker CLI (docker/cli 28.x) does,
 * from its global flags, the environment, config.json and the context store.
 *
 * References (docker/cli):
 *  - cli/command/cli.go             Initialize, resolveContextName,
 *                                   resolveDefaultDockerEndpoint, getServerHost
 *  - cli/flags/options.go           --tls/--tlsverify/--tlscacert..., DOCKER_TLS,
 *                                   DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
 *  - cli/config/config.go           DOCKER_CONFIG, ~/.docker, config.json
 *  - cli/context/store/*.go         contexts/meta/<sha256(name)>/meta.json,
 *                                   contexts/tls/<sha256(name)>/docker/*.pem
 *  - cli/context/docker/load.go     endpoint Host / SkipTLSVerify, TLS use
 *  - opts/hosts.go                  ParseHost (defaults and normalisation)
 *  - cli/connhelper/ssh/ssh.go      ssh:// URL validation
 *
 * Deliberate differences from the CLI are marked "Differs from docker:".
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors.js';

/** The docker CLI's global flags, as given on the command line (undefined: not given). */
export interface DockerGlobalOptions {
  host?: string[];
  context?: string;
  config?: string;
  tls?: boolean;
  /** `--tlsverify=false` still turns TLS on (without verification), as in docker. */
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  debug?: boolean;
  logLevel?: string;
}

export type EndpointSource = 'flag-host' | 'env-host' | 'flag-context' | 'env-context' | 'config-context' | 'default';

export type EndpointProtocol = 'unix' | 'npipe' | 'tcp' | 'ssh';

export interface EndpointTLS {
  /** Paths of the PEM files to use; a missing one is simply not used. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Verify the daemon's certificate (false: --tls without --tlsverify, or SkipTLSVerify). */
  verify: boolean;
}

export interface ResolvedEndpoint {
  /** Context in use; "default" for the flags/env based endpoint. */
  contextName: string;
  /** What selected this endpoint (or the context it comes from). */
  source: EndpointSource;
  /** Normalised host: unix:///path, npipe:////./pipe/x, tcp://host:port[/path], ssh://[user@]host[:port]. */
  host: string;
  protocol: EndpointProtocol;
  /**
   * TLS material, when TLS is on. Like docker, it is resolved (and checked) for
   * any protocol, but only used for tcp; unix, npipe and ssh ignore it.
   */
  tls?: EndpointTLS;
  /** The endpoint's SkipTLSVerify, as `docker context inspect` shows it. */
  skipTLSVerify?: boolean;
  /** Client config directory (--config > DOCKER_CONFIG > ~/.docker). */
  configDir: string;
}

export const DEFAULT_CONTEXT_NAME = 'default';
export const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';
export const DEFAULT_HOST = `unix://${DEFAULT_UNIX_SOCKET}`;
const DEFAULT_NAMED_PIPE = '//./pipe/docker_engine';
const DEFAULT_HTTP_PORT = '2375';
const DEFAULT_TLS_HTTP_PORT = '2376';
const DEFAULT_HTTP_HOST = 'localhost';
/** Where docker connects with TLS on and no host given (opts.defaultTLSHost). */
const DEFAULT_TLS_HOST = `tcp://${DEFAULT_HTTP_HOST}:${DEFAULT_TLS_HTTP_PORT}`;
const DOCKER_ENDPOINT = 'docker';

const SOURCE_LABEL: Record<EndpointSource, string> = {
  'flag-host': '--host',
  'env-host': 'DOCKER_HOST',
  'flag-context': '--context',
  'env-context': 'DOCKER_CONTEXT',
  'config-context': 'config.json currentContext',
  default: 'default',
};

/** Resolve the endpoint for these global options, environment and home directory. */
export function resolveEndpoint(opts: DockerGlobalOptions, env: NodeJS.ProcessEnv = process.env, homedir: string = os.homedir()): ResolvedEndpoint {
  const hosts = opts.host ?? [];
  // cli.go Initialize: checked before anything else, with exactly this wording.
  if (nonEmpty(opts.context) && hosts.length > 0) {
    throw usageError('conflicting options: cannot specify both --host and --context');
  }
  const configDir = resolveConfigDir(opts, env, homedir);
  const { name, source } = resolveContextName(opts, env, configDir);
  const ep =
    name === DEFAULT_CONTEXT_NAME ? resolveDefaultEndpoint(opts, env, homedir, configDir, source) : resolveContextEndpoint(name, source, configDir);
  // docker loads the TLS material for tcp before connecting and refuses bad files.
  if (ep.tls && ep.protocol === 'tcp') validateTLSMaterial(ep.tls);
  return ep;
}

/** Bounds for reading TLS files: PEM material is small. */
const MAX_PEM_BYTES = 1 << 20;

function readPem(file: string, what: string): string {
  let text: string;
  try {
    if (statSync(file).size > MAX_PEM_BYTES) throw usageError(`TLS ${what} ${file} is larger than ${MAX_PEM_BYTES} bytes`);
    text = readFileSync(file, 'latin1');
  } catch (err) {
    if (err instanceof Error && 'exitCode' in err) throw err;
    throw usageError(`cannot read TLS ${what} ${file}: ${errnoReason(err)}`, err);
  }
  return text;
}

/** The PEM blocks of a given type (linear scan, no backtracking regex). */
function pemBlocks(text: string, type: string): string[] {
  const begin = `-----BEGIN ${type}-----`;
  const end = `-----END ${type}-----`;
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const b = text.indexOf(begin, at);
    if (b < 0) break;
    const e = text.indexOf(end, b + begin.length);
    if (e < 0) break;
    out.push(text.slice(b, e + end.length));
    at = e + end.length;
  }
  return out;
}

/**
 * What docker (go-connections tlsconfig) checks before dialling tcp with TLS:
 * the CA file must hold at least one PEM certificate ("ca.pem seems
 * invalid"); with a client certificate AND key, the key must be a PEM private
 * key ("no valid private key found") matching the certificate ("private key
 * does not match public key"). Each is a usage error naming the file.
 */
export function validateTLSMaterial(tls: EndpointTLS): void {
  if (tls.ca !== undefined) {
    const ca = tls.ca;
    const certs = pemBlocks(readPem(ca, 'CA certificate'), 'CERTIFICATE').filter((b) => {
      try {
        new X509Certificate(b);
        return true;
      } catch {
        return false;
      }
    });
    if (certs.length === 0) throw usageError(`TLS CA certificate ${ca} holds no PEM certificate (docker refuses it too)`);
  }
  if (tls.cert === undefined || tls.key === undefined) return;
  const certFile = tls.cert;
  const keyFile = tls.key;
  const certPem = pemBlocks(readPem(certFile, 'client certificate'), 'CERTIFICATE')[0];
  let cert: X509Certificate;
  try {
    if (certPem === undefined) throw new Error('no PEM certificate');
    cert = new X509Certificate(certPem);
  } catch {
    throw usageError(`TLS client certificate ${certFile} holds no PEM certificate (docker refuses it too)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: readPem(keyFile, 'client key'), format: 'pem' });
  } catch (err) {
    if (err instanceof Error && 'exitCode' in err) throw err;
    throw usageError(`TLS client key ${keyFile} holds no valid PEM private key (docker refuses it too)`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw usageError(`TLS client key ${keyFile} does not match the certificate ${certFile} (docker refuses it too)`);
  }
}

/** Config dir: --config > DOCKER_CONFIG > ~/.docker (cli/config/config.go). */
export function resolveConfigDir(opts: Pick<DockerGlobalOptions, 'config'>, env: NodeJS.ProcessEnv, homedir: string): string {
  if (nonEmpty(opts.config)) return path.resolve(opts.config);
  return path.resolve(envConfigDir(env, homedir));
}

/** The config dir before --config is applied: what docker uses for default cert paths. */
function envConfigDir(env: NodeJS.ProcessEnv, homedir: string): string {
  return nonEmpty(env.DOCKER_CONFIG) ? env.DOCKER_CONFIG : path.join(homedir, '.docker');
}

/**
 * Name and origin of the context in use (cli.go resolveContextName):
 * --context > --host (default context) > DOCKER_HOST (default context) >
 * DOCKER_CONTEXT > config.json currentContext > "default".
 */
function resolveContextName(opts: DockerGlobalOptions, env: NodeJS.ProcessEnv, configDir: string): { name: string; source: EndpointSource } {
  if (nonEmpty(opts.context)) return { name: opts.context, source: 'flag-context' };
  if ((opts.host ?? []).length > 0) return { name: DEFAULT_CONTEXT_NAME, source: 'flag-host' };
  if (nonEmpty(env.DOCKER_HOST)) return { name: DEFAULT_CONTEXT_NAME, source: 'env-host' };
  if (nonEmpty(env.DOCKER_CONTEXT)) return { name: env.DOCKER_CONTEXT, source: 'env-context' };
  // Differs from docker: config.json is read only when it matters (here), and a
  // malformed one is a usage error; docker prints a warning and ignores it.
  const current = readCurrentContext(configDir);
  if (current !== undefined) return { name: current, source: 'config-context' };
  return { name: DEFAULT_CONTEXT_NAME, source: 'default' };
}

function readCurrentContext(configDir: string): string | undefined {
  const file = path.join(configDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw usageError(`cannot read config file ${file}: ${errnoReason(err)}`, err);
  }
  // docker accepts an empty config file.
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw usageError(`config file ${file} is not valid JSON: ${errMessage(err)}`, err);
  }
  if (!isRecord(parsed)) {
    throw usageError(`config file ${file} is not valid: expected a JSON object`);
  }
  const current = field(parsed, 'currentContext');
  if (current === undefined || current === null || current === '') return undefined;
  if (typeof current !== 'string') {
    throw usageError(`config file ${file} is not valid: "currentContext" must be a string`);
  }
  return current;
}

/**
 * The "default" context: -H / DOCKER_HOST and the TLS flags/env
 * (cli.go resolveDefaultDockerEndpoint + flags/options.go SetDefaultOptions).
 */
function resolveDefaultEndpoint(
  opts: DockerGlobalOptions,
  env: NodeJS.ProcessEnv,
  homedir: string,
  configDir: string,
  source: EndpointSource,
): ResolvedEndpoint {
  const hosts = opts.host ?? [];
  // The -H flag and DOCKER_TLS_VERIFY/DOCKER_TLS are applied as flag defaults in docker.
  const tlsVerify = opts.tlsverify ?? nonEmpty(env.DOCKER_TLS_VERIFY);
  // "Regardless of whether the user sets it to true or false, if they specify
  // --tlsverify at all then we need to turn on TLS" (options.go).
  const tlsOn = (opts.tls ?? nonEmpty(env.DOCKER_TLS)) || opts.tlsverify !== undefined || tlsVerify;

  let raw: string;
  let hostSource: string;
  if (hosts.length > 1) {
    throw usageError(`specify only one -H (got ${hosts.length}: ${hosts.join(', ')})`);
  } else if (hosts.length === 1) {
    raw = hosts[0] ?? '';
    hostSource = '--host';
  } else {
    raw = env.DOCKER_HOST ?? '';
    hostSource = 'DOCKER_HOST';
  }
  let host: string;
  try {
    host = parseDockerHost(raw, tlsOn);
  } catch (err) {
    throw usageError(`invalid docker host ${JSON.stringify(raw)} (from ${hostSource}): ${errMessage(err)}`, err);
  }

  const endpoint: ResolvedEndpoint = {
    contextName: DEFAULT_CONTEXT_NAME,
    source,
    host,
    protocol: protocolOf(host),
    skipTLSVerify: tlsOn ? !tlsVerify : false,
    configDir,
  };
  if (tlsOn) endpoint.tls = resolveFlagTLS(opts, env, homedir, tlsVerify);
  return endpoint;
}

/**
 * TLS files from --tlscacert/--tlscert/--tlskey, defaulting to
 * $DOCKER_CERT_PATH/{ca,cert,key}.pem. As in docker:
 *  - the default cert dir is DOCKER_CERT_PATH, else DOCKER_CONFIG, else
 *    ~/.docker; --config does NOT move it (docker computes it before parsing flags);
 *  - a default cert.pem/key.pem that does not exist is dropped, the CA is not:
 *    every remaining file must be readable (TLSDataFromFiles).
 */
function resolveFlagTLS(opts: DockerGlobalOptions, env: NodeJS.ProcessEnv, homedir: string, verify: boolean): EndpointTLS {
  const certDir = nonEmpty(env.DOCKER_CERT_PATH) ? env.DOCKER_CERT_PATH : envConfigDir(env, homedir);
  const dirSource = nonEmpty(env.DOCKER_CERT_PATH) ? 'DOCKER_CERT_PATH' : 'the default cert directory';
  const pick = (flag: string | undefined, flagName: string, file: string, optional: boolean) => {
    if (flag !== undefined) return { file: trimQuotes(flag), from: flagName };
    const file2 = path.join(certDir, file);
    if (optional && !exists(file2)) return { file: '', from: dirSource };
    return { file: file2, from: dirSource };
  };
  const ca = pick(opts.tlscacert, '--tlscacert', 'ca.pem', false);
  const cert = pick(opts.tlscert, '--tlscert', 'cert.pem', true);
  const key = pick(opts.tlskey, '--tlskey', 'key.pem', true);
  const what = verify ? '--tlsverify/DOCKER_TLS_VERIFY' : '--tls/DOCKER_TLS';
  for (const [label, f] of [
    ['CA certificate', ca],
    ['client certificate', cert],
    ['client key', key],
  ] as const) {
    if (f.file === '') continue;
    try {
      readFileSync(f.file);
    } catch (err) {
      throw usageError(`TLS is on (${what}) but the ${label} ${f.file} (from ${f.from}) cannot be read: ${errnoReason(err)}`, err);
    }
  }
  const tls: EndpointTLS = { verify };
  if (ca.file !== '') tls.ca = ca.file;
  if (cert.file !== '') tls.cert = cert.file;
  if (key.file !== '') tls.key = key.file;
  return tls;
}

/** A named context from the store (cli.go resolveDockerEndpoint). */
function resolveContextEndpoint(name: string, source: EndpointSource, configDir: string): ResolvedEndpoint {
  const storeDir = path.join(configDir, 'contexts');
  const id = contextDirName(name);
  const metaFile = path.join(storeDir, 'meta', id, 'meta.json');
  const origin = source === 'flag-context' ? '' : ` (selected by ${SOURCE_LABEL[source]})`;

  let text: string;
  try {
    text = readFileSync(metaFile, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
      throw usageError(`context "${name}" does not exist${origin}: no ${metaFile}; see "docker context ls"`, err);
    }
    throw usageError(`cannot read context "${name}" from ${metaFile}: ${errnoReason(err)}`, err);
  }
  const malformed = (why: string, cause?: unknown) => usageError(`context "${name}" is malformed: ${metaFile}: ${why}`, cause);

  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    throw malformed(`not valid JSON: ${errMessage(err)}`, err);
  }
  if (!isRecord(meta)) throw malformed('expected a JSON object');
  // Go decodes JSON keys case-insensitively (the file has "Endpoints", the
  // decoding struct "endpoints"), so look keys up the same way.
  const endpoints = field(meta, 'Endpoints');
  if (endpoints !== undefined && endpoints !== null && !isRecord(endpoints)) {
    throw malformed('"Endpoints" must be an object');
  }
  const ep = endpoints ? field(endpoints, DOCKER_ENDPOINT) : undefined;
  if (ep === undefined || ep === null) {
    // docker: "cannot find docker endpoint in context"
    throw malformed('it has no docker endpoint');
  }
  if (!isRecord(ep)) throw malformed('"Endpoints.docker" must be an object');
  const rawHost = field(ep, 'Host');
  if (rawHost !== undefined && rawHost !== null && typeof rawHost !== 'string') {
    throw malformed('"Endpoints.docker.Host" must be a string');
  }
  const skip = field(ep, 'SkipTLSVerify');
  if (skip !== undefined && skip !== null && typeof skip !== 'boolean') {
    throw malformed('"Endpoints.docker.SkipTLSVerify" must be a boolean');
  }
  const skipTLSVerify = skip === true;

  const tls = contextTLS(storeDir, id, name, skipTLSVerify);

  let host: string;
  try {
    host = parseContextHost(rawHost ?? '', tls !== undefined);
  } catch (err) {
    throw usageError(`context "${name}" has an invalid docker host ${JSON.stringify(rawHost)}: ${errMessage(err)}`, err);
  }
  const endpoint: ResolvedEndpoint = {
    contextName: name,
    source,
    host,
    protocol: protocolOf(host),
    skipTLSVerify,
    configDir,
  };
  if (tls) endpoint.tls = tls;
  return endpoint;
}

/**
 * The TLS of a context: contexts/tls/<id>/docker/{ca,cert,key}.pem. As in docker, an
 * existing endpoint directory means TLS (with the files it holds); with no
 * files, SkipTLSVerify alone still means TLS, without verification.
 */
function contextTLS(storeDir: string, id: string, name: string, skipTLSVerify: boolean): EndpointTLS | undefined {
  const tlsDir = path.join(storeDir, 'tls', id, DOCKER_ENDPOINT);
  let files: string[] | undefined;
  try {
    files = readdirSync(tlsDir).filter((f) => !f.startsWith('.'));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') {
      throw usageError(`cannot read TLS files of context "${name}" in ${tlsDir}: ${errnoReason(err)}`, err);
    }
  }
  if (files !== undefined) {
    const tls: EndpointTLS = { verify: !skipTLSVerify };
    if (files.includes('ca.pem')) tls.ca = path.join(tlsDir, 'ca.pem');
    if (files.includes('cert.pem')) tls.cert = path.join(tlsDir, 'cert.pem');
    if (files.includes('key.pem')) tls.key = path.join(tlsDir, 'key.pem');
    return tls;
  }
  return skipTLSVerify ? { verify: false } : undefined;
}

/** Directory name of a context in the store: hex sha256 of its name (store.contextdirOf). */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

/**
 * opts.ParseHost: normalise a -H / DOCKER_HOST value. Throws a plain Error
 * with the reason; callers wrap it into a usage error with its origin.
 *
 *   ''                → unix:///var/run/docker.sock (tcp://localhost:2376 with TLS)
 *   unix://           → unix:///var/run/docker.sock
 *   host | host:port  → tcp://host:2375 | tcp://host:port
 *   tcp://host        → tcp://host:2375, with or without TLS (2376 is only the
 *                       port of the TLS default host, as in docker)
 *   ssh://...         → as given, once validated
 */
export function parseDockerHost(value: string, defaultToTLS: boolean): string {
  const host = value.trim();
  if (host === '') return defaultToTLS ? DEFAULT_TLS_HOST : DEFAULT_HOST;
  const sep = host.indexOf('://');
  let proto: string;
  let rest: string;
  if (sep < 0) {
    // As docker 28 (opts.ParseHost → parseDockerDaemonHost): no scheme means
    // tcp, so "/path/docker.sock" is tcp://localhost:2375/path/docker.sock
    // (a URL path prefix), not a unix socket.
    proto = 'tcp';
    rest = host;
  } else {
    proto = host.slice(0, sep);
    rest = host.slice(sep + 3);
  }
  return normaliseByScheme(proto, rest, host, DEFAULT_HTTP_PORT);
}

/** proto://rest → the normalised host, per scheme; tcp gets `tcpDefaultPort` when it names none. */
function normaliseByScheme(proto: string, rest: string, host: string, tcpDefaultPort: string): string {
  switch (proto) {
    case 'tcp':
      return parseTCPAddr(rest, tcpDefaultPort);
    case 'unix':
      return parseSimpleProtoAddr('unix', rest, DEFAULT_UNIX_SOCKET);
    case 'npipe':
      return parseSimpleProtoAddr('npipe', rest, DEFAULT_NAMED_PIPE);
    case 'ssh':
      parseSSHURL(host);
      return host;
    default:
      // Differs from docker for contexts, which dial unknown schemes over TCP.
      throw unsupportedScheme(proto);
  }
}

/**
 * A context's Host, normalised the way the docker client will use it
 * (client.ParseHostURL): "proto://addr" is required; an empty host means the
 * default socket; tcp without a port gets the HTTP(S) default port (80, or 443
 * with TLS), because docker dials "http://host" as is.
 */
function parseContextHost(raw: string, withTLS: boolean): string {
  const host = raw.trim();
  if (host === '') return DEFAULT_HOST;
  const sep = host.indexOf('://');
  if (sep < 0) throw new Error('expected proto://address, e.g. unix:///var/run/docker.sock or tcp://host:2376');
  const proto = host.slice(0, sep);
  const rest = host.slice(sep + 3);
  return normaliseByScheme(proto, rest, host, withTLS ? '443' : '80');
}

function unsupportedScheme(proto: string): Error {
  return new Error(`unsupported scheme ${JSON.stringify(proto)}; expected unix://, tcp://, ssh:// or npipe://`);
}

/** opts.parseSimpleProtoAddr */
function parseSimpleProtoAddr(proto: string, addr: string, defaultAddr: string): string {
  let a = addr;
  if (a.startsWith(`${proto}://`)) a = a.slice(proto.length + 3);
  if (a.includes('://')) throw new Error(`invalid proto, expected ${proto}: ${a}`);
  if (a === '') a = defaultAddr;
  return `${proto}://${a}`;
}

/**
 * opts.ParseTCPAddr: "host[:port][/path]" (without tcp://) → tcp://host:port[/path].
 * Follows Go's url.Parse + net.SplitHostPort behaviour, including rejecting a
 * bracketed IPv6 address without a port ("tcp://[::1]").
 */
function parseTCPAddr(tryAddr: string, defaultPort = DEFAULT_HTTP_PORT): string {
  if (tryAddr === '') return `tcp://${DEFAULT_HTTP_HOST}:${DEFAULT_HTTP_PORT}`;
  let addr = tryAddr.startsWith('tcp://') ? tryAddr.slice(6) : tryAddr;
  const bad = () => new Error(`invalid bind address format: ${tryAddr}`);
  if (addr.includes('://') || addr === '') throw new Error(`invalid proto, expected tcp: ${tryAddr}`);
  if (addr.endsWith(']:')) addr += defaultPort;

  // url.Parse("tcp://" + addr): authority up to the first / ? #, path up to ? #;
  // userinfo is dropped.
  const end = addr.search(/[/?#]/);
  const authority = (end < 0 ? addr : addr.slice(0, end)).replace(/^.*@/, '');
  const tail = end < 0 ? '' : addr.slice(end);
  const pathPart = tail.startsWith('/') ? tail.replace(/[?#].*$/, '') : '';
  // url.Parse checks that what follows the last ':' (or the ']') is a port.
  const portAt = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':');
  if (authority.startsWith('[') && portAt === 0) throw new Error(`missing ']' in host: ${tryAddr}`);
  const colonPort = portAt < 0 ? '' : authority.slice(portAt);
  if (colonPort !== '' && !/^:\d*$/.test(colonPort)) {
    throw new Error(`invalid port ${JSON.stringify(colonPort)} after host`);
  }

  let split = splitHostPort(authority);
  if (!split) split = splitHostPort(joinHostPort(authority, defaultPort));
  if (!split) throw bad();
  const host = split.host === '' ? DEFAULT_HTTP_HOST : split.host;
  const port = split.port === '' ? defaultPort : split.port;
  const p = Number(port);
  // Differs from docker (which accepts any number here): reject impossible ports.
  if (!/^\d+$/.test(port) || p < 1 || p > 65535) throw new Error(`invalid port ${port} in ${tryAddr}`);
  return `tcp://${joinHostPort(host, port)}${pathPart}`;
}

/** net.SplitHostPort; undefined where Go returns an error. */
function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    const host = hostport.slice(1, close);
    if (host.includes('[') || host.includes(']')) return undefined;
    const after = hostport.slice(close + 1);
    if (!after.startsWith(':')) return undefined; // "missing port in address"
    const port = after.slice(1);
    if (port.includes(':') || port.includes(']')) return undefined;
    return { host, port };
  }
  const colon = hostport.lastIndexOf(':');
  if (colon < 0) return undefined; // missing port
  const host = hostport.slice(0, colon);
  if (host.includes(':')) return undefined; // too many colons
  if (host.includes('[') || host.includes(']')) return undefined;
  return { host, port: hostport.slice(colon + 1) };
}

/** net.JoinHostPort */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface SSHTarget {
  user?: string;
  host: string;
  port?: number;
  /** Remote socket path (ssh://host/path); docker passes it to dial-stdio. */
  path?: string;
}

/**
 * Validate and split an ssh:// URL like connhelper/ssh ParseURL: no
 * password, a host, no query or fragment. Throws a plain Error.
 */
export function parseSSHURL(url: string): SSHTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid ssh URL: ${url}`);
  }
  if (u.protocol !== 'ssh:') throw new Error(`invalid ssh URL: incorrect scheme: ${u.protocol.replace(/:$/, '')}`);
  if (u.password !== '') throw new Error('invalid ssh URL: plain-text password is not supported');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('invalid ssh URL: hostname is empty');
  if (u.search !== '') throw new Error(`invalid ssh URL: query parameters are not allowed: ${u.search.slice(1)}`);
  if (u.hash !== '') throw new Error(`invalid ssh URL: fragments are not allowed: ${u.hash.slice(1)}`);
  const target: SSHTarget = { host };
  if (u.username !== '') target.user = decodeURIComponent(u.username);
  if (u.port !== '') target.port = Number(u.port);
  if (u.pathname !== '' && u.pathname !== '/') target.path = decodeURIComponent(u.pathname);
  return target;
}

function protocolOf(host: string): EndpointProtocol {
  const proto = host.slice(0, host.indexOf('://'));
  switch (proto) {
    case 'unix':
    case 'npipe':
    case 'tcp':
    case 'ssh':
      return proto;
    default:
      // parseDockerHost/parseContextHost only return the four above.
      throw new Error(`unexpected docker host ${host}`);
  }
}

/** flags.trimQuotes: docker strips one pair of matching quotes from TLS path flags. */
function trimQuotes(value: string): string {
  if (value.length < 2) return value;
  for (const q of ["'", '"']) {
    if (value.startsWith(q) && value.endsWith(q)) return value.slice(1, -1);
  }
  return value;
}

/** Case-insensitive key lookup, like Go's encoding/json (exact match first). */
function field(obj: Record<string, unknown>, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errnoCode(err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
}

/** "no such file or directory" rather than "ENOENT: no such file or directory, open '/x'". */
function errnoReason(err: unknown): string {
  const msg = errMessage(err);
  const m = /^[A-Z]+: ([^,]+)/.exec(msg);
  return m?.[1] ?? msg;
}

function errMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}
