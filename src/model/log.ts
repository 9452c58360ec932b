/**
 * The nodes' own testimony, parsed once: every line of `host/docker-log`
 * and `host/kernel-log` matched against the signature catalogue
 * (log-signatures.ts), counted per (signature, peer, network) with the
 * first and last time, and the peer named by the line mapped to a swarm
 * node: memberlist names through the join events and NetworkDB stats
 * lines of every node's log and through hostnames, addresses through the
 * advertise addresses. Linear in the text: substring search only.
 */
import type { RawSection } from '../collect/sections.js';
import type { NetworkFacts, NodeSnapshot } from '../snapshot/types.js';
import { LOG_SIGNATURES, type Extract, type LogSignature } from './log-signatures.js';
import { firstLine } from './sections.js';
import type { Read } from './types.js';

/** At most this many lines per section and characters per line are looked at. */
export const LOG_LIMITS = { lines: 20_000, lineChars: 4096, tokenChars: 200, exampleChars: 300 } as const;

export interface LogHit {
  signature: LogSignature;
  count: number;
  /** ISO times of the first and last matching line, when the lines carry one. */
  first: string | null;
  last: string | null;
  /** The swarm node the line names, when it maps to one. */
  peer: string | null;
  /** The token the line names (member name, address), as printed. */
  subject: string | null;
  /** Network name (or id when it does not map). */
  network: string | null;
  /** The last matching line, shortened. */
  example: string;
}

export interface LogRead {
  /** Where the node read it (from the node's note: journald, /var/log/docker.log, …). */
  source: string;
  /** Seconds since the epoch the log was read from, when known. */
  since: number | null;
  lines: number;
  truncated: boolean;
}

export interface NodeLog {
  docker: Read<LogRead>;
  kernel: Read<LogRead>;
  /** Hits of both logs, in catalogue order; thresholds applied. */
  hits: LogHit[];
}

interface RawHit {
  sig: LogSignature;
  token: string | null;
  net: string | null;
  time: string | null;
  line: string;
}

const STOP = new Set([' ', '\t', '"', '\\', ',', ')', '(', ';', "'", '`']);

/** The token right after the first marker present, up to a delimiter; null when none. */
export function tokenAfter(line: string, markers: readonly string[]): string | null {
  for (const m of markers) {
    const i = line.indexOf(m);
    if (i < 0) continue;
    let j = i + m.length;
    const end = Math.min(line.length, j + LOG_LIMITS.tokenChars);
    const start = j;
    while (j < end && !STOP.has(line[j]!)) j++;
    const t = line.slice(start, j).replace(/[.:]+$/, '');
    return t === '' ? null : t;
  }
  return null;
}

/** Whether a line matches a signature: all substrings in order, any of `any`, none of `not`. */
export function matches(line: string, sig: LogSignature): boolean {
  let at = 0;
  for (const s of sig.all) {
    const i = line.indexOf(s, at);
    if (i < 0) return false;
    at = i + s.length;
  }
  if (sig.any && !sig.any.some((s) => line.includes(s))) return false;
  if (sig.not?.some((s) => line.includes(s))) return false;
  if (sig.value) {
    const i = line.indexOf(sig.value.after);
    if (i < 0) return false;
    let j = i + sig.value.after.length;
    let digits = '';
    while (j < line.length && digits.length < 12 && line[j]! >= '0' && line[j]! <= '9') digits += line[j++];
    if (digits === '' || Number(digits) < sig.value.min) return false;
  }
  return true;
}

const isoOf = (t: string): string | null => {
  const ms = Date.parse(t.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

/** A line's time: logrus `time="…"`, JSON `"time":"…"`, or a leading ISO stamp (journalctl -o short-iso). */
export function lineTime(line: string): string | null {
  for (const m of ['time="', '"time":"']) {
    const i = line.indexOf(m);
    if (i < 0) continue;
    const j = line.indexOf('"', i + m.length);
    if (j > i && j - i < 64) return isoOf(line.slice(i + m.length, j));
  }
  const sp = line.indexOf(' ');
  const head = sp > 0 && sp < 40 ? line.slice(0, sp) : '';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(head) ? isoOf(head) : null;
}

/** The strings one of which a line must hold to match `sig`: the first of `all`, else every one of `any`. */
const anchorsOf = (sig: LogSignature): readonly string[] => (sig.all.length > 0 ? [sig.all[0]!] : (sig.any ?? []));

/**
 * Every line (the first LOG_LIMITS.lines non-blank ones, each cut at
 * LOG_LIMITS.lineChars) against every signature of `source`, hits in line
 * order, then catalogue order. Each signature's anchors (anchorsOf) are
 * searched in the whole text, and only the lines that hold one are matched
 * in full: a 2,000-line log is read a few dozen times by indexOf instead of
 * 2,000 × every signature by a call each (36 ms to 4 ms on the lab's logs).
 */
export function scan(text: string, source: LogSignature['source']): { hits: RawHit[]; lines: number } {
  const sigs = LOG_SIGNATURES.filter((s) => s.source === source);
  // Where the lines looked at end: after the LOG_LIMITS.lines-th non-blank one.
  let n = 0;
  let from = 0;
  while (from < text.length && n < LOG_LIMITS.lines) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    // Most lines start with a printable ASCII character: no copy needed to know they are not blank.
    const c = text.charCodeAt(from);
    if ((c > 0x20 && c < 0x7f) || text.slice(from, Math.min(to, from + LOG_LIMITS.lineChars)).trim() !== '') n++;
    from = to + 1;
  }
  const end = Math.min(from, text.length);
  // Line start → the signatures (by index) that may match it.
  const candidates = new Map<number, Set<number>>();
  sigs.forEach((sig, k) => {
    for (const a of anchorsOf(sig)) {
      if (a === '') continue;
      for (let at = text.indexOf(a); at >= 0 && at < end;) {
        const start = text.lastIndexOf('\n', at - 1) + 1;
        let stop = text.indexOf('\n', at);
        if (stop < 0) stop = text.length;
        // Only where the line, cut at lineChars, still holds the whole anchor.
        if (at + a.length <= start + LOG_LIMITS.lineChars) {
          const set = candidates.get(start) ?? new Set<number>();
          set.add(k);
          candidates.set(start, set);
        }
        at = text.indexOf(a, stop + 1);
      }
    }
  });
  const hits: RawHit[] = [];
  for (const start of [...candidates.keys()].sort((a, b) => a - b)) {
    let stop = text.indexOf('\n', start);
    if (stop < 0) stop = text.length;
    const line = text.slice(start, Math.min(stop, start + LOG_LIMITS.lineChars));
    for (const k of [...candidates.get(start)!].sort((a, b) => a - b)) {
      const sig = sigs[k]!;
      if (!matches(line, sig)) continue;
      hits.push({
        sig,
        token: sig.peer ? tokenAfter(line, sig.peer.after) : null,
        net: sig.network ? tokenAfter(line, sig.network.after) : null,
        time: lineTime(line),
        line,
      });
    }
  }
  return { hits, lines: n };
}

function readLog(s: RawSection | undefined, what: string): Read<LogRead> {
  if (!s) return { ok: false, problem: `${what} was not collected (a snapshot from an older netdoctor, or a bundle taken with --log-lines 0)` };
  const note = firstLine(s.stderr);
  if (s.rc !== 0) return { ok: false, problem: `${what} could not be read (exit ${s.rc ?? 'none'}: ${note || 'no message'})` };
  const at = note.indexOf('since @');
  const digits = at < 0 ? '' : (note.slice(at + 7).match(/^[0-9]{1,12}/)?.[0] ?? '');
  const colon = note.indexOf(': ');
  const source = colon > 0 ? note.slice(colon + 2).split(' (')[0]! : note || 'unknown source';
  return { ok: true, value: { source, since: digits === '' ? null : Number(digits), lines: 0, truncated: s.truncated === true }, warnings: [] };
}

export interface LogContext {
  nodes: readonly NodeSnapshot[];
  nameByIp: Map<string, string>;
  networks: readonly NetworkFacts[];
}

/** Strip `:port` from an address (IPv4 `a.b.c.d:p`, IPv6 `[…]:p`). */
function hostOf(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']') > 0 ? addr.indexOf(']') : undefined);
  const c = addr.lastIndexOf(':');
  return c > 0 && addr.indexOf(':') === c ? addr.slice(0, c) : addr;
}

/**
 * Memberlist name → swarm node name, learnt from every node's log: a node's
 * own start-up line (`will use memberlist nodeID:<id>`) and `NetworkDB stats
 * <host>(<id>)` lines (every 5 min), and `Node join event for <member>/<addr>`
 * (addr → node by advertise address).
 */
function memberMap(scans: Map<string, RawHit[]>, texts: Map<string, string>, ctx: LogContext): Map<string, string> {
  const map = new Map<string, string>();
  for (const [node, text] of texts) {
    // dockerd's start-up line: "New memberlist node - Node:nd1 will use memberlist nodeID:d14975e76171 with config:…"
    const own = tokenAfter(text, ['will use memberlist nodeID:']);
    if (own !== null) map.set(own, node);
    const t = tokenAfter(text, ['NetworkDB stats ']);
    if (t !== null) map.set(t, node);
    const i = text.indexOf('NetworkDB stats ');
    if (i >= 0) {
      const open = text.indexOf('(', i);
      const close = open < 0 ? -1 : text.indexOf(')', open);
      if (open > i && open - i < 200 && close > open && close - open < 80 && !text.slice(i, close).includes('\n')) {
        const id = text.slice(open + 1, close);
        map.set(id, node);
        // memberlist's name for the node is `<hostname>-<id>` on engines ≥ 17.06
        if (t !== null) map.set(`${t}-${id}`, node);
      }
    }
  }
  for (const hits of scans.values()) {
    for (const h of hits) {
      if (h.sig.key !== 'nodeJoin' || h.token === null) continue;
      const slash = h.token.indexOf('/');
      if (slash <= 0) continue;
      const name = ctx.nameByIp.get(hostOf(h.token.slice(slash + 1)));
      if (name !== undefined) map.set(h.token.slice(0, slash), name);
    }
  }
  return map;
}

function resolvePeer(token: string, e: Extract, members: Map<string, string>, ctx: LogContext, hostnames: Map<string, string>): string | null {
  if (e.kind === 'addr') return ctx.nameByIp.get(hostOf(token)) ?? null;
  if (e.kind !== 'member') return null;
  const name = token.includes('/') ? token.slice(0, token.indexOf('/')) : token;
  const known = members.get(name);
  if (known !== undefined) return known;
  // `<hostname>-<12 hex>` (engines ≥ 17.06): the hostname names the node.
  const dash = name.lastIndexOf('-');
  if (dash > 0 && /^[0-9a-f]{12}$/.test(name.slice(dash + 1))) return hostnames.get(name.slice(0, dash)) ?? null;
  return null;
}

function resolveNetwork(token: string, networks: readonly NetworkFacts[]): string {
  const n = networks.find((x) => x.id === token || x.name === token || (token.length >= 10 && x.id.startsWith(token)));
  return n?.name ?? token;
}

/** Every node's log hits, by node name. */
export function logModel(ctx: LogContext): Map<string, NodeLog> {
  const scans = new Map<string, RawHit[]>();
  const texts = new Map<string, string>();
  const reads = new Map<string, { docker: Read<LogRead>; kernel: Read<LogRead> }>();
  const hostnames = new Map<string, string>();
  for (const n of ctx.nodes) {
    hostnames.set(n.name, n.name);
    if (n.host?.hostname) hostnames.set(n.host.hostname, n.name);
  }
  for (const n of ctx.nodes) {
    const hits: RawHit[] = [];
    const docker = readLog(n.raw['host/docker-log'], `dockerd's log on ${n.name}`);
    const kernel = readLog(n.raw['host/kernel-log'], `the kernel log on ${n.name}`);
    if (docker.ok) {
      const text = n.raw['host/docker-log']!.stdout;
      const s = scan(text, 'dockerd');
      docker.value.lines = s.lines;
      hits.push(...s.hits);
      texts.set(n.name, text);
    }
    if (kernel.ok) {
      const s = scan(n.raw['host/kernel-log']!.stdout, 'kernel');
      kernel.value.lines = s.lines;
      hits.push(...s.hits);
    }
    scans.set(n.name, hits);
    reads.set(n.name, { docker, kernel });
  }
  const members = memberMap(scans, texts, ctx);
  const out = new Map<string, NodeLog>();
  for (const n of ctx.nodes) {
    const groups = new Map<string, LogHit>();
    for (const h of scans.get(n.name) ?? []) {
      const subject =
        h.token === null ? null : h.sig.peer?.kind === 'member' && h.token.includes('/') ? h.token.slice(0, h.token.indexOf('/')) : h.token;
      const peer = h.token !== null && h.sig.peer ? resolvePeer(h.token, h.sig.peer, members, ctx, hostnames) : null;
      const network = h.net === null ? null : resolveNetwork(h.net, ctx.networks);
      const key = `${h.sig.key}\u0000${peer ?? subject ?? ''}\u0000${network ?? ''}`;
      const g = groups.get(key);
      const example = h.line.length > LOG_LIMITS.exampleChars ? `${h.line.slice(0, LOG_LIMITS.exampleChars)}…` : h.line;
      if (!g) {
        groups.set(key, { signature: h.sig, count: 1, first: h.time, last: h.time, peer, subject, network, example });
        continue;
      }
      g.count++;
      if (h.time !== null && (g.first === null || h.time < g.first)) g.first = h.time;
      if (h.time !== null && (g.last === null || h.time > g.last)) g.last = h.time;
      g.example = example;
    }
    const order = new Map(LOG_SIGNATURES.map((s, i) => [s.key, i]));
    const hits = [...groups.values()]
      .filter((g) => g.count >= (g.signature.threshold ?? 1))
      .sort((a, b) => order.get(a.signature.key)! - order.get(b.signature.key)!);
    out.set(n.name, { ...reads.get(n.name)!, hits });
  }
  return out;
}
