/**
 * Active probes over the sessions that collection opened (no new
 * connections): every node probes all its peers at once while every node
 * captures the probe datagrams addressed to it, so the UDP results are
 * confirmed on the receiver. Bounded in time, nothing left behind.
 */
import { sudoWrap, type SshSession } from '../ssh/session.js';
import type { ClusterSnapshot, NodeSnapshot } from '../snapshot/types.js';
import { buildCaptureScript, buildSenderScript, parseCaptures, parseProbeLines, type SenderPlan } from './script.js';
import type { DataPathProbe, ProbeResults, ProbeState } from './types.js';

import type { ProbeOptions } from './options.js';
export { PROBE_DEFAULTS, type ProbeOptions } from './options.js';

/** VXLAN over IPv4 adds 50 bytes (outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8). */
export const VXLAN_OVERHEAD = 50;
const ICMP_IP_HEADERS = 28;
const DEFAULT_OVERLAY_MTU = 1450;

interface Peer {
  name: string;
  ip: string;
  manager: boolean;
}

const overlayMtu = (n: NodeSnapshot): number => {
  const mtus = n.sandboxes.filter((s) => s.kind === 'overlay').flatMap((s) => s.links.filter((l) => l.kind === 'vxlan').map((l) => l.mtu ?? 0));
  return Math.max(0, ...mtus) || DEFAULT_OVERLAY_MTU;
};

/** What node `from` probes, and how each planned probe maps back to a result. */
export function planNode(snapshot: ClusterSnapshot, from: NodeSnapshot, peers: Peer[], o: ProbeOptions): SenderPlan {
  const port = snapshot.cluster.dataPathPort;
  const required = overlayMtu(from) + VXLAN_OVERHEAD;
  const plan: SenderPlan = {
    tcp: [],
    udp: [],
    mtu: [],
    dataPath: [],
    netnsDir: `${from.host?.dockerd.execRoot ?? '/var/run/docker'}/netns`,
    viaDockerdMountNs: from.sandboxAccess === 'dockerd-mount-ns',
    timeoutSec: o.timeoutSec,
  };
  for (const p of peers) {
    plan.tcp.push({ ip: p.ip, port: 7946 });
    if (p.manager) plan.tcp.push({ ip: p.ip, port: 2377 });
    plan.udp.push({ ip: p.ip, port: 7946 }, { ip: p.ip, port });
    plan.mtu.push({ ip: p.ip, payload: required - ICMP_IP_HEADERS });
  }
  plan.dataPath.push(...dataPathTargets(snapshot, from, peers));
  return plan;
}

/** Per overlay network: from this node's lb_/ingress sandbox to one endpoint on each peer. */
export function dataPathTargets(snapshot: ClusterSnapshot, from: NodeSnapshot, peers: Peer[]): SenderPlan['dataPath'] {
  const out: SenderPlan['dataPath'] = [];
  for (const net of snapshot.cluster.networks.filter((n) => n.driver === 'overlay')) {
    const source = from.sandboxes.find(
      (s) => s.enterError === null && s.networkId === net.id && (net.ingress ? s.kind === 'ingress' : s.kind === 'lb'),
    );
    if (!source) continue;
    const vx = from.sandboxes.find((s) => s.kind === 'overlay' && s.networkId === net.id)?.links.find((l) => l.kind === 'vxlan');
    const mtu = vx?.mtu ?? net.mtu ?? DEFAULT_OVERLAY_MTU;
    for (const p of peers) {
      const eps = net.endpoints.filter((e) => e.hostIp === p.ip && e.ip !== '');
      const target = eps.find((e) => e.kind === 'task') ?? eps[0];
      if (!target) continue;
      out.push({ sandbox: source.name, ip: target.ip, payload: mtu - ICMP_IP_HEADERS, network: net.name, peer: p.name });
    }
  }
  return out;
}

const tcpState = (rc: number, t: number): { state: ProbeState; detail: string } =>
  rc === 0
    ? { state: 'ok', detail: 'TCP handshake completed' }
    : rc === 124
      ? { state: 'blocked', detail: `no answer within ${t} s (dropped by a firewall or no route)` }
      : { state: 'blocked', detail: 'connection refused (nothing listening, or a REJECT rule)' };

export async function runProbes(
  snapshot: ClusterSnapshot,
  sessions: ReadonlyMap<string, SshSession>,
  o: ProbeOptions,
  onOutput: (msg: string) => void = () => undefined,
): Promise<ProbeResults> {
  const started = Date.now();
  const results: ProbeResults = { startedAt: new Date(started).toISOString(), durationMs: 0, ports: [], mtu: [], dataPath: [], errors: [] };
  const byName = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const all: Peer[] = snapshot.cluster.nodes
    .filter((n) => n.advertiseAddress !== null)
    .map((n) => ({ name: n.name, ip: n.advertiseAddress!, manager: n.role === 'manager' }));
  const dataPort = snapshot.cluster.dataPathPort;
  const t = o.timeoutSec;
  // UDP datagrams all leave within ~0.5 s of the senders starting; the capture need not wait for slow pings.
  const captureSec = 3;

  const probers = snapshot.nodes.filter((n) => sessions.has(n.name) && n.host !== null);
  for (const n of snapshot.nodes.filter((x) => !probers.includes(x))) {
    results.errors.push({ node: n.name, message: `no probes from ${n.name}: ${n.errors[0]?.message ?? 'not collected'}` });
  }

  // 1. Captures on every reachable node, started before anything is sent.
  onOutput(`capturing probe datagrams on ${probers.length} nodes`);
  const captures = new Map(
    probers.map((n) => {
      const s = sessions.get(n.name)!;
      const p = s
        .exec(sudoWrap('sh -s', s.target.user), { stdin: buildCaptureScript([7946, dataPort], captureSec), timeoutMs: (captureSec + 5) * 1000 })
        .then((r) => ({ ok: true as const, text: r.stdout }))
        .catch((err: Error) => ({ ok: false as const, text: err.message }));
      return [n.name, p] as const;
    }),
  );
  await new Promise((r) => setTimeout(r, 500));

  // 2. Every node probes all its peers concurrently.
  onOutput(`probing ${probers.length * Math.max(0, all.length - 1)} node pairs`);
  const senders = await Promise.all(
    probers.map(async (n) => {
      const peers = all.filter((p) => p.name !== n.name);
      const plan = planNode(snapshot, n, peers, o);
      const s = sessions.get(n.name)!;
      try {
        const r = await s.exec(sudoWrap('sh -s', s.target.user), { stdin: buildSenderScript(plan), timeoutMs: (t + 6) * 1000 });
        return { node: n, peers, plan, parsed: parseProbeLines(r.stdout), error: null as string | null };
      } catch (err) {
        return { node: n, peers, plan, parsed: null, error: (err as Error).message };
      }
    }),
  );
  const captured = new Map<string, { ok: boolean; text: string }>();
  for (const [name, p] of captures) captured.set(name, await p);

  // 3. Results per ordered pair.
  for (const { node, peers, plan, parsed, error } of senders) {
    if (!parsed) {
      results.errors.push({ node: node.name, message: `probes from ${node.name} failed: ${error}` });
      continue;
    }
    const line = (kind: string, ...key: string[]) =>
      parsed.lines.find((l) => l.kind === kind && key.every((k, i) => l.fields[i] === k));
    const myIps = new Set((node.host?.interfaces ?? []).flatMap((i) => i.addresses.map((a) => a.address)));
    for (const p of peers) {
      for (const port of [7946, ...(p.manager ? [2377] : [])]) {
        const l = line('T', p.ip, String(port));
        const { state, detail } = l ? tcpState(Number(l.fields[2]), t) : { state: 'unconfirmed' as const, detail: 'probe did not report' };
        results.ports.push({ from: node.name, to: p.name, proto: 'tcp', port, purpose: port === 2377 ? 'manager' : 'gossip', state, detail });
      }
      const cap = captured.get(p.name);
      const capLines = cap?.ok ? parseCaptures(cap.text) : [];
      const noTcpdump = cap?.ok ? parseProbeLines(cap.text).noTcpdump : false;
      for (const port of [7946, dataPort]) {
        let state: ProbeState;
        let detail: string;
        if (!byName.get(p.name) || !sessions.has(p.name)) {
          state = 'unconfirmed';
          detail = `sent; ${p.name} could not be reached to confirm receipt`;
        } else if (!cap?.ok || noTcpdump) {
          state = 'unconfirmed';
          detail = noTcpdump ? `sent; no tcpdump on ${p.name} to confirm receipt` : `sent; capture on ${p.name} failed: ${cap?.text ?? ''}`;
        } else if (capLines.some((c) => c.port === port && myIps.has(c.src))) {
          state = 'ok';
          detail = `datagrams seen arriving on ${p.name}`;
        } else {
          state = 'blocked';
          detail = `3 datagrams sent from ${node.name}, none arrived on ${p.name} within ${captureSec} s`;
        }
        results.ports.push({ from: node.name, to: p.name, proto: 'udp', port, purpose: port === 7946 ? 'gossip' : 'data-path', state, detail });
      }
      const planned = plan.mtu.find((x) => x.ip === p.ip)!;
      const need = planned.payload + ICMP_IP_HEADERS;
      const m = line('P', p.ip, String(planned.payload));
      const b = line('B', p.ip);
      let mstate: ProbeState = 'unconfirmed';
      let mdetail = 'probe did not report';
      if (m && Number(m.fields[2]) === 0) {
        mstate = 'ok';
        mdetail = `${need}-byte packets with DF pass`;
      } else if (m && b && Number(b.fields[1]) === 0) {
        mstate = 'blocked';
        mdetail = `${need}-byte packets with DF do not pass though small pings do${m.fields.slice(3).join(' ') ? ` (${m.fields.slice(3).join(' ')})` : ''}: path MTU is below overlay MTU + ${VXLAN_OVERHEAD}`;
      } else if (m) {
        mdetail = 'ICMP echo is not answered at all; path MTU cannot be measured';
      }
      results.mtu.push({ from: node.name, to: p.name, payload: need - ICMP_IP_HEADERS, required: need, state: mstate, detail: mdetail });
    }
    for (const d of plan.dataPath) {
      const small = line('D', d.sandbox, d.ip, '0');
      const big = d.payload !== null ? line('D', d.sandbox, d.ip, String(d.payload)) : undefined;
      const state: ProbeState = !small ? 'unconfirmed' : Number(small.fields[3]) === 0 ? 'ok' : 'blocked';
      const dfState: ProbeState | null = !big ? null : Number(big.fields[3]) === 0 ? 'ok' : 'blocked';
      const probe: DataPathProbe = {
        from: node.name,
        to: d.peer,
        network: d.network,
        sandbox: d.sandbox,
        target: d.ip,
        state,
        dfState,
        detail:
          state === 'ok'
            ? `ping from ${d.sandbox} to ${d.ip} on ${d.peer} answered${dfState === 'blocked' ? `, but ${(d.payload ?? 0) + ICMP_IP_HEADERS}-byte packets with DF do not pass` : ''}`
            : state === 'blocked'
              ? `ping from ${d.sandbox} on ${node.name} to ${d.ip} on ${d.peer} over VXLAN (udp/${dataPort}) got no answer`
              : 'probe did not report',
      };
      results.dataPath.push(probe);
    }
  }
  results.durationMs = Date.now() - started;
  return results;
}

