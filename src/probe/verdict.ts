/**
 * Probe verdicts (pure): from what the senders and receivers printed to
 * ok / blocked / unconfirmed per pair and probe. No I/O here: run.ts runs
 * the programs and hands their output over; unit tests hand over output
 * recorded from the lab.
 */
import type { ClusterSnapshot, NodeSnapshot } from '../snapshot/types.js';
import { ICMP_IP_HEADERS, VXLAN_OVERHEAD, type Peer } from './plan.js';
import { parseCaptures, parseCaptureStats, parseProbeLines, type SenderLine, type SenderPlan } from './script.js';
import type { DataPathProbe, MtuProbe, PortProbe, ProbeResults, ProbeState } from './types.js';

/** A program's outcome: its stdout when it ran to the end, else why it did not. */
export type Outcome = { ok: true; text: string } | { ok: false; text: string };

export interface SenderRun {
  node: string;
  /** Every peer the plan names (UDP went to all of them). */
  peers: readonly Peer[];
  plan: SenderPlan;
  output: Outcome;
}

export interface ObservedProbes {
  startedAt: string;
  durationMs: number;
  timeoutSec: number;
  /** Upper bound of each receiver's capture, seconds. */
  captureSec: number;
  /** Which pairs got TCP 7946, DF and overlay pings (plan.ts); absent: all. */
  pairs?: 'all' | 'covering';
  senders: readonly SenderRun[];
  /** Receiver node → its capture's outcome; nodes without one could not confirm receipt. */
  captures: ReadonlyMap<string, Outcome>;
  /** Receiver node → why its capture cannot tell a datagram it did not see from a lost one (it listened late, or ended early). */
  unsure?: ReadonlyMap<string, string>;
  /** Nodes that could not probe at all (no session, not collected). */
  errors: { node: string; message: string }[];
}

type Verdict = { state: ProbeState; detail: string; senderRefused?: true };

/** TCP connect: rc 0 connected, 124 timed out (dropped), anything else refused. */
export function tcpVerdict(line: SenderLine | undefined, timeoutSec: number): Verdict {
  if (!line) return { state: 'unconfirmed', detail: 'probe did not report' };
  const rc = Number(line.fields[2]);
  if (rc === 0) return { state: 'ok', detail: 'TCP handshake completed' };
  if (rc === 124) return { state: 'blocked', detail: `no answer within ${timeoutSec} s (dropped by a firewall or no route)` };
  return { state: 'blocked', detail: 'connection refused (nothing listening, or a REJECT rule)' };
}

/**
 * What a receiver's capture saw, read once: `src/port` of every datagram, or
 * why it cannot tell. `behind`: it was stopped before its count was in, and
 * tcpdump had not read every datagram that matched (still in the kernel's
 * buffer, or dropped there): a starved capture, not a lost datagram.
 */
export type CaptureSeen = { ok: true; seen: ReadonlySet<string>; behind: string | null } | { ok: false; why: 'no-tcpdump' | 'failed'; text: string };

export function readCapture(cap: Outcome): CaptureSeen {
  if (!cap.ok) return { ok: false, why: 'failed', text: cap.text };
  const p = parseProbeLines(cap.text);
  if (p.noTcpdump) return { ok: false, why: 'no-tcpdump', text: '' };
  const st = p.complete ? null : parseCaptureStats(cap.text);
  const behind =
    st && (st.received > st.captured || st.dropped > 0)
      ? `it fell behind (${st.captured} of ${st.received} matching datagrams read${st.dropped > 0 ? `, ${st.dropped} dropped by the kernel` : ''})`
      : null;
  return { ok: true, seen: new Set(parseCaptures(cap.text).map((c) => `${c.src}/${c.port}`)), behind };
}

/**
 * UDP datagrams from `from` to `to`'s port, as the receiver's capture saw
 * them: ok when one arrived from any of the sender's addresses.
 */
export function udpVerdict(o: {
  from: string;
  to: string;
  /** A UDP port, or 'esp' for the ESP probe packets (IP protocol 50). */
  port: number | 'esp';
  senderIps: ReadonlySet<string>;
  receiverReachable: boolean;
  capture: CaptureSeen | undefined;
  captureSec: number;
}): Verdict {
  if (!o.receiverReachable) return { state: 'unconfirmed', detail: `sent; ${o.to} could not be reached to confirm receipt` };
  const cap = o.capture;
  if (!cap) return { state: 'unconfirmed', detail: `sent; capture on ${o.to} failed: not run` };
  if (!cap.ok) {
    return cap.why === 'no-tcpdump'
      ? { state: 'unconfirmed', detail: `sent; no tcpdump on ${o.to} to confirm receipt` }
      : { state: 'unconfirmed', detail: `sent; capture on ${o.to} failed: ${cap.text}` };
  }
  for (const ip of o.senderIps) if (cap.seen.has(`${ip}/${o.port}`)) return { state: 'ok', detail: `datagrams seen arriving on ${o.to}` };
  if (cap.behind) return { state: 'unconfirmed', detail: `sent; none seen on ${o.to}, but its capture cannot tell: ${cap.behind} (node too busy)` };
  const what = o.port === 'esp' ? 'ESP packets (IP protocol 50)' : 'datagrams';
  return { state: 'blocked', detail: `3 ${what} sent from ${o.from}, none arrived on ${o.to} while every sender ran` };
}

/**
 * ESP from `from` to `to`: what the sender's raw socket said, then the
 * receiver's capture (as udpVerdict). A send refused with EPERM is netfilter
 * on the sender dropping it (an OUTPUT rule): the receiver never sees it.
 */
export function espVerdict(line: SenderLine | undefined, capture: Parameters<typeof udpVerdict>[0]): Verdict {
  if (!line) return { state: 'unconfirmed', detail: 'probe did not report' };
  const rc = line.fields[1];
  const tool = line.fields[2] ?? '-';
  const why = line.fields.slice(3).join(' ').slice(0, 200);
  if (rc === '127') {
    return {
      state: 'unconfirmed',
      detail: `ESP not sent: ${capture.from} has neither perl (with its Socket module) nor python3 to send raw IP packets`,
    };
  }
  if (rc !== '0') {
    if (why.startsWith('socket:'))
      return { state: 'unconfirmed', detail: `ESP not sent: ${tool} on ${capture.from} could not open a raw socket (${why})` };
    if (/not permitted/i.test(why)) {
      const detail = `${capture.from} could not send ESP to ${capture.to} (${why}): netfilter on ${capture.from} refused it (an OUTPUT rule drops ESP)`;
      return { state: 'blocked', detail, senderRefused: true };
    }
    return { state: 'blocked', detail: `${capture.from} could not send ESP to ${capture.to} (${why || 'send failed'})` };
  }
  const v = udpVerdict(capture);
  return v.state === 'ok' ? { state: 'ok', detail: `ESP packets (IP protocol 50) seen arriving on ${capture.to}` } : v;
}

/** DF ping of `payload` bytes, with the small baseline ping to tell "ICMP filtered" from "MTU". */
export function mtuVerdict(df: SenderLine | undefined, base: SenderLine | undefined, required: number): Verdict {
  if (df && Number(df.fields[2]) === 0) return { state: 'ok', detail: `${required}-byte packets with DF pass` };
  if (df && base && Number(base.fields[1]) === 0) {
    const why = df.fields.slice(3).join(' ');
    return {
      state: 'blocked',
      detail: `${required}-byte packets with DF do not pass though small pings do${why ? ` (${why})` : ''}: path MTU is below overlay MTU + ${VXLAN_OVERHEAD}`,
    };
  }
  if (df) return { state: 'unconfirmed', detail: 'ICMP echo is not answered at all; path MTU cannot be measured' };
  return { state: 'unconfirmed', detail: 'probe did not report' };
}

/** Overlay ping from a sandbox (small), and its full-size DF twin when planned. */
export function dataPathVerdict(
  d: SenderPlan['dataPath'][number],
  small: SenderLine | undefined,
  big: SenderLine | undefined,
  from: string,
  dataPort: number,
): Omit<DataPathProbe, 'from' | 'to' | 'network' | 'sandbox' | 'target'> {
  const state: ProbeState = !small ? 'unconfirmed' : Number(small.fields[3]) === 0 ? 'ok' : 'blocked';
  const dfState: ProbeState | null = !big ? null : Number(big.fields[3]) === 0 ? 'ok' : 'blocked';
  const detail =
    state === 'ok'
      ? `ping from ${d.sandbox} to ${d.ip} on ${d.peer} answered${dfState === 'blocked' ? `, but ${(d.payload ?? 0) + ICMP_IP_HEADERS}-byte packets with DF do not pass` : ''}`
      : state === 'blocked'
        ? `ping from ${d.sandbox} on ${from} to ${d.ip} on ${d.peer} over VXLAN (udp/${dataPort}) got no answer`
        : 'probe did not report';
  return { state, dfState, detail };
}

const addressesOf = (n: NodeSnapshot | undefined): Set<string> =>
  new Set((n?.host?.interfaces ?? []).flatMap((i) => i.addresses.map((a) => a.address)));

/**
 * A sender's lines by kind and their first 1 to 3 fields, indexed once (a
 * sender at 300 nodes prints ~600 lines, each looked up per peer).
 */
function senderLines(text: string): (kind: SenderLine['kind'], ...key: string[]) => SenderLine | undefined {
  const index = new Map<string, SenderLine>();
  for (const l of parseProbeLines(text).lines) {
    for (let k = 1; k <= Math.min(3, l.fields.length); k++) {
      const key = [l.kind, ...l.fields.slice(0, k)].join(' ');
      if (!index.has(key)) index.set(key, l);
    }
  }
  return (kind, ...key) => index.get([kind, ...key].join(' '));
}

/** Every probe result, per ordered pair, from what was observed. */
export function probeResults(snapshot: ClusterSnapshot, obs: ObservedProbes): ProbeResults {
  const results: ProbeResults = {
    startedAt: obs.startedAt,
    durationMs: obs.durationMs,
    ...(obs.pairs === 'covering' ? { pairs: 'covering' as const } : {}),
    ports: [],
    mtu: [],
    dataPath: [],
    errors: [...obs.errors],
  };
  const byName = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const dataPort = snapshot.cluster.dataPathPort;
  const t = obs.timeoutSec;
  const captures = new Map(
    [...obs.captures].map(([node, cap]): [string, CaptureSeen] => {
      const seen = readCapture(cap);
      const why = obs.unsure?.get(node);
      return [node, seen.ok && seen.behind === null && why !== undefined ? { ...seen, behind: why } : seen];
    }),
  );
  const receiving = (to: string) => ({
    receiverReachable: byName.has(to) && obs.captures.has(to),
    capture: captures.get(to),
    captureSec: obs.captureSec,
  });
  for (const s of obs.senders) {
    if (!s.output.ok) {
      results.errors.push({ node: s.node, message: `probes from ${s.node} failed: ${s.output.text}` });
      continue;
    }
    const line = senderLines(s.output.text);
    const senderIps = addressesOf(byName.get(s.node));
    const tcpTo = new Set(s.plan.tcp.map((x) => `${x.ip}/${x.port}`));
    const espTo = new Set(s.plan.esp?.ips ?? []);
    const mtuTo = new Map<string, SenderPlan['mtu'][number]>();
    for (const m of s.plan.mtu) if (!mtuTo.has(m.ip)) mtuTo.set(m.ip, m);
    for (const p of s.peers) {
      for (const port of [7946, 2377]) {
        if (!tcpTo.has(`${p.ip}/${port}`)) continue;
        const { state, detail } = tcpVerdict(line('T', p.ip, String(port)), t);
        results.ports.push({ from: s.node, to: p.name, proto: 'tcp', port, purpose: port === 2377 ? 'manager' : 'gossip', state, detail });
      }
      for (const port of [7946, dataPort]) {
        const { state, detail } = udpVerdict({ ...receiving(p.name), from: s.node, to: p.name, port, senderIps });
        const probe: PortProbe = { from: s.node, to: p.name, proto: 'udp', port, purpose: port === 7946 ? 'gossip' : 'data-path', state, detail };
        results.ports.push(probe);
      }
      if (espTo.has(p.ip)) {
        const v = espVerdict(line('E', p.ip), { ...receiving(p.name), from: s.node, to: p.name, port: 'esp', senderIps });
        results.ports.push({ from: s.node, to: p.name, proto: 'esp', port: null, purpose: 'esp', ...v });
      }
      const planned = mtuTo.get(p.ip);
      if (planned) {
        const required = planned.payload + ICMP_IP_HEADERS;
        const { state, detail } = mtuVerdict(line('P', p.ip, String(planned.payload)), line('B', p.ip), required);
        const m: MtuProbe = { from: s.node, to: p.name, payload: planned.payload, required, state, detail };
        results.mtu.push(m);
      }
    }
    for (const d of s.plan.dataPath) {
      const small = line('D', d.sandbox, d.ip, '0');
      const big = d.payload !== null ? line('D', d.sandbox, d.ip, String(d.payload)) : undefined;
      results.dataPath.push({
        from: s.node,
        to: d.peer,
        network: d.network,
        sandbox: d.sandbox,
        target: d.ip,
        ...dataPathVerdict(d, small, big, s.node, dataPort),
      });
    }
  }
  return results;
}
