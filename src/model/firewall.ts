/**
 * Walks one packet through a node's iptables filter table, in rule order, to
 * say whether swarm traffic between two nodes gets through: the verdict of
 * INPUT (peer → node) or OUTPUT (node → peer) including jumps into user
 * chains, RETURN, goto and the built-in chain's policy.
 *
 * A rule whose match cannot be decided from what we know about the packet
 * (an ipset, u32, a rate limit, a source port we do not know, …) forks the
 * walk: the packet is followed both as if the rule matched and as if it did
 * not. The answer is then
 *   - 'accepted' when every path accepts,
 *   - 'dropped' when every path drops,
 *   - 'maybe' otherwise, with the undecidable rules that lead to a drop.
 *
 * The packet is the first of a new flow (conntrack state NEW) unless it says
 * it is a reply (ESTABLISHED). In INPUT and OUTPUT, Docker's own drop rules
 * (the encrypted-overlay VXLAN guard, rules in Docker chains) are not
 * counted: they are how Docker means the traffic to flow. FORWARD (a packet
 * with both an in and an out interface) counts every drop. Only the filter
 * table of an iptables-save dump is read; native nftables rulesets (firewalld
 * with the nftables backend, `nft` tables of their own) are not in the dump.
 */
import { unavailable } from '../parse/host.js';
import { isDockerManaged, portSpecIncludes, type IptablesDump, type IptRule } from '../parse/iptables.js';
import type { NodeSnapshot } from '../snapshot/types.js';
import { readDump } from './sections.js';
import type { HostDump, NodeFirewall } from './types.js';
import { cidrContainsIp } from '../net/ip.js';

export type Root = 'INPUT' | 'OUTPUT' | 'FORWARD';

export interface Packet {
  proto: 'tcp' | 'udp' | 'esp';
  dport: number | null;
  /** Source port when known (memberlist gossip uses 7946 on both ends); null = any. */
  sport: number | null;
  src: string | null;
  dst: string | null;
  /** INPUT and FORWARD: the interface it arrives on; OUTPUT: the one it leaves by. null = unknown. */
  iface: string | null;
  /** FORWARD: the interface it leaves by (null = unknown). */
  outIface?: string | null;
  /** Conntrack state of the packet: the first packet of a new flow (default) or a reply within one. */
  state?: 'NEW' | 'ESTABLISHED';
}

export interface PathOutcome {
  verdict: 'accept' | 'drop' | 'unknown';
  /** The rule that decided; null when the chain policy did. */
  rule: IptRule | null;
  /** Set when the built-in chain's policy decided. */
  policy: string | null;
  /** Rules we could not decide that this path assumed to match. */
  assumed: IptRule[];
  /** Rules we could not decide that this path assumed not to match. */
  unless: IptRule[];
  /** Jump rules that led from the root chain to `rule`. */
  via: IptRule[];
}

export interface Evaluation {
  result: 'accepted' | 'dropped' | 'maybe';
  outcomes: PathOutcome[];
  /** Paths that end in a drop (or an undecidable target). */
  drops: PathOutcome[];
}

type Tri = 'yes' | 'no' | 'maybe';

const NON_TERMINATING = new Set([
  'LOG',
  'NFLOG',
  'ULOG',
  'MARK',
  'CONNMARK',
  'CLASSIFY',
  'DSCP',
  'TOS',
  'TCPMSS',
  'TRACE',
  'AUDIT',
  'SET',
  'CT',
  'NOTRACK',
  'CHECKSUM',
  'TTL',
  'HL',
  'SECMARK',
  'CONNSECMARK',
  'IDLETIMER',
  'LED',
  'RATEEST',
  'TEE',
]);
const VERDICT_DROP = new Set(['DROP', 'REJECT']);

/** Protocol names iptables-save may print, as numbers (`-p 50` and `-p esp` are one rule). */
const PROTO_NUM: Record<string, string> = {
  tcp: '6',
  udp: '17',
  esp: '50',
  icmp: '1',
  ah: '51',
  sctp: '132',
  gre: '47',
  ipv6: '41',
  icmpv6: '58',
  'ipv6-icmp': '58',
};
const normProto = (p: string): string => {
  const l = p.toLowerCase();
  return Object.hasOwn(PROTO_NUM, l) ? PROTO_NUM[l]! : l;
};

/** Options whose value the parser already modelled (or that narrow nothing). */
const VALUE_OPTS = new Set([
  '-p',
  '--protocol',
  '-s',
  '--source',
  '--src',
  '-d',
  '--destination',
  '--dst',
  '-i',
  '--in-interface',
  '-o',
  '--out-interface',
  '-m',
  '--match',
  '--dport',
  '--dports',
  '--destination-port',
  '--destination-ports',
  '--sport',
  '--sports',
  '--source-port',
  '--source-ports',
  '--ports',
  '--comment',
  '--icmp-type',
]);

const ifaceMatches = (pattern: string, name: string): boolean => (pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

function and(a: Tri, b: Tri): Tri {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'maybe' || b === 'maybe' ? 'maybe' : 'yes';
}

function neg(t: Tri, negated: boolean): Tri {
  if (!negated || t === 'maybe') return t;
  return t === 'yes' ? 'no' : 'yes';
}

const isNeg = (r: IptRule, opts: string[]): boolean => opts.some((o) => r.negations.includes(o));

function addressMatch(spec: string | undefined, addr: string | null, negated: boolean): Tri {
  if (spec === undefined) return 'yes';
  if (addr === null) return 'maybe';
  const parts = spec.split(',').map((c) => cidrContainsIp(c, addr));
  if (parts.some((p) => p === true)) return neg('yes', negated);
  if (parts.some((p) => p === null)) return 'maybe';
  return neg('no', negated);
}

function portMatch(spec: string | undefined, port: number | null, negated: boolean): Tri {
  if (spec === undefined) return 'yes';
  if (port === null) return 'maybe';
  const inc = portSpecIncludes(spec, port);
  if (inc === null) return 'maybe';
  return neg(inc ? 'yes' : 'no', negated);
}

/** Does rule `r` match packet `p` in chain path from `root`? */
function matchRule(r: IptRule, p: Packet, root: Root): Tri {
  let t: Tri = 'yes';
  if (r.protocol !== undefined && r.protocol !== 'all' && r.protocol !== '0') {
    const eq = normProto(r.protocol) === normProto(p.proto);
    if ((isNeg(r, ['-p', '--protocol']) ? !eq : eq) === false) return 'no';
  }
  t = and(t, addressMatch(r.source, p.src, isNeg(r, ['-s', '--source', '--src'])));
  t = and(t, addressMatch(r.destination, p.dst, isNeg(r, ['-d', '--destination', '--dst'])));
  // INPUT packets have no output interface and OUTPUT packets no input one.
  if (r.inIface !== undefined) {
    const n = isNeg(r, ['-i', '--in-interface']);
    t = and(t, root === 'OUTPUT' ? neg('no', n) : p.iface === null ? 'maybe' : neg(ifaceMatches(r.inIface, p.iface) ? 'yes' : 'no', n));
  }
  if (r.outIface !== undefined) {
    const n = isNeg(r, ['-o', '--out-interface']);
    const out = root === 'FORWARD' ? (p.outIface ?? null) : p.iface;
    t = and(t, root === 'INPUT' ? neg('no', n) : out === null ? 'maybe' : neg(ifaceMatches(r.outIface, out) ? 'yes' : 'no', n));
  }
  if (t === 'no') return 'no';
  if (p.dport === null && (r.dport !== undefined || r.sport !== undefined || r.ports !== undefined)) return 'no';
  t = and(t, portMatch(r.dport, p.dport, isNeg(r, ['--dport', '--dports', '--destination-port', '--destination-ports'])));
  t = and(t, portMatch(r.sport, p.sport, isNeg(r, ['--sport', '--sports', '--source-port', '--source-ports'])));
  if (r.ports !== undefined) {
    const d = portMatch(r.ports, p.dport, false);
    const s = portMatch(r.ports, p.sport, false);
    const either: Tri = d === 'yes' || s === 'yes' ? 'yes' : d === 'maybe' || s === 'maybe' ? 'maybe' : 'no';
    t = and(t, neg(either, isNeg(r, ['--ports'])));
  }
  if (t === 'no') return 'no';
  return and(t, otherOptions(r, root, p.state ?? 'NEW'));
}

/** Match options the parser does not model: conntrack state, addrtype, --syn; anything else is undecidable. */
function otherOptions(r: IptRule, root: Root, state: 'NEW' | 'ESTABLISHED'): Tri {
  let t: Tri = 'yes';
  const args = r.args;
  let negateNext = false;
  for (let i = 0; i < args.length; i++) {
    const tok = args[i]!;
    if (tok === '-j' || tok === '--jump' || tok === '-g' || tok === '--goto') break;
    if (tok === '!') {
      negateNext = true;
      continue;
    }
    if (!tok.startsWith('-')) continue;
    const negated = negateNext || args[i + 1] === '!';
    negateNext = false;
    if (VALUE_OPTS.has(tok)) {
      i += args[i + 1] === '!' ? 2 : 1;
      continue;
    }
    const value = args[i + 1] === '!' ? args[i + 2] : args[i + 1];
    switch (tok) {
      case '--ctstate':
      case '--state': {
        // A new flow's first packet is NEW; a reply is ESTABLISHED.
        const states = (value ?? '').toUpperCase().split(',');
        t = and(t, neg(states.includes(state) ? 'yes' : 'no', negated));
        i += args[i + 1] === '!' ? 2 : 1;
        break;
      }
      case '--dst-type':
      case '--src-type': {
        // INPUT: destination is local, source is a peer; OUTPUT the other way round; FORWARD: neither is local.
        const local = root !== 'FORWARD' && (tok === '--dst-type') === (root === 'INPUT');
        const types = (value ?? '').toUpperCase().split(',');
        let m: Tri = 'maybe';
        if (types.includes('LOCAL')) m = local ? 'yes' : 'no';
        else if (types.includes('UNICAST')) m = 'yes';
        else if (types.every((x) => ['BROADCAST', 'MULTICAST', 'ANYCAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT'].includes(x))) m = 'no';
        t = and(t, neg(m, negated));
        i += args[i + 1] === '!' ? 2 : 1;
        break;
      }
      case '--syn':
        t = and(t, neg(state === 'NEW' ? 'yes' : 'no', negated));
        break;
      case '-f':
      case '--fragment':
        t = and(t, neg('no', negated));
        break;
      default:
        // ipset, u32, policy, limit, recent, mark, owner, … : cannot decide.
        t = and(t, 'maybe');
        while (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-') && args[i + 1] !== '!') i++;
    }
    if (t === 'no') return 'no';
  }
  return t;
}

interface Assumptions {
  assumed: IptRule[];
  unless: IptRule[];
}

type Step = { kind: 'verdict'; outcome: PathOutcome } | { kind: 'return'; as: Assumptions };

const MAX_PATHS = 256;
const MAX_DEPTH = 32;

export function evaluate(dump: IptablesDump, root: Root, p: Packet): Evaluation {
  const filter = dump.tables.filter;
  if (!filter) {
    return { result: 'accepted', outcomes: [{ verdict: 'accept', rule: null, policy: null, assumed: [], unless: [], via: [] }], drops: [] };
  }
  const byChain = new Map<string, IptRule[]>();
  for (const r of filter.rules) {
    const list = byChain.get(r.chain);
    if (list) list.push(r);
    else byChain.set(r.chain, [r]);
  }
  let paths = 0;

  const verdict = (v: PathOutcome['verdict'], rule: IptRule | null, as: Assumptions, via: IptRule[]): Step => ({
    kind: 'verdict',
    outcome: { verdict: v, rule, policy: null, assumed: as.assumed, unless: as.unless, via },
  });

  const run = (chain: string, from: number, as: Assumptions, stack: string[], via: IptRule[]): Step[] => {
    const rules = byChain.get(chain) ?? [];
    for (let i = from; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.target === null || NON_TERMINATING.has(r.target)) continue;
      // In FORWARD, Docker's own drops are where forwarded traffic really ends (DOCKER-INGRESS flushed, ICC off).
      if (VERDICT_DROP.has(r.target) && root !== 'FORWARD' && isDockerManaged(r)) continue;
      const m = matchRule(r, p, root);
      if (m === 'no') continue;
      if (m === 'maybe') {
        if (++paths > MAX_PATHS) return [verdict('unknown', r, as, via)];
        return [
          ...apply(chain, i, r, { assumed: [...as.assumed, r], unless: as.unless }, stack, via),
          ...run(chain, i + 1, { assumed: as.assumed, unless: [...as.unless, r] }, stack, via),
        ];
      }
      return apply(chain, i, r, as, stack, via);
    }
    return [{ kind: 'return', as }];
  };

  const apply = (chain: string, i: number, r: IptRule, as: Assumptions, stack: string[], via: IptRule[]): Step[] => {
    const target = r.target!;
    if (target === 'ACCEPT') return [verdict('accept', r, as, via)];
    if (VERDICT_DROP.has(target)) return [verdict('drop', r, as, via)];
    if (target === 'RETURN') return [{ kind: 'return', as }];
    // QUEUE, NFQUEUE, a target extension we do not know, or a loop: the packet leaves our model here.
    if ((!(target in filter.chains) && !byChain.has(target)) || stack.includes(target) || stack.length >= MAX_DEPTH) {
      return [verdict('unknown', r, as, via)];
    }
    const out: Step[] = [];
    for (const s of run(target, 0, as, [...stack, target], [...via, r])) {
      if (s.kind === 'verdict' || r.goto) out.push(s);
      else out.push(...run(chain, i + 1, s.as, stack, via));
    }
    return out;
  };

  const policy = filter.chains[root]?.policy ?? 'ACCEPT';
  const outcomes: PathOutcome[] = run(root, 0, { assumed: [], unless: [] }, [root], []).map((s) =>
    s.kind === 'verdict'
      ? s.outcome
      : {
          verdict: policy === 'ACCEPT' ? 'accept' : VERDICT_DROP.has(policy) ? 'drop' : 'unknown',
          rule: null,
          policy,
          assumed: s.as.assumed,
          unless: s.as.unless,
          via: [],
        },
  );
  const drops = outcomes.filter((o) => o.verdict !== 'accept');
  const result = drops.length === 0 ? 'accepted' : outcomes.every((o) => o.verdict === 'drop') ? 'dropped' : 'maybe';
  return { result, outcomes, drops };
}

/** Node text made safe for a terminal: control characters shown as \xNN, never sent. */

const visible = (t: string): string => t.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** How a path's deciding step reads in a finding: "is dropped by `…` unless `…` matches". */
export function describeOutcome(o: PathOutcome, root: Root): string {
  const q = (r: IptRule) => `\`${visible(r.raw)}\``;
  const what = o.rule ? q(o.rule) : `the ${root} policy ${o.policy ?? '?'}`;
  const head = o.verdict === 'unknown' ? `leaves what netdoctor can evaluate at ${what}` : `is dropped by ${what}`;
  const self = o.rule !== null && o.assumed.includes(o.rule) ? ' (if its match applies)' : '';
  const cond = o.assumed.filter((a) => a !== o.rule);
  const ifs = cond.length > 0 ? ` if ${cond.map(q).join(' and ')} matches` : '';
  const unless = o.unless.length > 0 ? ` unless ${o.unless.map(q).join(' or ')} matches` : '';
  const via = o.via.length > 0 ? ` (reached via ${o.via.map(q).join(', ')})` : '';
  return `${head}${self}${via}${ifs}${unless}`;
}

const HOST_DUMPS = ['host/iptables-save', 'host/iptables-nft-save', 'host/iptables-legacy-save'] as const;

const holdsFilterRules = (dump: IptablesDump): boolean => {
  const f = dump.tables.filter;
  return f !== undefined && (f.rules.length > 0 || Object.values(f.chains).some((c) => c.policy !== null && c.policy !== 'ACCEPT'));
};

/**
 * A node's host iptables, each dump parsed once: the dumps that decide
 * filtering (the default backend's, plus the other backend's when it holds
 * filter rules too: the kernel runs both), every dump that could be read
 * (nat rules may sit in either backend), and the parsers' warnings. The
 * filter read carries the warnings of its own dumps only: a dump the parser
 * could not read completely must not evaluate as "accepted" unremarked.
 */
export function hostFirewall(n: NodeSnapshot): NodeFirewall {
  const read = new Map(HOST_DUMPS.map((name) => [name, readDump(n.raw[name], name)]));
  const all: HostDump[] = [];
  const warningsOf = new Map<string, string[]>();
  for (const [section, r] of read) {
    if (!r.ok) continue;
    const label = section.replace(/^host\//, '');
    all.push({ section, label, dump: r.value });
    warningsOf.set(
      section,
      r.warnings.map((w) => `${label}: ${w}`),
    );
  }
  const warnings = [...warningsOf.values()].flat();
  const main = read.get('host/iptables-save')!;
  const problems = main.ok ? [] : [main.problem];
  if (!main.ok || n.host === null) {
    const reason = n.host === null ? 'node not collected' : unavailable(n.raw['host/iptables-save'], 'iptables-save').reason;
    return { filter: { ok: false, problem: `iptables-save not collected: ${reason}` }, all, problems, warnings };
  }
  const backend = n.host.iptables.defaultBackend;
  const filter: HostDump[] = [
    { section: 'host/iptables-save', label: `iptables-save${backend === 'unknown' ? '' : ` (${backend})`}`, dump: main.value },
  ];
  const otherName = backend === 'nft' ? 'legacy' : backend === 'legacy' ? 'nft' : null;
  if (otherName !== null) {
    const section = `host/iptables-${otherName}-save` as const;
    const other = read.get(section)!;
    if (other.ok && n.raw[section]!.stdout.trim() !== n.raw['host/iptables-save']!.stdout.trim() && holdsFilterRules(other.value)) {
      filter.push({ section, label: `iptables-${otherName}-save`, dump: other.value });
    }
  }
  const filterWarnings = filter.flatMap((d) => warningsOf.get(d.section) ?? []);
  return { filter: { ok: true, value: filter, warnings: filterWarnings }, all, problems, warnings };
}

const WARNING_CHARS = 160;

/** Parser warnings for a finding: the first few, each cut to a readable length. */
export function firewallWarningsText(warnings: readonly string[], max = 3): string {
  const cut = (w: string) => visible(w.length > WARNING_CHARS ? `${w.slice(0, WARNING_CHARS)}…` : w);
  const shown = warnings.slice(0, max).map(cut).join('; ');
  return warnings.length > max ? `${shown}; and ${warnings.length - max} more` : shown;
}
