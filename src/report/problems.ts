/**
 * Problems, not rows: findings that share a check, a message id, a status and
 * the same cause (their detail equal once the node's and the peer's names and
 * addresses, and a log's times and counts, are set aside) fold into one
 * problem that lists its nodes or pairs. A problem whose check declares what it follows from (`meta.causedBy`),
 * or whose detail says "see <check id>", hangs under the problem of that check
 * on the same nodes as one of its consequences, so one cause is named once.
 *
 * Ordered by impact: failures and errors before warnings before skips, then
 * by layer (the cluster and the hosts carry everything above them), then by
 * how much follows from the problem and how many places it touches.
 */
import { REGISTRY } from '../checks/registry.js';
import { LAYERS, type AnyCheck, type Finding, type Layer, type Status } from '../checks/types.js';
import { listText, plural } from '../text/list.js';

export type ProblemStatus = Exclude<Status, 'pass'>;

export interface Problem {
  /** Stable within a report: `<check>:<messageId>`, with `~2`, `~3` … when one check has several problems of one message. */
  id: string;
  check: string;
  /** Every check folded into it: `[check]`, or for skips with one reason, every check that skipped for it. */
  checks: string[];
  layer: Layer;
  status: ProblemStatus;
  messageId: string;
  title: string;
  /** The detail of its first finding (the others differ only in the node's and peer's names and addresses). */
  detail: string;
  /** Every node the problem is on (for pairs: senders and receivers), in the cluster's order. */
  nodes: string[];
  pairs: { from: string; to: string }[];
  networks: string[];
  /** The id of the problem this one follows from, or null for a root. */
  causedBy: string | null;
  /** Ids of the problems that follow from this one (direct). */
  consequences: string[];
  /** One remediation for the whole problem (the commands of its first finding when they differ per place). */
  remediation: string;
  /** Every distinct remediation with where it applies (one entry when the commands are the same everywhere). */
  remediations: { nodes: string[]; remediation: string }[];
  /** How many findings folded into it. */
  findings: number;
}

const NODE = '\uE000';
const PEER = '\uE001';
const NODE_ADDR = '\uE002';
const PEER_ADDR = '\uE003';

const nameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_-]/.test(c);
const digitOrDot = (c: string | undefined): boolean => c !== undefined && /[0-9.]/.test(c);
const digit = (c: string | undefined): boolean => c !== undefined && /[0-9]/.test(c);

/** Every whole-word occurrence of `word` in `s` replaced by `token` (indexOf scan: linear, no pattern built from outside text). */
function replaceWord(
  s: string,
  word: string,
  token: string,
  before: (c: string | undefined) => boolean,
  after: (c: string | undefined) => boolean,
): string {
  if (word === '') return s;
  let out = '';
  let from = 0;
  for (;;) {
    const i = s.indexOf(word, from);
    if (i < 0) break;
    const end = i + word.length;
    if (!before(s[i - 1]) && !after(s[end])) {
      out += s.slice(from, i) + token;
    } else {
      out += s.slice(from, end);
    }
    from = end;
  }
  return out + s.slice(from);
}

interface Places {
  addressOf: ReadonlyMap<string, string>;
}

/** The text of a finding with its own node's and peer's names and addresses replaced by tokens. */
function normalise(text: string, f: Finding, p: Places): string {
  let s = text;
  const swaps: [string, string, boolean][] = [];
  if (f.node !== null) swaps.push([f.node, NODE, false]);
  if (f.peer !== null) swaps.push([f.peer, PEER, false]);
  const na = f.node !== null ? p.addressOf.get(f.node) : undefined;
  const pa = f.peer !== null ? p.addressOf.get(f.peer) : undefined;
  if (na) swaps.push([na, NODE_ADDR, true]);
  if (pa) swaps.push([pa, PEER_ADDR, true]);
  // Longest first, so nd1 never eats into nd10.
  swaps.sort((a, b) => b[0].length - a[0].length);
  for (const [word, token, address] of swaps) {
    s = address ? replaceWord(s, word, token, digitOrDot, digit) : replaceWord(s, word, token, nameChar, nameChar);
  }
  return s;
}

const WHEN = '\uE004';
const COUNT = '\uE005';
// Bounded quantifiers, no nesting: linear whatever a node printed.
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?/g;
const TIMES = /\b\d{1,12} times?\b/g;

/**
 * The fold key of a detail: its node and peer set aside, and what differs per node for one cause besides
 * them, when and how often a log said it ("nd2 could not use IPVS 1 time since …, first at <time>").
 * Only for the key: a problem's detail and remediation are always a finding's own text.
 */
const foldKey = (text: string, f: Finding, p: Places): string => normalise(text, f, p).replace(TIMESTAMP, WHEN).replace(TIMES, `${COUNT} times`);

const SEVERITY: Record<ProblemStatus, number> = { error: 0, fail: 0, warn: 1, skip: 2 };

/** "see overlay.datapath.reachable" in a skip's detail names the check it follows from. */
function mentionedChecks(detail: string, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const i = detail.indexOf('see ', from);
    if (i < 0) break;
    let end = i + 4;
    while (end < detail.length && /[a-z0-9.-]/.test(detail[end]!)) end++;
    const id = detail.slice(i + 4, end).replace(/\.+$/, '');
    if (known.has(id)) out.push(id);
    from = i + 4;
  }
  return out;
}

interface Group {
  key: string;
  check: string;
  status: ProblemStatus;
  messageId: string;
  findings: Finding[];
}

export function buildProblems(
  findings: readonly Finding[],
  nodes: readonly { name: string; address: string | null }[],
  registry: readonly AnyCheck[] = REGISTRY,
): Problem[] {
  const addressOf = new Map<string, string>();
  for (const n of nodes) if (n.address) addressOf.set(n.name, n.address);
  const order = new Map(nodes.map((n, i) => [n.name, i]));
  const rank = (name: string) => order.get(name) ?? nodes.length;
  const byOrder = (a: string, b: string) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  const meta = new Map(registry.map((c) => [c.meta.id, c.meta]));
  const known = new Set(meta.keys());
  const places: Places = { addressOf };

  // 1. Fold.
  const groups = new Map<string, Group>();
  for (const f of findings) {
    if (f.status === 'pass') continue;
    // Skips with the same reason fold across checks too ("the log was not collected" for every log check).
    const key = (f.status === 'skip' ? ['skip', foldKey(f.detail, f, places)] : [f.id, f.messageId, f.status, foldKey(f.detail, f, places)]).join(
      '\u0000',
    );
    let g = groups.get(key);
    if (!g) {
      g = { key, check: f.id, status: f.status, messageId: f.messageId, findings: [] };
      groups.set(key, g);
    }
    g.findings.push(f);
  }

  // 2. Describe each group.
  const seenIds = new Map<string, number>();
  const problems: (Problem & { causes: string[] })[] = [];
  for (const g of groups.values()) {
    const first = g.findings[0]!;
    const base = `${g.check}:${g.messageId}`;
    const n = (seenIds.get(base) ?? 0) + 1;
    seenIds.set(base, n);
    const nodeSet = new Set<string>();
    const pairs: { from: string; to: string }[] = [];
    const networks = new Set<string>();
    for (const f of g.findings) {
      if (f.node !== null) nodeSet.add(f.node);
      if (f.peer !== null) nodeSet.add(f.peer);
      if (f.node !== null && f.peer !== null && !pairs.some((p) => p.from === f.node && p.to === f.peer)) pairs.push({ from: f.node, to: f.peer });
      if (f.network !== null) networks.add(f.network);
    }
    const problemNodes = [...nodeSet].sort(byOrder);
    const checks = [...new Set(g.findings.map((f) => f.id))];
    const { remediation, remediations } = foldRemediations(g.findings, places, byOrder);
    problems.push({
      id: n === 1 ? base : `${base}~${n}`,
      check: g.check,
      checks,
      layer: first.layer,
      status: g.status,
      messageId: g.messageId,
      title: checks.length > 1 ? `${checks.length} checks skipped (${listText(checks, 4)})` : first.title,
      detail: first.detail,
      nodes: problemNodes,
      pairs,
      networks: [...networks],
      causedBy: null,
      consequences: [],
      remediation,
      remediations,
      findings: g.findings.length,
      // A skip follows from what it names ("see X"); a failure or warning from what its check declares, and what it names.
      causes: [...(g.status === 'skip' ? [] : (meta.get(g.check)?.causedBy ?? [])), ...mentionedChecks(first.detail, known)],
    });
  }

  // 3. Link each problem to the problem it follows from: a problem of a check it names, on a node it shares (or cluster-wide).
  linkCauses(problems);
  // 4. Order: roots by impact, each followed by what follows from it (depth first).
  return orderByImpact(problems).map(({ causes: _causes, ...p }) => p);
}

type Linkable = Problem & { causes: string[] };

/** Sets each problem's causedBy to its closest cause among the problems of the checks it follows from. */
function linkCauses(problems: Linkable[]): void {
  const overlaps = (a: Problem, b: Problem) => a.nodes.length === 0 || b.nodes.length === 0 || a.nodes.some((x) => b.nodes.includes(x));
  // The closest cause wins: one on the same pair, then one on fewer nodes that shares a node, then a cluster-wide one.
  const closeness = (p: Problem, q: Problem): number => {
    if (p.pairs.some((x) => q.pairs.some((y) => x.from === y.from && x.to === y.to))) return 3;
    if (q.nodes.length === 0 || p.nodes.length === 0) return 0.5;
    return 1 + 1 / q.nodes.length;
  };
  const followsFrom = (p: Problem, q: Problem): boolean => {
    let up: Problem | undefined = q;
    const seen = new Set<Problem>();
    while (up && !seen.has(up)) {
      if (up === p) return true;
      seen.add(up);
      const next: string | null = up.causedBy;
      up = next === null ? undefined : problems.find((x) => x.id === next);
    }
    return false;
  };
  for (const p of problems) {
    let best: { q: Problem; score: number } | null = null;
    for (const c of p.causes) {
      for (const q of problems) {
        if (q === p || q.check !== c || q.status === 'skip' || !overlaps(p, q)) continue;
        const score = closeness(p, q);
        if (!best || score > best.score) best = { q, score };
      }
    }
    // No cycles: the cause must not itself (transitively) follow from p.
    if (best && !followsFrom(p, best.q)) p.causedBy = best.q.id;
  }
}

/** Roots by impact, each followed by its consequences (depth first); consequences lists filled in. */
function orderByImpact(problems: Linkable[]): Linkable[] {
  const byId = new Map(problems.map((p) => [p.id, p] as const));
  for (const p of problems) if (p.causedBy !== null) byId.get(p.causedBy)!.consequences.push(p.id);
  const descendants = (p: Problem): number => p.consequences.reduce((s, id) => s + 1 + descendants(byId.get(id)!), 0);
  const impact = (a: Problem, b: Problem) =>
    SEVERITY[a.status] - SEVERITY[b.status] ||
    LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer) ||
    descendants(b) - descendants(a) ||
    b.nodes.length + b.pairs.length - (a.nodes.length + a.pairs.length);
  const out: Linkable[] = [];
  const visit = (p: Linkable) => {
    out.push(p);
    for (const c of p.consequences.map((id) => byId.get(id)!).sort(impact)) visit(c);
  };
  for (const root of problems.filter((p) => p.causedBy === null).sort(impact)) visit(root);
  for (const p of out) p.consequences = out.filter((q) => q.causedBy === p.id).map((q) => q.id);
  return out;
}

/**
 * One remediation when the commands are the same everywhere once names are set aside (the names then listed:
 * "On nd1, nd2 and nd3: …"); otherwise every distinct remediation with where it applies.
 */
function foldRemediations(
  fs: readonly Finding[],
  places: Places,
  byOrder: (a: string, b: string) => number,
): { remediation: string; remediations: Problem['remediations'] } {
  const distinct = new Map<string, string[]>();
  for (const f of fs) {
    if (f.remediation === '') continue;
    const at = distinct.get(f.remediation) ?? [];
    if (f.node !== null && !at.includes(f.node)) at.push(f.node);
    distinct.set(f.remediation, at);
  }
  const remediations = [...distinct].map(([remediation, at]) => ({ nodes: at.sort(byOrder), remediation }));
  if (remediations.length <= 1) return { remediation: remediations[0]?.remediation ?? '', remediations };
  const withFix = fs.filter((f) => f.remediation !== '');
  const shapes = new Set(withFix.map((f) => normalise(f.remediation, f, places)));
  if (shapes.size === 1) {
    // One shape: a token the same everywhere is put back; a name that varies becomes the list of names; a varying address cannot fold.
    let folded: string | null = [...shapes][0]!;
    const values = (pick: (f: Finding) => string | null | undefined) => [
      ...new Set(withFix.map(pick).filter((x): x is string => typeof x === 'string')),
    ];
    const tokens: [string, string[], boolean][] = [
      [NODE, values((f) => f.node).sort(byOrder), true],
      [PEER, values((f) => f.peer).sort(byOrder), true],
      [NODE_ADDR, values((f) => (f.node === null ? null : places.addressOf.get(f.node))), false],
      [PEER_ADDR, values((f) => (f.peer === null ? null : places.addressOf.get(f.peer))), false],
    ];
    for (const [token, vals, isName] of tokens) {
      if (folded === null || !folded.includes(token)) continue;
      if (vals.length === 1) folded = folded.split(token).join(vals[0]);
      else if (isName && vals.length > 1) folded = folded.split(token).join(listText(vals));
      else folded = null;
    }
    if (folded !== null) return { remediation: folded, remediations };
  }
  return { remediation: remediations[0]!.remediation, remediations };
}

/** "on nd1, nd2 and nd3" / "from nd5 to 29 nodes" / "12 pairs" / "cluster-wide". */
export function placeText(p: Pick<Problem, 'nodes' | 'pairs' | 'networks'>, max = 6): string {
  const net = p.networks.length > 0 ? ` (network ${listText(p.networks, 3)})` : '';
  if (p.pairs.length > 0) {
    const froms = [...new Set(p.pairs.map((x) => x.from))];
    const tos = [...new Set(p.pairs.map((x) => x.to))];
    const side = (xs: string[]) => (xs.length === 1 ? xs[0]! : xs.length <= max ? listText(xs) : plural(xs.length, 'node'));
    if (p.pairs.length === 1) return `${p.pairs[0]!.from} → ${p.pairs[0]!.to}${net}`;
    if (froms.length === 1 || tos.length === 1) return `from ${side(froms)} to ${side(tos)}${net}`;
    return `${plural(p.pairs.length, 'pair')} among ${plural(p.nodes.length, 'node')}${net}`;
  }
  if (p.nodes.length === 0) return `cluster-wide${net}`;
  return `on ${p.nodes.length <= max ? listText(p.nodes) : `${plural(p.nodes.length, 'node')} (${listText(p.nodes, max)})`}${net}`;
}
