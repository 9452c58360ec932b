/**
 * Where and how netdoctor SSHes to each swarm node: resolves every node to an
 * SshTarget from (highest precedence first)
 *
 *   1. the netdoctor inventory file (`--inventory`), the node's own entry and
 *      then its `defaults:`;
 *   2. command-line flags (user, port, identity, jump, known hosts file,
 *      accept-new-host-keys) — as with ssh, the command line beats ssh_config;
 *   3. ssh_config (default ~/.ssh/config when it exists), looked up with the
 *      name we would type after `ssh` (the inventory `host`, else the node's
 *      SSH address, else the node name), honouring Host/Match blocks,
 *      HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile,
 *      GlobalKnownHostsFile, StrictHostKeyChecking, HostKeyAlias,
 *      IdentitiesOnly, IdentityAgent and Include;
 *   4. built-in defaults: port 22, the local user name (os.userInfo(), as
 *      OpenSSH does), ~/.ssh/id_{rsa,ecdsa,ed25519,dsa} when no identity is
 *      configured at all, ~/.ssh/known_hosts{,2} + /etc/ssh/ssh_known_hosts{,2},
 *      StrictHostKeyChecking yes.
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
 * ProxyCommand is not supported (usage error); Match exec is not evaluated.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { usageError } from '../errors.js';

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
}

/** A ProxyJump hop; each is resolved through ssh_config like the target. */
export type SshHop = SshEndpoint;

export interface SshTarget extends SshEndpoint {
  /** The swarm node name. */
  node: string;
  /** Jump hosts to go through, first to last; empty for a direct connection. */
  proxyJump: SshHop[];
}

export interface ResolveOptions {
  /** ssh_config file; default ~/.ssh/config when it exists. Pass '' or 'none' to read none. */
  sshConfigFile?: string;
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
// ProxyJump specs

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

function parsePortValue(raw: string): number | null {
  if (!/^\d{1,5}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= 65535 ? n : null;
}

/**
 * Parse ProxyJump syntax: `none`, or a comma list of `[ssh://][user@]host[:port]`
 * (IPv6 hosts in brackets when a port is given). Throws Error on bad syntax.
 */
export function parseJumpSpec(value: string): JumpSpec[] | 'none' {
  const v = value.trim();
  if (v.toLowerCase() === 'none') return 'none';
  if (v === '') throw new Error('empty jump host');
  return v.split(',').map((part) => {
    let rest = part.trim();
    if (rest === '') throw new Error(`empty jump host in "${value}"`);
    if (/^ssh:\/\//i.test(rest)) rest = rest.slice(6).replace(/\/$/, '');
    const spec: JumpSpec = { host: '' };
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const user = rest.slice(0, at);
      if (user === '') throw new Error(`empty user in jump host "${part.trim()}"`);
      spec.user = user;
      rest = rest.slice(at + 1);
    }
    let portRaw: string | undefined;
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) throw new Error(`unbalanced [ in jump host "${part.trim()}"`);
      spec.host = rest.slice(1, close);
      const after = rest.slice(close + 1);
      if (after.startsWith(':')) portRaw = after.slice(1);
      else if (after !== '') throw new Error(`bad jump host "${part.trim()}"`);
    } else if ((rest.match(/:/g) ?? []).length === 1) {
      const i = rest.indexOf(':');
      spec.host = rest.slice(0, i);
      portRaw = rest.slice(i + 1);
    } else {
      spec.host = rest;
    }
    if (spec.host === '' || /[\s/@]/.test(spec.host)) throw new Error(`bad jump host "${part.trim()}"`);
    if (portRaw !== undefined) {
      const p = parsePortValue(portRaw);
      if (p === null) throw new Error(`bad port "${portRaw}" in jump host "${part.trim()}"`);
      spec.port = p;
    }
    return spec;
  });
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

/** Parse an inventory (see the format at the top of this file). Errors are usage errors naming file:line. */
export function parseInventory(text: string, file: string): Inventory {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  const lineOf = (node: unknown) => lineAt((node as { range?: [number, number, number] } | null)?.range?.[0]);
  const fail = (node: unknown, msg: string): never => {
    throw usageError(`inventory ${file}:${lineOf(node)}: ${msg}`);
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const msg = firstError.message.split('\n')[0] ?? firstError.message;
    throw usageError(`inventory ${file}:${lineAt(firstError.pos[0])}: ${msg}`);
  }
  const inv: Inventory = { file, defaults: { line: 1 }, nodes: new Map() };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return inv;
  if (!isMap(root)) return fail(root, 'expected a mapping with "nodes:" and/or "defaults:"');

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
  const baseDir = dirname(resolvePath(file));
  const hostValue = (node: unknown, what: string): string => {
    const h = scalarString(node, what);
    if (/[@\s/]/.test(h)) return fail(node, `${what} "${h}" must be a bare host name or address (use user: and port: for the rest)`);
    if ((h.match(/:/g) ?? []).length === 1) return fail(node, `${what} "${h}" must not carry a port (use port:)`);
    return h.replace(/^\[(.*)\]$/, '$1');
  };

  const parseEntry = (node: unknown, keys: readonly string[], where: string): InventoryEntry => {
    const entry: InventoryEntry = { line: lineOf(node) };
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
          entry.identity = stringList(v, `${where} identity`).map((p) =>
            p.startsWith('~') || isAbsolute(p) ? p : resolvePath(baseDir, p),
          );
          break;
        case 'jump': {
          const specs = stringList(v, `${where} jump`);
          try {
            const parsed = specs.map((s) => parseJumpSpec(s));
            if (parsed.includes('none')) {
              if (parsed.length > 1) return fail(v, `${where} jump: "none" cannot be combined with hosts`);
              entry.jump = 'none';
            } else {
              entry.jump = parsed.flatMap((p) => (p === 'none' ? [] : p));
            }
          } catch (err) {
            return fail(v, `${where} jump: ${(err as Error).message}`);
          }
          break;
        }
        default:
          return fail(pair.key, `unknown key "${k}" in ${where} (expected ${keys.join(', ')})`);
      }
    }
    return entry;
  };

  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (k === 'defaults') {
      inv.defaults = parseEntry(pair.value, DEFAULTS_KEYS, 'defaults');
    } else if (k === 'nodes') {
      const nodes = pair.value;
      if (nodes === null || (isScalar(nodes) && nodes.value === null)) continue;
      if (!isMap(nodes)) return fail(nodes, '"nodes" must map swarm node names to entries');
      for (const np of nodes.items) {
        const name = isScalar(np.key) ? String(np.key.value).trim() : '';
        if (name === '') return fail(np.key, 'node names must be non-empty strings');
        inv.nodes.set(name, parseEntry(np.value as YamlNode | null, ENTRY_KEYS, `node "${name}"`));
      }
    } else {
      return fail(pair.key, `unknown top-level key "${k}" (expected nodes, defaults)`);
    }
  }
  return inv;
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
// ssh_config

interface Loc {
  file: string;
  line: number;
}

export interface LoadedSshConfig {
  config: SSHConfig;
  /** Where each parsed line came from (Include-aware). */
  where: WeakMap<object, Loc>;
  files: string[];
}

const describeFsError = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
};

const countNewlines = (s: string | undefined): number => (s ? (s.match(/\n/g)?.length ?? 0) : 0);

function annotate(config: SSHConfig, file: string, where: WeakMap<object, Loc>): void {
  let nl = 0;
  const visit = (lines: readonly Line[]) => {
    for (const l of lines) {
      nl += countNewlines(l.before);
      where.set(l, { file, line: nl + 1 });
      // A keyword with no value swallows the line break into `param` (ssh-config quirk).
      if (l.type === LineType.DIRECTIVE) nl += countNewlines(l.param);
      nl += countNewlines(l.after);
      if ('config' in l) visit(l.config);
    }
  };
  visit(config);
}

function parseOrLocate(text: string, file: string): SSHConfig {
  try {
    return SSHConfig.parse(text);
  } catch (err) {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      try {
        SSHConfig.parse(lines[i] ?? '');
      } catch (lineErr) {
        const m = (lineErr as Error).message;
        const reason = /Unexpected line break/.test(m)
          ? 'unterminated quote'
          : lineErr instanceof TypeError
            ? 'missing value'
            : m;
        throw usageError(`ssh config ${file}:${i + 1}: ${reason}`, lineErr);
      }
    }
    throw usageError(`ssh config ${file}: ${(err as Error).message}`, err);
  }
}

const directiveValues = (value: string | { val: string }[]): string[] =>
  Array.isArray(value) ? value.map((v) => v.val) : [value];

/** Minimal glob(3) for Include: `*` and `?` in any path component, no dotfiles for wildcards, sorted. */
function globPaths(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases: string[] = [pattern.startsWith('/') ? '/' : '.'];
  for (const [i, part] of parts.entries()) {
    if (part === '' && i === 0) continue;
    if (part === '') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?[]/.test(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = new RegExp(
        `^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
      );
      for (const n of names.sort()) if (!n.startsWith('.') && re.test(n)) next.push(join(base, n));
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

interface LoadCtx {
  homedir: string;
  env: NodeJS.ProcessEnv;
  files: string[];
  where: WeakMap<object, Loc>;
}

function loadSshConfigFile(file: string, ctx: LoadCtx, depth: number): SSHConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`ssh config ${file}: ${describeFsError(err)}`, err);
  }
  ctx.files.push(file);
  const config = parseOrLocate(text, file);
  annotate(config, file, ctx.where);
  expandIncludes(config, ctx, depth);
  return config;
}

/**
 * Include: relative paths are under ~/.ssh (as for a user config). A top-level
 * Include is replaced by the included lines. Inside a Host/Match block the
 * included file's leading directives join that block and its own blocks follow
 * it (OpenSSH would additionally keep them conditional on the outer block).
 */
function expandIncludes(config: SSHConfig, ctx: LoadCtx, depth: number): void {
  const load = (line: Line): Line[] => {
    if (line.type !== LineType.DIRECTIVE) return [];
    const loc = ctx.where.get(line);
    if (depth >= 16) throw usageError(`ssh config ${loc?.file}:${loc?.line}: Include nested too deeply`);
    const out: Line[] = [];
    for (const raw of directiveValues(line.value)) {
      let p = expandTilde(raw, ctx.homedir);
      if (!isAbsolute(p)) p = join(ctx.homedir, '.ssh', p);
      for (const f of globPaths(p)) out.push(...loadSshConfigFile(f, ctx, depth + 1));
    }
    return out;
  };
  const isInclude = (l: Line | undefined) => l?.type === LineType.DIRECTIVE && /^include$/i.test(l.param);
  for (let i = 0; i < config.length; i++) {
    const l = config[i];
    if (!l) continue;
    if (isInclude(l)) {
      const inc = load(l);
      config.splice(i, 1, ...inc);
      i += inc.length - 1;
      continue;
    }
    if ('config' in l) {
      const sub = l.config;
      for (let j = 0; j < sub.length; j++) {
        const s = sub[j];
        if (!isInclude(s) || !s) continue;
        const inc = load(s);
        const firstSection = inc.findIndex((x) => 'config' in x);
        const leading = firstSection < 0 ? inc : inc.slice(0, firstSection);
        const sections = firstSection < 0 ? [] : inc.slice(firstSection);
        sub.splice(j, 1, ...leading);
        j += leading.length - 1;
        config.splice(i + 1, 0, ...sections);
      }
    }
  }
}

const STRICT_VALUES: Record<string, StrictHostKeyChecking> = {
  yes: 'yes',
  true: 'yes',
  ask: 'yes', // no one to ask: same as yes
  'accept-new': 'accept-new',
  no: 'no',
  off: 'no',
  false: 'no',
};

/** Reject values ssh itself would reject, wherever they are (ssh checks every line, matching or not). */
function validateSshConfig(config: SSHConfig, where: WeakMap<object, Loc>): void {
  const visit = (lines: readonly Line[]) => {
    for (const l of lines) {
      if (l.type !== LineType.DIRECTIVE) continue;
      const loc = where.get(l);
      const at = `ssh config ${loc?.file ?? '?'}:${loc?.line ?? '?'}`;
      const value = directiveValues(l.value).join(' ');
      if (/\s/.test(l.param) || value.trim() === '') throw usageError(`${at}: missing value for ${l.param.trim()}`);
      switch (l.param.toLowerCase()) {
        case 'port':
          if (parsePortValue(value) === null) throw usageError(`${at}: bad port "${value}"`);
          break;
        case 'stricthostkeychecking':
          if (!(value.toLowerCase() in STRICT_VALUES)) {
            throw usageError(`${at}: bad StrictHostKeyChecking "${value}" (yes, accept-new, no, ask)`);
          }
          break;
        case 'proxyjump':
          try {
            parseJumpSpec(value);
          } catch (err) {
            throw usageError(`${at}: ProxyJump: ${(err as Error).message}`);
          }
          break;
        default:
          break;
      }
      if ('config' in l) visit(l.config);
    }
  };
  visit(config);
}

/** Parse ssh_config text (no Include following); exported for tests and callers holding text. */
export function parseSshConfig(text: string, file: string, opts: { homedir?: string; env?: NodeJS.ProcessEnv } = {}): LoadedSshConfig {
  const ctx: LoadCtx = { homedir: opts.homedir ?? os.homedir(), env: opts.env ?? process.env, files: [file], where: new WeakMap() };
  const config = parseOrLocate(text, file);
  annotate(config, file, ctx.where);
  expandIncludes(config, ctx, 0);
  validateSshConfig(config, ctx.where);
  return { config, where: ctx.where, files: ctx.files };
}

export function loadSshConfig(file: string, opts: { homedir?: string; env?: NodeJS.ProcessEnv } = {}): LoadedSshConfig {
  const ctx: LoadCtx = { homedir: opts.homedir ?? os.homedir(), env: opts.env ?? process.env, files: [], where: new WeakMap() };
  const config = loadSshConfigFile(file, ctx, 0);
  validateSshConfig(config, ctx.where);
  return { config, where: ctx.where, files: ctx.files };
}

/** What ssh_config says about one host (lower-cased keys from ssh-config's compute). */
interface HostConfig {
  hostname?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: JumpSpec[] | 'none';
  proxyCommand?: string;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  strictHostKeyChecking?: StrictHostKeyChecking;
  hostKeyAlias?: string;
  identitiesOnly?: boolean;
  identityAgent?: string;
}

function lookupHost(loaded: LoadedSshConfig | null, name: string): HostConfig {
  if (!loaded) return { identityFiles: [] };
  // matchExec false: a read-only diagnostic tool does not run `Match exec` commands.
  const c = loaded.config.compute(name.toLowerCase(), { ignoreCase: true, matchExec: false });
  const one = (k: string): string | undefined => {
    const v = c[k];
    return Array.isArray(v) ? v.join(' ') : v;
  };
  const list = (k: string): string[] | undefined => {
    const v = c[k];
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
  };
  const hc: HostConfig = { identityFiles: list('identityfile') ?? [] };
  const hostname = one('hostname');
  if (hostname) hc.hostname = hostname;
  const user = one('user');
  if (user) hc.user = user;
  const port = one('port');
  if (port) hc.port = parsePortValue(port) ?? 22; // validated already
  const pj = one('proxyjump');
  if (pj) hc.proxyJump = parseJumpSpec(pj);
  const pc = one('proxycommand');
  if (pc && pc.toLowerCase() !== 'none') hc.proxyCommand = pc;
  const ukh = list('userknownhostsfile');
  if (ukh) hc.userKnownHostsFiles = ukh;
  const gkh = list('globalknownhostsfile');
  if (gkh) hc.globalKnownHostsFiles = gkh;
  const shkc = one('stricthostkeychecking');
  if (shkc) hc.strictHostKeyChecking = STRICT_VALUES[shkc.toLowerCase()] ?? 'yes';
  const alias = one('hostkeyalias');
  if (alias) hc.hostKeyAlias = alias;
  const io = one('identitiesonly');
  if (io) hc.identitiesOnly = /^(yes|true)$/i.test(io);
  const ia = one('identityagent');
  if (ia) hc.identityAgent = ia;
  return hc;
}

function firstDirectiveLoc(loaded: LoadedSshConfig, param: RegExp): string {
  let found: Loc | undefined;
  const visit = (lines: readonly Line[]) => {
    for (const l of lines) {
      if (found) return;
      if (l.type === LineType.DIRECTIVE && param.test(l.param)) found = loaded.where.get(l);
      if ('config' in l) visit(l.config);
    }
  };
  visit(loaded.config);
  return found ? `${found.file}:${found.line}` : (loaded.files[0] ?? 'ssh config');
}

// ---------------------------------------------------------------------------
// Token and path expansion

export function expandTilde(p: string, homedir: string): string {
  if (p === '~') return homedir;
  if (p.startsWith('~/')) return join(homedir, p.slice(2));
  return p;
}

interface TokenValues {
  d: string;
  h: string;
  n: string;
  p: string;
  r: string;
  u: string;
  k: string;
}

/** ssh_config(5) TOKENS (%d %h %i %k %L %l %n %p %r %u %%) and ${ENV}, then ~. */
function expandPath(raw: string, t: TokenValues, env: NodeJS.ProcessEnv, what: string): string {
  const withEnv = raw.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw usageError(`${what} "${raw}": environment variable ${name} is not set`);
    return v;
  });
  const host = os.hostname();
  const expanded = withEnv.replace(/%(.)/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return t.d;
      case 'h':
        return t.h;
      case 'n':
        return t.n;
      case 'p':
        return t.p;
      case 'r':
        return t.r;
      case 'u':
        return t.u;
      case 'k':
        return t.k;
      case 'i':
        return String(typeof process.getuid === 'function' ? process.getuid() : 0);
      case 'l':
        return host;
      case 'L':
        return host.split('.')[0] ?? host;
      default:
        throw usageError(`${what} "${raw}": unsupported token %${c}`);
    }
  });
  return expandTilde(expanded, t.d);
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ed25519', 'id_dsa'];

// ---------------------------------------------------------------------------
// Resolution

interface Layer {
  user?: string;
  port?: number;
  identity?: string[];
  jump?: JumpSpec[] | 'none';
  /** Shown in errors about this layer's identity files. */
  source: string;
}

interface Ctx {
  sshConfig: LoadedSshConfig | null;
  inventory: Inventory | null;
  nodes: readonly NodeAddress[];
  opts: ResolveOptions;
  env: NodeJS.ProcessEnv;
  homedir: string;
  localUser: string;
  warn: (msg: string) => void;
}

const firstDefined = <T>(...xs: (T | undefined)[]): T | undefined => xs.find((x) => x !== undefined);

function defaultLocalUser(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root';
  }
}

/** Resolve one endpoint: `name` is what we would type after `ssh`; layers are highest precedence first. */
function resolveEndpoint(name: string, layers: Layer[], ctx: Ctx): { endpoint: SshEndpoint; hostConfig: HostConfig } {
  const lookupName = name.toLowerCase();
  const hc = lookupHost(ctx.sshConfig, lookupName);
  const user = firstDefined(...layers.map((l) => l.user), hc.user) ?? ctx.localUser;
  const port = firstDefined(...layers.map((l) => l.port), hc.port) ?? 22;
  const host = hc.hostname ? hc.hostname.replace(/%([%h])/g, (_m, c: string) => (c === '%' ? '%' : lookupName)) : lookupName;
  const tokens: TokenValues = {
    d: ctx.homedir,
    h: host,
    n: lookupName,
    p: String(port),
    r: user,
    u: ctx.localUser,
    k: hc.hostKeyAlias ?? lookupName,
  };

  const identityFiles: string[] = [];
  const addIdentity = (p: string) => {
    if (!identityFiles.includes(p)) identityFiles.push(p);
  };
  for (const layer of layers) {
    for (const raw of layer.identity ?? []) {
      const p = expandTilde(raw, ctx.homedir);
      if (!existsSync(p)) throw usageError(`identity file ${p} (${layer.source}) does not exist`);
      addIdentity(p);
    }
  }
  for (const raw of hc.identityFiles) {
    if (raw.toLowerCase() === 'none') continue;
    const p = expandPath(raw, tokens, ctx.env, 'ssh config IdentityFile');
    if (existsSync(p)) addIdentity(p);
    else ctx.warn(`ssh config IdentityFile ${p} (for ${lookupName}) does not exist; skipped`);
  }
  if (identityFiles.length === 0 && hc.identityFiles.length === 0) {
    for (const f of DEFAULT_IDENTITIES) {
      const p = join(ctx.homedir, '.ssh', f);
      if (existsSync(p)) addIdentity(p);
    }
  }

  let userKnown: string[];
  if (ctx.opts.knownHostsFile !== undefined) userKnown = [expandTilde(ctx.opts.knownHostsFile, ctx.homedir)];
  else if (hc.userKnownHostsFiles) {
    userKnown = hc.userKnownHostsFiles.some((f) => f.toLowerCase() === 'none')
      ? []
      : hc.userKnownHostsFiles.map((f) => expandPath(f, tokens, ctx.env, 'ssh config UserKnownHostsFile'));
  } else userKnown = [join(ctx.homedir, '.ssh', 'known_hosts'), join(ctx.homedir, '.ssh', 'known_hosts2')];
  let globalKnown: string[];
  if (ctx.opts.globalKnownHostsFiles !== undefined) globalKnown = [...ctx.opts.globalKnownHostsFiles];
  else if (hc.globalKnownHostsFiles) {
    globalKnown = hc.globalKnownHostsFiles.some((f) => f.toLowerCase() === 'none')
      ? []
      : hc.globalKnownHostsFiles.map((f) => expandPath(f, tokens, ctx.env, 'ssh config GlobalKnownHostsFile'));
  } else globalKnown = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

  const strictHostKeyChecking: StrictHostKeyChecking = ctx.opts.acceptNewHostKeys
    ? 'accept-new'
    : (hc.strictHostKeyChecking ?? 'yes');

  const endpoint: SshEndpoint = {
    name: lookupName,
    host,
    port,
    user,
    identityFiles,
    knownHostsFiles: [...userKnown, ...globalKnown.filter((f) => !userKnown.includes(f))],
    strictHostKeyChecking,
  };
  if (hc.hostKeyAlias) endpoint.hostKeyAlias = hc.hostKeyAlias;
  if (hc.identitiesOnly) endpoint.identitiesOnly = true;
  if (hc.identityAgent !== undefined) {
    if (hc.identityAgent.toLowerCase() === 'none') endpoint.identityAgent = null;
    else if (hc.identityAgent !== 'SSH_AUTH_SOCK') {
      endpoint.identityAgent = hc.identityAgent.startsWith('$')
        ? (ctx.env[hc.identityAgent.slice(1)] ?? null)
        : expandPath(hc.identityAgent, tokens, ctx.env, 'ssh config IdentityAgent');
    }
  }
  return { endpoint, hostConfig: hc };
}

const MAX_HOPS = 8;

function flagLayer(ctx: Ctx, withJump: boolean): Layer {
  const l: Layer = { source: 'from the command line' };
  if (ctx.opts.user !== undefined) l.user = ctx.opts.user;
  if (ctx.opts.port !== undefined) l.port = ctx.opts.port;
  if (ctx.opts.identity !== undefined) l.identity = [ctx.opts.identity];
  if (withJump && ctx.opts.jump !== undefined) {
    try {
      l.jump = parseJumpSpec(ctx.opts.jump);
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

/** Resolve a ProxyJump chain into hops, recursing into the first hop's own ProxyJump as `ssh -J` does. */
function resolveHops(specs: JumpSpec[], ctx: Ctx, depth: number, forName: string): SshHop[] {
  const hops: SshHop[] = [];
  for (const [i, spec] of specs.entries()) {
    const invEntry = ctx.inventory?.nodes.get(spec.host);
    const swarmNode = ctx.nodes.find((n) => n.name === spec.host);
    const specLayer: Layer = { source: 'jump host' };
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
    const { endpoint, hostConfig } = resolveEndpoint(name, layers, ctx);
    if (i === 0) {
      const own = firstDefined(...layers.map((l) => l.jump), hostConfig.proxyJump);
      if (own !== undefined && own !== 'none') {
        if (depth + 1 >= MAX_HOPS) throw usageError(`ProxyJump chain for ${forName} is longer than ${MAX_HOPS} hops (a loop?)`);
        hops.push(...resolveHops(own, ctx, depth + 1, forName));
      } else if (own === undefined && hostConfig.proxyCommand && ctx.sshConfig) {
        throw proxyCommandError(ctx.sshConfig, endpoint.name);
      }
    }
    hops.push(endpoint);
  }
  if (hops.length > MAX_HOPS) throw usageError(`ProxyJump chain for ${forName} is longer than ${MAX_HOPS} hops (a loop?)`);
  return hops;
}

const proxyCommandError = (loaded: LoadedSshConfig, name: string) =>
  usageError(
    `ssh config ${firstDirectiveLoc(loaded, /^proxycommand$/i)}: ProxyCommand (used for ${name}) is not supported; use ProxyJump or an inventory "jump"`,
  );

const sameEndpoint = (a: SshEndpoint, b: SshEndpoint) => a.host === b.host && a.port === b.port;

/**
 * Resolve every swarm node to an SshTarget (same order as `nodes`). Throws a
 * usage error (exit 2) naming file:line for a bad inventory or ssh_config.
 */
export async function resolveTargets(nodes: readonly NodeAddress[], opts: ResolveOptions = {}): Promise<SshTarget[]> {
  const env = opts.env ?? process.env;
  const homedir = opts.homedir ?? os.homedir();
  const warn = opts.onWarning ?? (() => undefined);

  let sshConfig: LoadedSshConfig | null = null;
  if (opts.sshConfigFile === undefined) {
    const def = join(homedir, '.ssh', 'config');
    if (existsSync(def)) sshConfig = loadSshConfig(def, { homedir, env });
  } else if (opts.sshConfigFile !== '' && opts.sshConfigFile.toLowerCase() !== 'none') {
    sshConfig = loadSshConfig(expandTilde(opts.sshConfigFile, homedir), { homedir, env });
  }
  const inventory = opts.inventoryFile !== undefined ? loadInventory(expandTilde(opts.inventoryFile, homedir)) : null;

  const ctx: Ctx = {
    sshConfig,
    inventory,
    nodes,
    opts,
    env,
    homedir,
    localUser: opts.localUser ?? defaultLocalUser(env),
    warn,
  };

  if (inventory) {
    for (const [name, entry] of inventory.nodes) {
      if (!nodes.some((n) => n.name === name)) {
        warn(`inventory ${inventory.file}:${entry.line}: node "${name}" is not in the swarm; ignored`);
      }
    }
  }

  const targets: SshTarget[] = [];
  for (const node of nodes) {
    const entry = inventory?.nodes.get(node.name);
    const layers: Layer[] = [];
    if (inventory) layers.push(...inventoryLayers(entry, inventory, node.name, true, true));
    layers.push(flagLayer(ctx, true));
    const name = entry?.host ?? node.sshAddress ?? node.name;
    const { endpoint, hostConfig } = resolveEndpoint(name, layers, ctx);
    const jump = firstDefined(...layers.map((l) => l.jump), hostConfig.proxyJump);
    let proxyJump: SshHop[] = [];
    if (jump !== undefined && jump !== 'none') {
      proxyJump = resolveHops(jump, ctx, 0, node.name).filter((h) => !sameEndpoint(h, endpoint));
    } else if (jump === undefined && hostConfig.proxyCommand && sshConfig) {
      throw proxyCommandError(sshConfig, endpoint.name);
    }
    targets.push({ node: node.name, ...endpoint, proxyJump });
  }
  return targets;
}

/** `user@host:port` (plus ` via hop, hop`) for messages. */
export function describeEndpoint(e: SshEndpoint | SshTarget): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  const base = `${e.user}@${host}${e.port === 22 ? '' : `:${e.port}`}`;
  const hops = 'proxyJump' in e && e.proxyJump.length > 0 ? ` via ${e.proxyJump.map((h) => describeEndpoint(h)).join(', ')}` : '';
  return base + hops;
}
