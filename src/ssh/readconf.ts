/**
 * An ssh_config(5) reader that evaluates a file the way OpenSSH 9.x's
 * readconf.c does, for the few options netdoctor needs. It is the fallback
 * when no `ssh` binary is installed (with one, `ssh -G` is the resolver, see
 * openssh.ts); the conformance suite compares both with `ssh -G`.
 *
 * What OpenSSH does and this reader copies (readconf.c, ssh.c, misc.c, match.c):
 *  - the file is evaluated line by line for one host; the FIRST value of an
 *    option wins (IdentityFile accumulates), so command-line -l/-p come first;
 *  - arguments are split like argv_split(): "double" or 'single' quotes,
 *    backslash escapes, `#` starts a comment;
 *  - `Host` patterns are case-sensitive globs (`*` any run, `?` exactly one
 *    character), `!pat` vetoes the block, commas are literal;
 *  - `Match` criteria (all, canonical, final, host, originalhost, user,
 *    localuser, exec) may each be negated with `!`; `host` sees HostName
 *    (with %h expanded) when one was set, case-insensitively;
 *  - `Include` inside a Host/Match block only applies when that block is
 *    active, and an included file's Host/Match blocks never match then;
 *  - `ProxyJump` and `ProxyCommand`: whichever comes first wins;
 *  - `Port` takes a number or a service name (/etc/services);
 *  - an unknown keyword or a bad value anywhere (matching or not) refuses
 *    the whole file, as ssh does;
 *  - CanonicalizeHostname (and `Match final`) re-read the file a second time
 *    with the canonical host name.
 * Not done here: `Match exec` is never run (treated as not matching, with a
 * warning); canonicalization looks names up with the system resolver but
 * does not follow CNAMEs (CanonicalizePermittedCNAMEs).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import os from 'node:os';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { usageError } from '../errors.js';

/** The local account, as ssh sees it (getpwuid): name, home directory, uid. */
export interface Passwd {
  name: string;
  dir: string;
  uid: number;
}

export function localPasswd(): Passwd {
  try {
    const u = os.userInfo();
    return { name: u.username, dir: u.homedir, uid: u.uid };
  } catch {
    return { name: process.env.USER ?? 'root', dir: os.homedir(), uid: typeof process.getuid === 'function' ? process.getuid() : 0 };
  }
}

/** Where a value came from: `file:line`. */
export type Origin = string;

/** What the config says for one host (raw values, before token expansion). */
export interface ClientOptions {
  /** HostName with %h expanded, lower-cased unless an address, canonicalized. */
  host: string;
  hostOrigin?: Origin;
  user?: string;
  userOrigin?: Origin;
  port?: number;
  portOrigin?: Origin;
  identityFiles: { value: string; origin: Origin }[];
  /** ProxyJump as written, or `none` (also for `ProxyCommand none`); the first of the two wins. */
  proxyJump?: { value: string; origin: Origin };
  /** ProxyCommand other than none. */
  proxyCommand?: { value: string; origin: Origin };
  userKnownHostsFiles?: { value: string[]; origin: Origin };
  globalKnownHostsFiles?: { value: string[]; origin: Origin };
  strictHostKeyChecking?: { value: 'yes' | 'no' | 'ask' | 'accept-new'; origin: Origin };
  hostKeyAlias?: { value: string; origin: Origin };
  identitiesOnly?: { value: boolean; origin: Origin };
  identityAgent?: { value: string; origin: Origin };
}

/** All keywords OpenSSH 9.2 (with Debian's GSSAPI additions) accepts. */
const KEYWORDS = new Set(
  (
    'protocol cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2 useroaming usersh ' +
    'useprivilegedport afstokenpassing kerberosauthentication kerberostgtpassing rsaauthentication rhostsrsaauthentication ' +
    'compressionlevel gssapiauthentication gssapidelegatecredentials gssapikeyexchange gssapiclientidentity gssapiserveridentity ' +
    'gssapirenewalforcesrekey gssapitrustdns gssapikexalgorithms pkcs11provider smartcarddevice forwardagent forwardx11 ' +
    'forwardx11trusted forwardx11timeout exitonforwardfailure xauthlocation gatewayports passwordauthentication ' +
    'kbdinteractiveauthentication kbdinteractivedevices challengeresponseauthentication skeyauthentication tisauthentication ' +
    'pubkeyauthentication dsaauthentication hostbasedauthentication identityfile identityfile2 identitiesonly certificatefile ' +
    'addkeystoagent identityagent hostname hostkeyalias proxycommand port ciphers macs remoteforward localforward ' +
    'permitremoteopen user host match escapechar globalknownhostsfile userknownhostsfile connectionattempts batchmode ' +
    'checkhostip stricthostkeychecking compression tcpkeepalive keepalive numberofpasswordprompts syslogfacility loglevel ' +
    'logverbose dynamicforward preferredauthentications hostkeyalgorithms casignaturealgorithms bindaddress bindinterface ' +
    'clearallforwardings enablesshkeysign verifyhostkeydns nohostauthenticationforlocalhost rekeylimit connecttimeout ' +
    'addressfamily serveraliveinterval serveralivecountmax sendenv setenv controlpath controlmaster controlpersist ' +
    'hashknownhosts include tunnel tunneldevice localcommand permitlocalcommand remotecommand visualhostkey kexalgorithms ' +
    'ipqos requesttty sessiontype stdinnull forkafterauthentication proxyusefdpass canonicaldomains ' +
    'canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames streamlocalbindmask ' +
    'streamlocalbindunlink revokedhostkeys fingerprinthash updatehostkeys hostbasedacceptedalgorithms hostbasedkeytypes ' +
    'pubkeyacceptedalgorithms pubkeyacceptedkeytypes ignoreunknown proxyjump securitykeyprovider knownhostscommand ' +
    'requiredrsasize enableescapecommandline'
  ).split(' '),
);

const STRICT: Record<string, 'yes' | 'no' | 'ask' | 'accept-new'> = {
  true: 'yes',
  yes: 'yes',
  false: 'no',
  no: 'no',
  off: 'no',
  ask: 'ask',
  'accept-new': 'accept-new',
};
const FLAG: Record<string, boolean> = { true: true, yes: true, false: false, no: false };
const CANON: Record<string, 'yes' | 'no' | 'always'> = { true: 'yes', yes: 'yes', false: 'no', no: 'no', always: 'always' };

/** Bounds: bytes per file, include depth (READCONF_MAX_DEPTH), files per evaluation. */
const MAX_FILE_BYTES = 1 << 20;
const MAX_DEPTH = 16;
const MAX_FILES = 256;

// ---------------------------------------------------------------------------
// Lexing

/** misc.c argv_split(…, terminate_on_comment=1); null on an unterminated quote. */
export function argvSplit(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) {
          i++;
          arg += n;
        } else arg += ch;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else arg += ch;
    }
    if (quote !== '') return null;
    out.push(arg);
  }
  return out;
}

interface RawLine {
  line: number;
  keyword: string;
  /** Everything after the keyword and its separator (whitespace or one '='). */
  rest: string;
  args: string[];
}

/** Split a config file into keyword lines (readconf.c process_config_line_depth's front half). */
function lexFile(text: string, file: string): RawLine[] {
  const lines = text.split('\n');
  const out: RawLine[] = [];
  for (const [i, raw0] of lines.entries()) {
    const at = `${file}:${i + 1}`;
    const raw = raw0.replace(/[ \t\r\n\f]+$/, '');
    // strdelim: the keyword ends at whitespace, a quote or one '='.
    const m = /^[ \t]*([^ \t"=]*)/.exec(raw);
    let keyword = m?.[1] ?? '';
    if (keyword === '' || keyword.startsWith('#')) continue;
    keyword = keyword.toLowerCase();
    let rest = raw.slice(m![0].length);
    rest = rest.replace(/^[ \t]*=?[ \t]*/, '');
    if (rest === '') throw usageError(`ssh config ${at}: no argument after keyword "${keyword}"`);
    const args = argvSplit(rest);
    if (args === null) throw usageError(`ssh config ${at}: invalid quotes`);
    out.push({ line: i + 1, keyword, rest, args });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Patterns (match.c), iteratively: O(len(s) * len(pattern)), no backtracking blow-up.

export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = pattern[pi];
    if (pc === '*') {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === '?' || pc === s[si])) {
      si++;
      pi++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** match_pattern_list: 1 positive, 0 none, -1 a negated sub-pattern matched. */
export function matchPatternList(s: string, list: string, lower: boolean): -1 | 0 | 1 {
  let positive = false;
  for (let sub of list.split(',')) {
    const negated = sub.startsWith('!');
    if (negated) sub = sub.slice(1);
    if (lower) sub = sub.toLowerCase();
    if (sub === '' && list.endsWith(',') && !negated) continue;
    if (matchPattern(s, sub)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Ports and services

let services: Map<string, number> | null = null;
/** getservbyname(name, "tcp") from /etc/services. */
function serviceTcpPort(name: string): number | null {
  if (!services) {
    services = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/services', 'utf8').slice(0, MAX_FILE_BYTES);
    } catch {
      /* no services database: numbers only */
    }
    for (const line of text.split('\n')) {
      const f = line.replace(/#.*/, '').trim().split(/\s+/);
      const m = /^(\d+)\/tcp$/.exec(f[1] ?? '');
      if (!m || !f[0]) continue;
      for (const n of [f[0], ...f.slice(2)]) if (!services.has(n)) services.set(n, Number(m[1]));
    }
  }
  return services.get(name) ?? null;
}

/** misc.c a2port: a number 0..65535 or a tcp service name; null when neither (0 is returned as 0). */
export function a2port(s: string): number | null {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 65535 ? n : null;
  }
  return serviceTcpPort(s);
}

// ---------------------------------------------------------------------------
// Evaluation

interface EvalState {
  opts: ClientOptions & {
    canonicalize?: 'yes' | 'no' | 'always';
    canonicalDomains?: string[];
    canonicalizeMaxDots?: number;
    canonicalizeFallbackLocal?: boolean;
  };
  /** Host matched by Host lines: the host as typed, then (final pass) the canonical name. */
  host: string;
  originalHost: string;
  /** HostName as set (raw), for Match host on the first pass. */
  hostname?: string;
  finalPass: boolean;
  wantFinalPass: boolean;
  ignoreUnknown?: string;
  files: number;
}

export interface ReaderOptions {
  pw?: Passwd;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
}

/** One config file ssh reads: the user's (-F or ~/.ssh/config) or the system's. */
export interface ConfigSource {
  path: string;
  /** A missing file is an error (-F file) rather than skipped. */
  required: boolean;
  /** Relative Include paths are under /etc/ssh (system) or ~/.ssh (user). */
  system: boolean;
  /** ssh refuses ~/.ssh/config (and Included files) writable by others or owned by someone else. */
  checkPerm: boolean;
}

export interface EvaluateOptions {
  /** -l: user from the command line (first, so it wins and Match user sees it). */
  user?: string;
  /** -p */
  port?: number;
}

/** A Host line: true when a pattern matches and no negated one does (readconf.c process_config_line, oHost). */
function hostLineMatches(host: string, args: string[]): boolean {
  let act = false;
  for (const a of args) {
    const negated = a.startsWith('!');
    if (matchPattern(host, negated ? a.slice(1) : a)) {
      if (negated) return false;
      act = true;
    }
  }
  return act;
}

/** HostName, User, Port, IdentityFile, ProxyCommand/ProxyJump (first one wins); false for any other keyword. */
function applyConnectionOption(l: RawLine, st: EvalState, at: string): boolean {
  const o = st.opts;
  const first = l.args[0] ?? '';
  switch (l.keyword) {
    case 'hostname':
      if (st.hostname === undefined) {
        st.hostname = first;
        o.hostOrigin = at;
      }
      break;
    case 'user':
      if (o.user === undefined) {
        o.user = first;
        o.userOrigin = at;
      }
      break;
    case 'port':
      if (o.port === undefined) {
        o.port = a2port(first) ?? 22;
        o.portOrigin = at;
      }
      break;
    case 'identityfile':
    case 'identityfile2':
      o.identityFiles.push({ value: first, origin: at });
      break;
    case 'proxycommand': {
      // The first of ProxyCommand and ProxyJump wins; `ProxyCommand none` counts too.
      if (o.proxyJump === undefined && o.proxyCommand === undefined) {
        const v = l.rest.trim();
        if (v.toLowerCase() === 'none') o.proxyJump = { value: 'none', origin: at };
        else o.proxyCommand = { value: v, origin: at };
      }
      break;
    }
    case 'proxyjump': {
      if (o.proxyJump === undefined && o.proxyCommand === undefined) {
        const v = l.rest.replace(/#.*$/, '').trim();
        o.proxyJump = { value: v, origin: at };
      }
      break;
    }
    default:
      return false;
  }
  return true;
}

/** Known-hosts, identity-agent and canonicalisation options (first one wins). */
function applyHostKeyOption(l: RawLine, o: EvalState['opts'], at: string): void {
  const first = l.args[0] ?? '';
  switch (l.keyword) {
    case 'userknownhostsfile':
      if (o.userKnownHostsFiles === undefined) o.userKnownHostsFiles = { value: l.args, origin: at };
      break;
    case 'globalknownhostsfile':
      if (o.globalKnownHostsFiles === undefined) o.globalKnownHostsFiles = { value: l.args, origin: at };
      break;
    case 'stricthostkeychecking':
      if (o.strictHostKeyChecking === undefined) o.strictHostKeyChecking = { value: STRICT[first.toLowerCase()]!, origin: at };
      break;
    case 'hostkeyalias':
      if (o.hostKeyAlias === undefined) o.hostKeyAlias = { value: first, origin: at };
      break;
    case 'identitiesonly':
      if (o.identitiesOnly === undefined) o.identitiesOnly = { value: FLAG[first.toLowerCase()]!, origin: at };
      break;
    case 'identityagent':
      if (o.identityAgent === undefined) o.identityAgent = { value: first, origin: at };
      break;
    case 'canonicalizehostname':
      if (o.canonicalize === undefined) o.canonicalize = CANON[first.toLowerCase()]!;
      break;
    case 'canonicaldomains':
      if (o.canonicalDomains === undefined) o.canonicalDomains = l.args;
      break;
    case 'canonicalizemaxdots':
      if (o.canonicalizeMaxDots === undefined) o.canonicalizeMaxDots = Number(first);
      break;
    case 'canonicalizefallbacklocal':
      if (o.canonicalizeFallbackLocal === undefined) o.canonicalizeFallbackLocal = FLAG[first.toLowerCase()]!;
      break;
    default:
      break;
  }
}

/**
 * One user config file (`-F file`, or ~/.ssh/config): read once, evaluated per host.
 * Files (the main one and Includes) are read lazily and cached.
 */
export class SshConfigReader {
  readonly pw: Passwd;
  private readonly env: NodeJS.ProcessEnv;
  private readonly warn: (m: string) => void;
  private readonly cache = new Map<string, RawLine[]>();
  /** Every file read, for messages. */
  readonly files: string[] = [];

  constructor(
    readonly sources: ConfigSource[],
    opts: ReaderOptions = {},
  ) {
    this.pw = opts.pw ?? localPasswd();
    this.env = opts.env ?? process.env;
    this.warn = opts.onWarning ?? (() => undefined);
    // Read (and check) the files now: a missing -F file or a bad line is an error up front.
    for (const s of sources) this.load(s.path, s.required, s.checkPerm);
  }

  private load(file: string, required: boolean, checkPerm: boolean): RawLine[] | null {
    const hit = this.cache.get(file);
    if (hit) return hit;
    let text: string;
    try {
      const st = statSync(file);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      if (st.size > MAX_FILE_BYTES) throw usageError(`ssh config ${file}: larger than ${MAX_FILE_BYTES} bytes`);
      const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
      if (checkPerm && ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o22) !== 0)) {
        throw usageError(`ssh config ${file}: bad owner or permissions (ssh refuses it too)`);
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as { exitCode?: number }).exitCode !== undefined) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (!required && code === 'ENOENT') return null;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw usageError(`ssh config ${file}: ${why}`, err);
    }
    const lines = lexFile(text, file);
    // ssh refuses the whole file for a bad line anywhere, matching or not.
    for (const l of lines) this.validate(l, file);
    this.cache.set(file, lines);
    this.files.push(file);
    return lines;
  }

  private validate(l: RawLine, file: string): void {
    const at = `ssh config ${file}:${l.line}`;
    const ignore = l.keyword === 'ignoreunknown';
    if (!KEYWORDS.has(l.keyword) && !ignore) {
      // IgnoreUnknown is per evaluation; checked again in apply().
      return;
    }
    const one = () => {
      if (l.args.length !== 1)
        throw usageError(`${at}: keyword ${l.keyword} ${l.args.length === 0 ? 'missing argument' : 'extra arguments at end of line'}`);
      const v = l.args[0]!;
      if (v === '') throw usageError(`${at}: keyword ${l.keyword} empty argument`);
      return v;
    };
    switch (l.keyword) {
      case 'port': {
        const p = a2port(one());
        if (p === null || p <= 0) throw usageError(`${at}: Bad port '${l.args[0]}'`);
        break;
      }
      case 'stricthostkeychecking':
        if (!Object.hasOwn(STRICT, one().toLowerCase())) throw usageError(`${at}: unsupported option "${l.args[0]}"`);
        break;
      case 'identitiesonly':
        if (!Object.hasOwn(FLAG, one().toLowerCase())) throw usageError(`${at}: unsupported option "${l.args[0]}"`);
        break;
      case 'canonicalizehostname':
        if (!Object.hasOwn(CANON, one().toLowerCase())) throw usageError(`${at}: unsupported option "${l.args[0]}"`);
        break;
      case 'canonicalizemaxdots':
        if (!/^\d+$/.test(one())) throw usageError(`${at}: bad number`);
        break;
      case 'canonicalizefallbacklocal':
        if (!Object.hasOwn(FLAG, one().toLowerCase())) throw usageError(`${at}: unsupported option "${l.args[0]}"`);
        break;
      case 'hostname':
      case 'user':
      case 'hostkeyalias':
      case 'identityfile':
      case 'identityagent':
        one();
        break;
      case 'proxyjump':
        try {
          parseJumpList(l.rest.replace(/#.*$/, '').trim());
        } catch (err) {
          throw usageError(`${at}: Invalid ProxyJump "${l.rest}": ${(err as Error).message}`);
        }
        break;
      case 'userknownhostsfile':
      case 'globalknownhostsfile':
        if (l.args.some((a) => a === '')) throw usageError(`${at}: keyword ${l.keyword} empty argument`);
        if (l.args.some((a, i) => a.toLowerCase() === 'none' && (i > 0 || l.args.length > 1))) {
          throw usageError(`${at}: keyword ${l.keyword} "none" argument must appear alone.`);
        }
        break;
      case 'host':
        if (l.args.some((a) => a === '')) throw usageError(`${at}: keyword host empty argument`);
        break;
      case 'match':
        checkMatchSyntax(l.args, at);
        break;
      default:
        break;
    }
  }

  /**
   * What ssh would use for `ssh [-l user] [-p port] hostArg`: the config
   * evaluated for the host as typed, HostName applied, and a second pass
   * when CanonicalizeHostname or `Match final` asks for one.
   */
  async evaluate(hostArg: string, cmd: EvaluateOptions = {}): Promise<ClientOptions> {
    // ssh.c (OpenSSH 9.6, backported by distributions): no shell metacharacters from the command line.
    if (!validHostname(hostArg)) throw usageError(`ssh: hostname ${JSON.stringify(hostArg)} contains invalid characters`);
    if (cmd.user !== undefined && !validRemoteUser(cmd.user))
      throw usageError(`ssh: remote username ${JSON.stringify(cmd.user)} contains invalid characters`);
    const st: EvalState = {
      opts: { host: hostArg, identityFiles: [] },
      host: hostArg,
      originalHost: hostArg,
      finalPass: false,
      wantFinalPass: false,
      files: 0,
    };
    if (cmd.user !== undefined) {
      st.opts.user = cmd.user;
      st.opts.userOrigin = 'command line';
    }
    if (cmd.port !== undefined) {
      st.opts.port = cmd.port;
      st.opts.portOrigin = 'command line';
    }
    for (const s of this.sources) this.readFile(s, s.path, st, true, false, 0);

    // ssh.c main: HostName (%h) then lower-case, then canonicalize.
    let host = hostArg;
    if (st.hostname !== undefined) host = expandHostname(st.hostname, hostArg, st.opts.hostOrigin ?? 'HostName');
    const wasAddr = isIP(host) !== 0;
    if (!wasAddr) host = host.toLowerCase();
    const canon = st.opts.canonicalize ?? 'no';
    if (canon !== 'no' && !wasAddr) host = await this.canonicalize(host, st, canon);
    if (canon !== 'no') st.wantFinalPass = true;
    if (st.wantFinalPass) {
      st.finalPass = true;
      st.host = host;
      st.hostname = host;
      for (const s of this.sources) this.readFile(s, s.path, st, true, false, 0);
    }
    st.opts.host = host;
    return st.opts;
  }

  private async canonicalize(host: string, st: EvalState, mode: 'yes' | 'always'): Promise<string> {
    const direct = st.opts.proxyCommand === undefined && st.opts.proxyJump === undefined;
    if (!direct && mode !== 'always') return host;
    const fallback = st.opts.canonicalizeFallbackLocal ?? true;
    const tryName = async (name: string) => {
      try {
        await Promise.race([lookup(name), new Promise((_r, rej) => setTimeout(() => rej(new Error('timeout')), 2000).unref())]);
        return true;
      } catch {
        return false;
      }
    };
    if (host.endsWith('.')) {
      if (await tryName(host)) return host.slice(0, -1);
    } else {
      const dots = (host.match(/\./g) ?? []).length;
      if (dots > (st.opts.canonicalizeMaxDots ?? 1)) return host;
      for (const d of st.opts.canonicalDomains ?? []) {
        if (d.toLowerCase() === 'none') break;
        const full = `${host}.${d}`;
        if (await tryName(`${full}.`)) return full;
      }
    }
    if (!fallback) throw usageError(`ssh config: could not canonicalize host name "${host}" (CanonicalizeFallbackLocal no)`);
    return host;
  }

  /** read_config_file_depth: `active` is inherited from the including line. */
  private readFile(src: ConfigSource, file: string, st: EvalState, active: boolean, neverMatch: boolean, depth: number): void {
    if (depth > MAX_DEPTH) throw usageError(`ssh config ${file}: too many recursive configuration includes`);
    if (++st.files > MAX_FILES) throw usageError(`ssh config ${src.path}: more than ${MAX_FILES} files included`);
    const lines = this.load(file, depth === 0 && src.required, depth > 0 || src.checkPerm);
    if (!lines) return;
    let act = active;
    for (const l of lines) act = this.apply(src, l, file, st, act, neverMatch, depth);
  }

  /** One line; returns the new active state. */
  private apply(src: ConfigSource, l: RawLine, file: string, st: EvalState, active: boolean, neverMatch: boolean, depth: number): boolean {
    const at = `${file}:${l.line}`;
    if (!KEYWORDS.has(l.keyword)) {
      if (st.ignoreUnknown !== undefined && matchPatternList(l.keyword, st.ignoreUnknown, true) === 1) return active;
      throw usageError(`ssh config ${file}:${l.line}: Bad configuration option: ${l.keyword}`);
    }
    const control = this.applyControl(src, l, file, st, active, neverMatch, depth);
    if (control !== undefined) return control;
    if (!active) return active;
    if (!applyConnectionOption(l, st, at)) applyHostKeyOption(l, st.opts, at);
    return active;
  }

  /** Host, Match, Include and IgnoreUnknown: the new active state, or undefined for any other keyword. */
  private applyControl(
    src: ConfigSource,
    l: RawLine,
    file: string,
    st: EvalState,
    active: boolean,
    neverMatch: boolean,
    depth: number,
  ): boolean | undefined {
    const at = `${file}:${l.line}`;
    switch (l.keyword) {
      case 'host':
        return neverMatch ? false : hostLineMatches(st.host, l.args);
      case 'match': {
        const r = this.matchLine(l.args, st, at);
        return neverMatch ? false : r;
      }
      case 'include': {
        for (const a of l.args) {
          let p = a;
          if (p.startsWith('~') && src.system) throw usageError(`ssh config ${file}:${l.line}: bad include path ${a}`);
          if (!isAbsolute(p) && !p.startsWith('~')) p = src.system ? `/etc/ssh/${p}` : `~/.ssh/${p}`;
          // glob(3) with GLOB_TILDE takes ~ from $HOME (other paths use the passwd entry).
          const home = this.env.HOME;
          p = tildeExpand(p, home !== undefined && home !== '' ? { ...this.pw, dir: home } : this.pw);
          for (const f of globPaths(p)) {
            this.readFile(src, f, st, active, neverMatch || !active, depth + 1);
          }
        }
        return active;
      }
      case 'ignoreunknown':
        if (active && st.ignoreUnknown === undefined) st.ignoreUnknown = l.args[0] ?? '';
        return active;
      default:
        return undefined;
    }
  }

  /** readconf.c match_cfg_line */
  private matchLine(args: string[], st: EvalState, at: string): boolean {
    const o = st.opts;
    const host = st.finalPass
      ? (st.hostname ?? st.host)
      : st.hostname !== undefined
        ? expandHostname(st.hostname, st.originalHost, at)
        : st.originalHost;
    const ruser = o.user ?? this.pw.name;
    let result = true;
    for (let i = 0; i < args.length; i++) {
      let attr = args[i]!;
      const negate = attr.startsWith('!');
      if (negate) attr = attr.slice(1);
      const a = attr.toLowerCase();
      if (a === 'all') return negate ? false : result;
      if (a === 'canonical' || a === 'final') {
        if (a === 'final') st.wantFinalPass = true;
        if (st.finalPass === negate) result = false;
        continue;
      }
      const arg = args[++i]!;
      let r: boolean;
      switch (a) {
        case 'host':
          r = matchPatternList(host.toLowerCase(), arg, true) === 1;
          break;
        case 'originalhost':
          r = matchPatternList(st.originalHost.toLowerCase(), arg, true) === 1;
          break;
        case 'user':
          r = matchPatternList(ruser, arg, false) === 1;
          break;
        case 'localuser':
          r = matchPatternList(this.pw.name, arg, false) === 1;
          break;
        default: // exec
          if (result) this.warn(`ssh config ${at}: "Match exec" is not run without ssh; treated as not matching`);
          r = false;
          break;
      }
      if (r === negate) result = false;
    }
    return result;
  }
}

const CNTRL = /[\x00-\x1f\x7f]/;

/** ssh.c valid_hostname */
export function validHostname(s: string): boolean {
  return !s.startsWith('-') && !/['`"$\\;&<>|(){},\s]/.test(s) && !CNTRL.test(s);
}

/** ssh.c valid_ruser */
export function validRemoteUser(s: string): boolean {
  return !s.startsWith('-') && !/['`"$\\;&<>|(){}]/.test(s) && !/\s-/.test(s) && !CNTRL.test(s);
}

/** Syntax of a Match line, checked for every line like ssh does. */
function checkMatchSyntax(args: string[], at: string): void {
  let attributes = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.replace(/^!/, '').toLowerCase();
    if (a === 'all') {
      if (attributes > 0 || i + 1 < args.length) throw usageError(`${at}: '${args[i]}' cannot be combined with other Match attributes`);
      return;
    }
    attributes++;
    if (a === 'canonical' || a === 'final') continue;
    if (!['host', 'originalhost', 'user', 'localuser', 'exec'].includes(a)) throw usageError(`${at}: Unsupported Match attribute ${args[i]}`);
    const v = args[i + 1];
    if (v === undefined || v === '') throw usageError(`${at}: Missing Match criteria for ${args[i]}`);
    i++;
  }
  if (attributes === 0) throw usageError(`${at}: One or more attributes required for Match`);
}

/** HostName: only %h and %% are allowed (percent_expand with "h"). */
function expandHostname(value: string, hostArg: string, at: string): string {
  return value.replace(/%(.?)/g, (_m, c: string) => {
    if (c === '%') return '%';
    if (c === 'h') return hostArg;
    throw usageError(`ssh config ${at}: HostName "${value}": unknown key %${c}`);
  });
}

export function tildeExpand(p: string, pw: Passwd): string {
  if (p === '~') return pw.dir;
  if (p.startsWith('~/')) return join(pw.dir, p.slice(2));
  const m = /^~([^/]+)(\/.*)?$/.exec(p);
  if (m && m[1] === pw.name) return join(pw.dir, m[2] ?? '');
  return p;
}

/** The values of ssh's percent tokens for one connection (ssh.c cinfo). */
export interface TokenInfo {
  /** %h remote host name (after HostName) */
  host: string;
  /** %n host as given */
  hostArg: string;
  port: number;
  /** %r remote user */
  user: string;
  /** %k HostKeyAlias or the host as given */
  keyAlias: string;
  pw: Passwd;
}

/** default_client_percent_dollar_expand after tilde_expand_filename (IdentityFile, UserKnownHostsFile). */
export function expandClientPath(raw: string, t: TokenInfo, env: NodeJS.ProcessEnv, what: string): string {
  const tilde = tildeExpand(raw, t.pw);
  const withEnv = tilde.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    const v = Object.hasOwn(env, name) ? env[name] : undefined;
    if (v === undefined) throw usageError(`${what} "${raw}": environment variable ${name} is not set`);
    return v;
  });
  const thishost = os.hostname();
  return withEnv.replace(/%(.?)/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'C':
        return createHash('sha1')
          .update(thishost + t.host + String(t.port) + t.user)
          .digest('hex');
      case 'L':
        return thishost.split('.')[0] ?? thishost;
      case 'd':
        return t.pw.dir;
      case 'h':
        return t.host;
      case 'i':
        return String(t.pw.uid);
      case 'k':
        return t.keyAlias;
      case 'l':
        return thishost;
      case 'n':
        return t.hostArg;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      case 'u':
        return t.pw.name;
      default:
        throw usageError(`${what} "${raw}": unknown token %${c}`);
    }
  });
}

/** ssh's default identities (fill_default_options), in its order. */
export const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/** glob(3) for Include: `*`, `?` and `[...]` per path component, no dotfiles for wildcards, sorted. */
function globPaths(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases: string[] = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts) {
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
      for (const n of names.sort()) if (!n.startsWith('.') && matchPattern(n, part)) next.push(join(base, n));
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

// ---------------------------------------------------------------------------
// ProxyJump syntax

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/**
 * ProxyJump syntax (readconf.c parse_jump): `none`, or a comma list of
 * `[user@]host[:port]` or `ssh://[user@]host[:port]` (IPv6 in brackets).
 * Throws Error on bad syntax.
 */
export function parseJumpList(value: string): JumpSpec[] | 'none' {
  const v = value.trim();
  if (v.toLowerCase() === 'none') return 'none';
  if (v === '') throw new Error('empty jump host');
  return v.split(',').map((part) => parseJumpHop(part.trim(), value));
}

function parseJumpHop(part: string, whole: string): JumpSpec {
  if (part === '') throw new Error(`empty jump host in "${whole}"`);
  let rest = part;
  if (/^ssh:\/\//i.test(rest)) {
    rest = rest.slice(6);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
    if (rest.includes('/')) throw new Error(`bad jump host "${part}" (a path is not allowed)`);
  }
  const spec: JumpSpec = { host: '' };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const user = rest.slice(0, at);
    if (user === '') throw new Error(`empty user in jump host "${part}"`);
    spec.user = user;
    rest = rest.slice(at + 1);
  }
  let portRaw: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error(`unbalanced [ in jump host "${part}"`);
    spec.host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.startsWith(':')) portRaw = after.slice(1);
    else if (after !== '') throw new Error(`bad jump host "${part}"`);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const i = rest.indexOf(':');
    spec.host = rest.slice(0, i);
    portRaw = rest.slice(i + 1);
  } else {
    spec.host = rest;
  }
  if (spec.host === '' || /[\s/@]/.test(spec.host)) throw new Error(`bad jump host "${part}"`);
  if (portRaw !== undefined) {
    const p = a2port(portRaw);
    if (p === null || p <= 0) throw new Error(`bad port "${portRaw}" in jump host "${part}"`);
    spec.port = p;
  }
  return spec;
}
