/**
 * Where and how netdoctor SSHes to each swarm node: resolves every node to an
 * SshTarget from (highest precedence first)
 *
 *   1. the netdoctor inventory file (`--inventory`), the node's own entry and
 *      then its `defaults:`;
 *   2. command-line flags (user, port, identity, jump, known hosts file,
 *      accept-new-host-keys) — as with ssh, the command line beats ssh_config;
 *   3. ssh_config, read the way `ssh` itself reads it: by `ssh -G` when an
 *      ssh binary is installed (openssh.ts), else by the built-in reader that
 *      follows OpenSSH's readconf.c (readconf.ts). The name looked up is what
 *      we would type after `ssh` (the inventory `host`, else the node's SSH
 *      address, else the node name); the user and port of layers 1-2 are
 *      passed as `-l`/`-p` and their identities as `-i`, so Match and tokens
 *      see them as ssh would;
 *   4. ssh's defaults: port 22, the local user name (the passwd entry, as
 *      OpenSSH does), ~/.ssh/id_{rsa,ecdsa,ecdsa_sk,ed25519,ed25519_sk,xmss,dsa}
 *      (those that exist) when no identity is configured at all,
 *      ~/.ssh/known_hosts{,2} + /etc/ssh/ssh_known_hosts{,2},
 *      StrictHostKeyChecking ask (= yes: there is no one to ask).
 *
 * Identity files accumulate like `ssh -i` + IdentityFile: inventory, then
 * flag, then ssh_config, all tried in that order.
 *
 * INVENTORY FORMAT (YAML; every key optional):
 *
 *   defaults:                 # applies to every swarm node
 *     user: root
 *     port: 22
 *     identity: ~/.ssh/swarm_ed25519          # a path or a list of paths
 *     jump: admin@bastion.example.com:2222    # ProxyJump syntax, see below
 *   nodes:
 *     nd1:                    # the swarm node name, as `docker node ls` shows it
 *       host: 10.213.0.11     # what to connect to; an ssh_config Host alias works
 *       port: 22
 *       user: root
 *       identity: [~/.ssh/nd1_key, ./keys/spare]
 *       jump: none            # override defaults/ssh_config: connect directly
 *     nd2: 10.213.0.12        # shorthand for { host: 10.213.0.12 }
 *
 * `jump` takes ProxyJump syntax: `[user@]host[:port]`, a comma-separated
 * chain (`a,b` = through a, then b), a YAML list of such hops, or `none`.
 * A hop that names a swarm node (or an inventory entry) uses that node's
 * address, inventory settings and the user/identity flags; any other hop is
 * resolved through ssh_config like `ssh -J` would. Hops equal to the target
 * itself are dropped (so `defaults: {jump: nd1}` does not route nd1 through
 * itself). Relative identity paths are relative to the inventory file.
 * Nodes not listed fall back to the defaults; entries naming no swarm node
 * only produce a warning.
 *
 * Host keys: --accept-new-host-keys (or StrictHostKeyChecking accept-new)
 * records unknown keys in the first user known_hosts file.
 * StrictHostKeyChecking=no is treated like accept-new, except that netdoctor
 * still refuses a CHANGED key (OpenSSH would connect with restrictions; a
 * diagnostic tool has no business talking to a possibly-spoofed node).
 * ProxyCommand (other than none) is not supported: a usage error naming the
 * host. `Match exec` runs under `ssh -G` as it would under ssh; the built-in
 * reader never runs it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { unreachableError, usageError } from '../errors.js';
import { findSsh, splitKnownHostsLine, sshG } from './openssh.js';
import {
  DEFAULT_IDENTITIES,
  expandClientPath,
  localPasswd,
  parseJumpList,
  SshConfigReader,
  tildeExpand,
  type ConfigSource,
  type JumpSpec,
  type Passwd,
  type TokenInfo,
} from './readconf.js';

export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no';

/** One SSH server to connect to (a swarm node or a jump host), fully resolved. */
export interface SshEndpoint {
  /** The name it was resolved from: what one would type after `ssh`. */
  name: string;
  /** Address or DNS name to connect to (ssh_config HostName applied). */
  host: string;
  port: number;
  user: string;
  /** Private key files to try, in order (after the agent). */
  identityFiles: string[];
  /** known_hosts files to consult; the first one is where accepted keys are written. */
  knownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
  /** ssh_config HostKeyAlias: the name to look the host key up under instead of host/port. */
  hostKeyAlias?: string;
  /** ssh_config IdentitiesOnly yes: do not offer agent keys (we skip the agent altogether). */
  identitiesOnly?: boolean;
  /** ssh_config IdentityAgent: a socket path, or null for `none`; undefined means $SSH_AUTH_SOCK. */
  identityAgent?: string | null;
  /** Where each value came from (inventory, command line, ssh_config file:line, default), for `-v`. */
  from?: Partial<Record<TargetField, string>>;
}

/** A ProxyJump hop; each is resolved through ssh_config like the target. */
export type SshHop = SshEndpoint;

export interface SshTarget extends SshEndpoint {
  /** The swarm node name. */
  node: string;
  /** Jump hosts to go through, first to last; empty for a direct connection. */
  proxyJump: SshHop[];
  /** How ssh_config was read: by `ssh -G` itself, or by the built-in parser (no ssh binary). */
  resolver?: ResolverKind;
}

export interface ResolveOptions {
  /** ssh_config file (like ssh -F); default ~/.ssh/config then /etc/ssh/ssh_config. Pass '' or 'none' to read none. */
  sshConfigFile?: string;
  /** The system-wide file read after ~/.ssh/config when no sshConfigFile is given (default /etc/ssh/ssh_config). */
  systemSshConfigFile?: string;
  /** 'auto' (default; NETDOCTOR_SSH_RESOLVER=parser|ssh overrides): `ssh -G` when ssh is on PATH, else the parser. */
  resolver?: 'auto' | 'ssh' | 'parser';
  /** argv prefix that runs ssh for `ssh -G` (default: ssh from PATH). */
  sshCommand?: string[];
  inventoryFile?: string;
  user?: string;
  port?: number;
  identity?: string;
  /** ProxyJump for every node (flag), same syntax as the inventory `jump`. */
  jump?: string;
  /** Replaces the user known_hosts files (like -o UserKnownHostsFile=...). */
  knownHostsFile?: string;
  /** Replaces /etc/ssh/ssh_known_hosts{,2} (and ssh_config GlobalKnownHostsFile). */
  globalKnownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The home directory ssh uses for ~ (default: the passwd entry's, as ssh does, not $HOME). */
  homedir?: string;
  /** The local user name (default os.userInfo().username). */
  localUser?: string;
  /** Non-fatal findings: unknown inventory nodes, missing ssh_config identity files. */
  onWarning?: (message: string) => void;
}

export interface NodeAddress {
  name: string;
  sshAddress: string | null;
}

// ---------------------------------------------------------------------------
// ProxyJump specs (readconf.ts parses them the way ssh does)

export type { JumpSpec } from './readconf.js';
/** ProxyJump syntax: `none`, or a comma list of `[ssh://][user@]host[:port]`. Throws Error on bad syntax. */
export const parseJumpSpec = parseJumpList;

function parsePortValue(raw: string): number | null {
  if (!/^\d{1,5}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= 65535 ? n : null;
}

// ---------------------------------------------------------------------------
// Inventory

export interface InventoryEntry {
  host?: string;
  port?: number;
  user?: string;
  /** Absolute (or ~) paths, relative ones already resolved against the inventory's directory. */
  identity?: string[];
  jump?: JumpSpec[] | 'none';
  /** Line of the entry in the inventory file. */
  line: number;
}

export interface Inventory {
  file: string;
  defaults: InventoryEntry;
  nodes: Map<string, InventoryEntry>;
}

const ENTRY_KEYS = ['host', 'port', 'user', 'identity', 'jump'] as const;
const DEFAULTS_KEYS = ['user', 'port', 'identity', 'jump'] as const;

/** The helpers parseInventory's sections share: file:line errors and typed scalar readers. */
interface InventoryReader {
  lineOf: (node: unknown) => number;
  fail: (node: unknown, msg: string) => never;
  scalarString: (node: unknown, what: string) => string;
  stringList: (node: unknown, what: string) => string[];
  hostValue: (node: unknown, what: string) => string;
  baseDir: string;
}

function inventoryReader(file: string, lineAt: (offset: number | undefined) => number): InventoryReader {
  const lineOf = (node: unknown) => lineAt((node as { range?: [number, number, number] } | null)?.range?.[0]);
  const fail = (node: unknown, msg: string): never => {
    throw usageError(`inventory ${file}:${lineOf(node)}: ${msg}`);
  };
  const scalarString = (node: unknown, what: string): string => {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      const s = String(node.value).trim();
      if (s !== '') return s;
    }
    return fail(node, `${what} must be a non-empty string`);
  };
  const stringList = (node: unknown, what: string): string[] => {
    if (isSeq(node)) {
      if (node.items.length === 0) return fail(node, `${what} must not be an empty list`);
      return node.items.map((n) => scalarString(n, what));
    }
    return [scalarString(node, what)];
  };
  const hostValue = (node: unknown, what: string): string => {
    const h = scalarString(node, what);
    if (/[@\s/]/.test(h)) return fail(node, `${what} "${h}" must be a bare host name or address (use user: and port: for the rest)`);
    if ((h.match(/:/g) ?? []).length === 1) return fail(node, `${what} "${h}" must not carry a port (use port:)`);
    return h.replace(/^\[(.*)\]$/, '$1');
  };
  return { lineOf, fail, scalarString, stringList, hostValue, baseDir: dirname(resolvePath(file)) };
}

/** Parse an inventory (see the format at the top of this file). Errors are usage errors naming file:line. */
export function parseInventory(text: string, file: string): Inventory {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  const r = inventoryReader(file, lineAt);
  const { fail } = r;
  const firstError = doc.errors[0];
  if (firstError) {
    const msg = firstError.message.split('\n')[0] ?? firstError.message;
    throw usageError(`inventory ${file}:${lineAt(firstError.pos[0])}: ${msg}`);
  }
  const inv: Inventory = { file, defaults: { line: 1 }, nodes: new Map() };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return inv;
  if (!isMap(root)) return fail(root, 'expected a mapping with "nodes:" and/or "defaults:"');

  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (k === 'defaults') {
      inv.defaults = parseEntry(r, pair.value, DEFAULTS_KEYS, 'defaults');
    } else if (k === 'nodes') {
      const nodes = pair.value;
      if (nodes === null || (isScalar(nodes) && nodes.value === null)) continue;
      if (!isMap(nodes)) return fail(nodes, '"nodes" must map swarm node names to entries');
      for (const np of nodes.items) {
        const name = isScalar(np.key) ? String(np.key.value).trim() : '';
        if (name === '') return fail(np.key, 'node names must be non-empty strings');
        inv.nodes.set(name, parseEntry(r, np.value, ENTRY_KEYS, `node "${name}"`));
      }
    } else {
      return fail(pair.key, `unknown top-level key "${k}" (expected nodes, defaults)`);
    }
  }
  return inv;
}

/** One inventory entry (a node, or defaults): a bare host name or a mapping of the allowed keys. */
function parseEntry(r: InventoryReader, node: unknown, keys: readonly string[], where: string): InventoryEntry {
  const { fail, scalarString, stringList, hostValue, baseDir } = r;
  const entry: InventoryEntry = { line: r.lineOf(node) };
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return entry;
  if (isScalar(node)) {
    if (!keys.includes('host')) return fail(node, `${where} must be a mapping`);
    entry.host = hostValue(node, `${where} host`);
    return entry;
  }
  if (!isMap(node)) return fail(node, `${where} must be a mapping (${keys.join(', ')}) or a host name`);
  for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value;
    switch (keys.includes(k) ? k : '') {
      case 'host':
        entry.host = hostValue(v, `${where} host`);
        break;
      case 'user':
        entry.user = scalarString(v, `${where} user`);
        break;
      case 'port': {
        const p = parsePortValue(scalarString(v, `${where} port`));
        if (p === null) return fail(v, `${where} port must be a number from 1 to 65535`);
        entry.port = p;
        break;
      }
      case 'identity':
        entry.identity = stringList(v, `${where} identity`).map((p) => (p.startsWith('~') || isAbsolute(p) ? p : resolvePath(baseDir, p)));
        break;
      case 'jump':
        entry.jump = jumpValue(r, v, where);
        break;
      default:
        return fail(pair.key, `unknown key "${k}" in ${where} (expected ${keys.join(', ')})`);
    }
  }
  return entry;
}

/** An entry's jump: one spec or a list of them, or "none" alone. */
function jumpValue(r: InventoryReader, v: unknown, where: string): InventoryEntry['jump'] {
  const specs = r.stringList(v, `${where} jump`);
  try {
    const parsed = specs.map((s) => parseJumpSpec(s));
    if (parsed.includes('none')) {
      if (parsed.length > 1) return r.fail(v, `${where} jump: "none" cannot be combined with hosts`);
      return 'none';
    }
    return parsed.flatMap((p) => (p === 'none' ? [] : p));
  } catch (err) {
    return r.fail(v, `${where} jump: ${(err as Error).message}`);
  }
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`inventory ${file}: ${describeFsError(err)}`, err);
  }
  return parseInventory(text, file);
}

// ---------------------------------------------------------------------------
// What OpenSSH's configuration says about one host: `ssh -G` when ssh is
// installed, else the fallback reader (readconf.ts), both giving a HostView.

/** Fields whose origin `-v` shows. */
export type TargetField = 'host' | 'port' | 'user' | 'identityFiles' | 'proxyJump' | 'knownHostsFiles' | 'strictHostKeyChecking' | 'hostKeyAlias';

/** What ssh would use for `ssh [-l user] [-p port] [-i key]… name` (before netdoctor's own layers). */
interface HostView {
  host: string;
  port: number;
  user: string;
  /** Raw (unexpanded), the -i ones first; ssh's defaults when none configured. */
  identityFiles: string[];
  proxyJump?: JumpSpec[] | 'none';
  proxyCommand?: string;
  /** Expanded. */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  strict: 'yes' | 'no' | 'ask' | 'accept-new';
  hostKeyAlias?: string;
  identitiesOnly: boolean;
  identityAgent?: string;
  from: Partial<Record<TargetField | 'proxyCommand', string>>;
}

interface LookupArgs {
  user?: string;
  port?: number;
  identities: string[];
}

export type ResolverKind = 'ssh -G' | 'parser';

interface Lookup {
  kind: ResolverKind;
  view(name: string, a: LookupArgs): Promise<HostView>;
}

const DEFAULT_IDENTITY_RAW = new Set(DEFAULT_IDENTITIES.map((f) => `~/.ssh/${f}`));
const STRICT_G: Record<string, HostView['strict']> = {
  true: 'yes',
  yes: 'yes',
  ask: 'ask',
  false: 'no',
  no: 'no',
  off: 'no',
  'accept-new': 'accept-new',
};

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}

/** The config files ssh reads: `-F file` alone, else ~/.ssh/config then /etc/ssh/ssh_config; none for "none". */
function configSources(opts: ResolveOptions, pw: Passwd): ConfigSource[] {
  const f = opts.sshConfigFile;
  if (f === undefined) {
    return [
      { path: join(pw.dir, '.ssh', 'config'), required: false, system: false, checkPerm: true },
      { path: opts.systemSshConfigFile ?? '/etc/ssh/ssh_config', required: false, system: true, checkPerm: false },
    ];
  }
  if (f === '' || f.toLowerCase() === 'none') return [];
  return [{ path: tildeExpand(f, pw), required: true, system: false, checkPerm: false }];
}

function parserLookup(opts: ResolveOptions, pw: Passwd, env: NodeJS.ProcessEnv, warn: (m: string) => void): Lookup {
  const reader = new SshConfigReader(configSources(opts, pw), { pw, env, onWarning: warn });
  return {
    kind: 'parser',
    async view(name, a) {
      const o = await reader.evaluate(name, { ...(a.user !== undefined ? { user: a.user } : {}), ...(a.port !== undefined ? { port: a.port } : {}) });
      const user = o.user ?? pw.name;
      const port = o.port ?? 22;
      const alias = o.hostKeyAlias?.value.toLowerCase();
      const tokens: TokenInfo = { host: o.host, hostArg: name, port, user, keyAlias: alias ?? name, pw };
      const from: HostView['from'] = {};
      if (o.hostOrigin) from.host = `ssh_config ${o.hostOrigin}`;
      if (o.userOrigin && o.userOrigin !== 'command line') from.user = `ssh_config ${o.userOrigin}`;
      if (o.portOrigin && o.portOrigin !== 'command line') from.port = `ssh_config ${o.portOrigin}`;
      const cfgIds = o.identityFiles.map((i) => i.value);
      if (o.identityFiles.length > 0) from.identityFiles = `ssh_config ${[...new Set(o.identityFiles.map((i) => i.origin))].join(', ')}`;
      let identityFiles = [...a.identities, ...cfgIds];
      if (identityFiles.length === 0) identityFiles = [...DEFAULT_IDENTITY_RAW];
      const ukh = o.userKnownHostsFiles?.value ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
      if (o.userKnownHostsFiles) from.knownHostsFiles = `ssh_config ${o.userKnownHostsFiles.origin}`;
      const gkh = o.globalKnownHostsFiles?.value ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
      const view: HostView = {
        host: o.host,
        port,
        user,
        identityFiles,
        userKnownHostsFiles:
          ukh[0]?.toLowerCase() === 'none' ? [] : ukh.map((f) => expandClientPath(f, tokens, env, 'ssh config UserKnownHostsFile')),
        globalKnownHostsFiles: gkh[0]?.toLowerCase() === 'none' ? [] : gkh,
        strict: o.strictHostKeyChecking?.value ?? 'ask',
        identitiesOnly: o.identitiesOnly?.value ?? false,
        from,
      };
      if (o.strictHostKeyChecking) from.strictHostKeyChecking = `ssh_config ${o.strictHostKeyChecking.origin}`;
      if (alias !== undefined) {
        view.hostKeyAlias = alias;
        from.hostKeyAlias = `ssh_config ${o.hostKeyAlias!.origin}`;
      }
      if (o.proxyJump) {
        view.proxyJump = parseJumpList(o.proxyJump.value);
        from.proxyJump = `ssh_config ${o.proxyJump.origin}`;
      }
      if (o.proxyCommand) {
        view.proxyCommand = o.proxyCommand.value;
        from.proxyCommand = `ssh_config ${o.proxyCommand.origin}`;
      }
      if (o.identityAgent) view.identityAgent = expandClientPath(o.identityAgent.value, tokens, env, 'ssh config IdentityAgent');
      return view;
    },
  };
}

function sshGLookup(opts: ResolveOptions, pw: Passwd, env: NodeJS.ProcessEnv, command: string[]): Lookup {
  const f = opts.sshConfigFile;
  const configFile = f === undefined ? undefined : f === '' || f.toLowerCase() === 'none' ? 'none' : tildeExpand(f, pw);
  let hintReader: Lookup | null | undefined;
  return {
    kind: 'ssh -G',
    async view(name, a) {
      const g = await sshG(name, {
        command,
        ...(configFile !== undefined ? { configFile } : {}),
        ...(a.user !== undefined ? { user: a.user } : {}),
        ...(a.port !== undefined ? { port: a.port } : {}),
        identities: a.identities,
        env,
      });
      const from: HostView['from'] = {};
      const fromG = 'ssh_config (ssh -G)';
      const lname = isIP(name) ? name : name.toLowerCase();
      if (g.hostname !== lname) from.host = fromG;
      if (a.user === undefined && g.user !== pw.name) from.user = fromG;
      if (a.port === undefined && g.port !== 22) from.port = fromG;
      const cfgIds = g.identityFiles.slice(a.identities.length);
      if (cfgIds.some((i) => !DEFAULT_IDENTITY_RAW.has(i))) from.identityFiles = fromG;
      // Known-hosts lines are space-joined; a path with a space needs the parser's reading.
      let userKnown: string[];
      const ambiguous = g.userKnownHostsLine.split(/ (?=\/)/).some((p) => p.includes(' '));
      if (ambiguous) {
        if (hintReader === undefined) {
          try {
            hintReader = parserLookup(opts, pw, env, () => undefined);
          } catch {
            hintReader = null;
          }
        }
        let hint: string[] | undefined;
        try {
          hint = hintReader ? (await hintReader.view(name, a)).userKnownHostsFiles : undefined;
        } catch {
          hint = undefined;
        }
        userKnown = splitKnownHostsLine(g.userKnownHostsLine, pw, hint);
      } else userKnown = splitKnownHostsLine(g.userKnownHostsLine, pw);
      const defaultKnown = [join(pw.dir, '.ssh', 'known_hosts'), join(pw.dir, '.ssh', 'known_hosts2')];
      if (userKnown.join('\n') !== defaultKnown.join('\n')) from.knownHostsFiles = fromG;
      const strict = STRICT_G[g.strictHostKeyChecking.toLowerCase()] ?? 'ask';
      if (strict !== 'ask') from.strictHostKeyChecking = fromG;
      const view: HostView = {
        host: g.hostname,
        port: g.port,
        user: g.user,
        identityFiles: g.identityFiles,
        userKnownHostsFiles: userKnown,
        globalKnownHostsFiles: g.globalKnownHostsLine === '' ? [] : g.globalKnownHostsLine.split(' '),
        strict,
        identitiesOnly: g.identitiesOnly,
        from,
      };
      if (g.hostKeyAlias !== undefined) {
        view.hostKeyAlias = g.hostKeyAlias;
        from.hostKeyAlias = fromG;
      }
      if (g.proxyJump !== undefined) {
        try {
          view.proxyJump = parseJumpList(g.proxyJump);
        } catch (err) {
          throw usageError(`ssh -G ${name}: ProxyJump "${g.proxyJump}": ${(err as Error).message}`);
        }
        from.proxyJump = fromG;
      } else if (g.proxyCommand !== undefined && g.proxyCommand.toLowerCase() !== 'none') {
        view.proxyCommand = g.proxyCommand;
        from.proxyCommand = fromG;
      }
      if (g.identityAgent !== undefined) view.identityAgent = g.identityAgent;
      return view;
    },
  };
}

/** Memoise lookups: a bastion shared by every node is asked about once. */
function memo(l: Lookup): Lookup {
  const cache = new Map<string, Promise<HostView>>();
  return {
    kind: l.kind,
    view(name, a) {
      const key = JSON.stringify([name, a.user, a.port, a.identities]);
      let p = cache.get(key);
      if (!p) {
        p = l.view(name, a);
        cache.set(key, p);
      }
      return p;
    },
  };
}

// ---------------------------------------------------------------------------
// Resolution

interface Layer {
  user?: string;
  port?: number;
  identity?: string[];
  jump?: JumpSpec[] | 'none';
  /** Shown in errors about this layer's identity files, and by -v. */
  source: string;
}

interface Ctx {
  lookup: Lookup;
  inventory: Inventory | null;
  nodes: readonly NodeAddress[];
  opts: ResolveOptions;
  env: NodeJS.ProcessEnv;
  pw: Passwd;
  warn: (msg: string) => void;
}

const firstLayer = <K extends 'user' | 'port' | 'jump'>(layers: Layer[], k: K): Layer | undefined => layers.find((l) => l[k] !== undefined);

/** Resolve one endpoint: `name` is what we would type after `ssh`; layers are highest precedence first. */
async function resolveEndpoint(name: string, layers: Layer[], ctx: Ctx): Promise<{ endpoint: SshEndpoint; view: HostView }> {
  const userLayer = firstLayer(layers, 'user');
  const portLayer = firstLayer(layers, 'port');
  const identities: string[] = [];
  const idSources: string[] = [];
  for (const layer of layers) {
    for (const raw of layer.identity ?? []) {
      const p = tildeExpand(raw, ctx.pw);
      if (!existsSync(p)) throw usageError(`identity file ${p} (${layer.source}) does not exist`);
      if (!identities.includes(p)) identities.push(p);
      if (!idSources.includes(layer.source)) idSources.push(layer.source);
    }
  }
  const args: LookupArgs = { identities };
  if (userLayer) args.user = userLayer.user!;
  if (portLayer) args.port = portLayer.port!;
  const v = await ctx.lookup.view(name, args);

  const tokens: TokenInfo = { host: v.host, hostArg: name, port: v.port, user: v.user, keyAlias: v.hostKeyAlias ?? name, pw: ctx.pw };
  const identityFiles: string[] = [...identities];
  for (const raw of v.identityFiles.slice(identities.length)) {
    if (raw.toLowerCase() === 'none') continue;
    const p = expandClientPath(raw, tokens, ctx.env, 'ssh config IdentityFile');
    if (identityFiles.includes(p)) continue;
    if (existsSync(p)) identityFiles.push(p);
    else if (!DEFAULT_IDENTITY_RAW.has(raw)) ctx.warn(`ssh config IdentityFile ${p} (for ${name}) does not exist; skipped`);
  }

  const userKnown = ctx.opts.knownHostsFile !== undefined ? [tildeExpand(ctx.opts.knownHostsFile, ctx.pw)] : v.userKnownHostsFiles;
  const globalKnown = ctx.opts.globalKnownHostsFiles !== undefined ? [...ctx.opts.globalKnownHostsFiles] : v.globalKnownHostsFiles;
  const strictHostKeyChecking: StrictHostKeyChecking = ctx.opts.acceptNewHostKeys ? 'accept-new' : v.strict === 'ask' ? 'yes' : v.strict;

  const from: NonNullable<SshEndpoint['from']> = {
    host: v.from.host ?? 'the name itself',
    port: portLayer?.source ?? v.from.port ?? 'default',
    user: userLayer?.source ?? v.from.user ?? 'default (local user)',
    identityFiles: [...idSources, ...(v.from.identityFiles ? [v.from.identityFiles] : [])].join(' + ') || 'default (~/.ssh/id_*)',
    knownHostsFiles: ctx.opts.knownHostsFile !== undefined ? 'command line (--known-hosts)' : (v.from.knownHostsFiles ?? 'default'),
    strictHostKeyChecking: ctx.opts.acceptNewHostKeys ? 'command line (--accept-new-host-keys)' : (v.from.strictHostKeyChecking ?? 'default'),
  };
  if (v.hostKeyAlias) from.hostKeyAlias = v.from.hostKeyAlias ?? 'ssh_config';
  const endpoint: SshEndpoint = {
    name,
    host: v.host,
    port: v.port,
    user: v.user,
    identityFiles,
    knownHostsFiles: [...userKnown, ...globalKnown.filter((f) => !userKnown.includes(f))],
    strictHostKeyChecking,
    from,
  };
  if (v.hostKeyAlias) endpoint.hostKeyAlias = v.hostKeyAlias;
  if (v.identitiesOnly) endpoint.identitiesOnly = true;
  if (v.identityAgent !== undefined) {
    if (v.identityAgent.toLowerCase() === 'none') endpoint.identityAgent = null;
    else if (v.identityAgent !== 'SSH_AUTH_SOCK') {
      endpoint.identityAgent = v.identityAgent.startsWith('$') ? (ctx.env[v.identityAgent.slice(1)] ?? null) : v.identityAgent;
    }
  }
  return { endpoint, view: v };
}

const MAX_HOPS = 8;

function flagLayer(ctx: Ctx, withJump: boolean): Layer {
  const l: Layer = { source: 'from the command line' };
  if (ctx.opts.user !== undefined) l.user = ctx.opts.user;
  if (ctx.opts.port !== undefined) l.port = ctx.opts.port;
  if (ctx.opts.identity !== undefined) l.identity = [ctx.opts.identity];
  if (withJump && ctx.opts.jump !== undefined) {
    try {
      l.jump = parseJumpList(ctx.opts.jump);
    } catch (err) {
      throw usageError(`jump host "${ctx.opts.jump}": ${(err as Error).message}`);
    }
  }
  return l;
}

function inventoryLayer(entry: InventoryEntry | undefined, inv: Inventory, what: string, withJump: boolean): Layer {
  const l: Layer = { source: `${what} in ${inv.file}:${entry?.line ?? 1}` };
  if (!entry) return l;
  if (entry.user !== undefined) l.user = entry.user;
  if (entry.port !== undefined) l.port = entry.port;
  if (entry.identity !== undefined) l.identity = entry.identity;
  if (withJump && entry.jump !== undefined) l.jump = entry.jump;
  return l;
}

/** A node's inventory entry, then the inventory defaults (whose identity only counts when the entry names none). */
function inventoryLayers(entry: InventoryEntry | undefined, inv: Inventory, node: string, entryJump: boolean, defaultsJump: boolean): Layer[] {
  const own = inventoryLayer(entry, inv, `node "${node}"`, entryJump);
  const defaults = inventoryLayer(inv.defaults, inv, 'defaults', defaultsJump);
  if (own.identity !== undefined) delete defaults.identity;
  return [own, defaults];
}

const printable = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');

function proxyCommandError(view: HostView, name: string): Error {
  return usageError(
    `${view.from.proxyCommand ?? 'ssh_config'}: ProxyCommand "${printable(view.proxyCommand ?? '')}" (used for ${printable(name)}) is not supported; use ProxyJump or an inventory "jump"`,
  );
}

/** Resolve a ProxyJump chain into hops, recursing into the first hop's own ProxyJump as `ssh -J` does. */
async function resolveHops(specs: JumpSpec[], ctx: Ctx, depth: number, forName: string): Promise<SshHop[]> {
  const resolved = await Promise.all(
    specs.map(async (spec, i) => {
      const invEntry = ctx.inventory?.nodes.get(spec.host);
      const swarmNode = ctx.nodes.find((n) => n.name === spec.host);
      const specLayer: Layer = { source: 'jump host spec' };
      if (spec.user !== undefined) specLayer.user = spec.user;
      if (spec.port !== undefined) specLayer.port = spec.port;
      let name: string;
      let layers: Layer[];
      if (invEntry || swarmNode) {
        // A swarm node used as a jump host: same settings as when we connect to it.
        name = invEntry?.host ?? swarmNode?.sshAddress ?? spec.host;
        layers = [specLayer];
        if (ctx.inventory) layers.push(...inventoryLayers(invEntry, ctx.inventory, spec.host, i === 0, false));
        layers.push(flagLayer(ctx, false));
      } else {
        name = spec.host;
        layers = [specLayer];
        if (ctx.inventory?.defaults.identity) {
          layers.push({ identity: ctx.inventory.defaults.identity, source: `defaults in ${ctx.inventory.file}` });
        }
        if (ctx.opts.identity !== undefined) layers.push({ identity: [ctx.opts.identity], source: 'from the command line' });
      }
      const { endpoint, view } = await resolveEndpoint(name, layers, ctx);
      const before: SshHop[] = [];
      if (i === 0) {
        const own = firstLayer(layers, 'jump')?.jump ?? view.proxyJump;
        if (own !== undefined && own !== 'none') {
          if (depth + 1 >= MAX_HOPS) throw usageError(`ProxyJump chain for ${forName} is longer than ${MAX_HOPS} hops (a loop?)`);
          before.push(...(await resolveHops(own, ctx, depth + 1, forName)));
        } else if (own === undefined && view.proxyCommand !== undefined) {
          throw proxyCommandError(view, endpoint.name);
        }
      }
      return [...before, endpoint];
    }),
  );
  const hops = resolved.flat();
  if (hops.length > MAX_HOPS) throw usageError(`ProxyJump chain for ${forName} is longer than ${MAX_HOPS} hops (a loop?)`);
  return hops;
}

const sameEndpoint = (a: SshEndpoint, b: SshEndpoint) => a.host === b.host && a.port === b.port;

/** How ssh_config will be read: `ssh -G` (when ssh is installed) or the built-in parser. */
export function chooseResolver(opts: Pick<ResolveOptions, 'resolver' | 'sshCommand' | 'env'>): { kind: ResolverKind; command: string[] } {
  const env = opts.env ?? process.env;
  const fromEnv = env.NETDOCTOR_SSH_RESOLVER;
  const want = opts.resolver ?? (fromEnv === 'parser' || fromEnv === 'ssh' ? fromEnv : 'auto');
  if (want === 'parser') return { kind: 'parser', command: [] };
  if (opts.sshCommand) return { kind: 'ssh -G', command: opts.sshCommand };
  const ssh = findSsh(env);
  if (ssh) return { kind: 'ssh -G', command: [ssh] };
  if (want === 'ssh') throw unreachableError('no ssh binary on PATH (NETDOCTOR_SSH_RESOLVER=ssh needs one)');
  return { kind: 'parser', command: [] };
}

/** Run tasks with at most `limit` at once. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Resolve every swarm node to an SshTarget (same order as `nodes`). Throws a
 * usage error (exit 2) naming file:line for a bad inventory or ssh_config.
 */
export async function resolveTargets(nodes: readonly NodeAddress[], opts: ResolveOptions = {}): Promise<SshTarget[]> {
  const env = opts.env ?? process.env;
  const sys = localPasswd();
  const pw: Passwd = { name: opts.localUser ?? sys.name, dir: opts.homedir ?? sys.dir, uid: sys.uid };
  const warn = opts.onWarning ?? (() => undefined);
  const choice = chooseResolver(opts);
  const lookup = memo(choice.kind === 'ssh -G' ? sshGLookup(opts, pw, env, choice.command) : parserLookup(opts, pw, env, warn));
  const inventory = opts.inventoryFile !== undefined ? loadInventory(tildeExpand(opts.inventoryFile, pw)) : null;

  const ctx: Ctx = { lookup, inventory, nodes, opts, env, pw, warn };

  if (inventory) {
    for (const [name, entry] of inventory.nodes) {
      if (!nodes.some((n) => n.name === name)) {
        warn(`inventory ${inventory.file}:${entry.line}: node "${name}" is not in the swarm; ignored`);
      }
    }
  }

  return mapLimit(nodes, 16, async (node) => {
    const entry = inventory?.nodes.get(node.name);
    const layers: Layer[] = [];
    if (inventory) layers.push(...inventoryLayers(entry, inventory, node.name, true, true));
    layers.push(flagLayer(ctx, true));
    const name = entry?.host ?? node.sshAddress ?? node.name;
    const { endpoint, view } = await resolveEndpoint(name, layers, ctx);
    const jumpLayer = firstLayer(layers, 'jump');
    const jump = jumpLayer?.jump ?? view.proxyJump;
    let proxyJump: SshHop[] = [];
    if (jump !== undefined && jump !== 'none') {
      proxyJump = (await resolveHops(jump, ctx, 0, node.name)).filter((h) => !sameEndpoint(h, endpoint));
    } else if (jump === undefined && view.proxyCommand !== undefined) {
      throw proxyCommandError(view, endpoint.name);
    }
    endpoint.from = { ...endpoint.from, proxyJump: jumpLayer?.source ?? view.from.proxyJump ?? 'none' };
    return { node: node.name, ...endpoint, proxyJump, resolver: lookup.kind };
  });
}

/** `-v`: one line per value with where it came from. */
export function describeResolution(t: SshTarget): string[] {
  const f = t.from ?? {};
  const lines = [
    `${t.node}: ${describeEndpoint(t)} (resolved with ${t.resolver ?? 'parser'})`,
    `  host ${t.host} <- ${f.host ?? '?'}`,
    `  port ${t.port} <- ${f.port ?? '?'}`,
    `  user ${t.user} <- ${f.user ?? '?'}`,
    `  identity ${t.identityFiles.length > 0 ? t.identityFiles.join(', ') : '(agent only)'} <- ${f.identityFiles ?? '?'}`,
    `  known hosts ${t.knownHostsFiles.join(', ') || '(none)'} <- ${f.knownHostsFiles ?? '?'}`,
    `  host keys ${t.strictHostKeyChecking}${t.hostKeyAlias ? ` (as ${t.hostKeyAlias})` : ''} <- ${f.strictHostKeyChecking ?? '?'}`,
    `  jump ${t.proxyJump.length > 0 ? t.proxyJump.map((h) => describeEndpoint(h)).join(' -> ') : 'none'} <- ${f.proxyJump ?? '?'}`,
  ];
  return lines.map((l) => printable(l));
}

/** `user@host:port` (plus ` via hop, hop`) for messages. */
export function describeEndpoint(e: SshEndpoint | SshTarget): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  const base = `${e.user}@${host}${e.port === 22 ? '' : `:${e.port}`}`;
  const hops = 'proxyJump' in e && e.proxyJump.length > 0 ? ` via ${e.proxyJump.map((h) => describeEndpoint(h)).join(', ')}` : '';
  return base + hops;
}
