/**
 * Which ordered node pairs get which probes (pure).
 *
 * Two kinds of probe cost differently on a node:
 *  - UDP datagrams to 7946 and to the data-path port: one process per sender
 *    writes all of them, and the receivers' captures confirm them. Cheap per
 *    pair, so every ordered pair always gets them.
 *  - TCP connects, DF pings (path MTU) and overlay pings: a process (or a
 *    fork) per pair and probe on the sender.
 *
 * Up to ALL_PAIRS_MAX nodes (and always with `--probe-pairs all`), every
 * ordered pair gets every probe. Above it, the second kind runs on a covering
 * subset: node i probes the nodes at ring offsets 1, 2, 4, 8, … (i + 2^j mod
 * n), so each node sends to and receives from about log2(n) peers, and tcp/2377
 * still goes from every node to every manager. What that still finds:
 *  - any single blocked pair (traffic between two nodes dropped): its
 *    data-path and gossip UDP datagrams are probed on every pair;
 *  - a node whose firewall blocks a port in or out: log2(n) pairs show it;
 *  - a manager port blocked from any node: every node probes every manager.
 */

import type { ClusterFacts, ClusterSnapshot, NetworkFacts, NodeSnapshot } from '../snapshot/types.js';
import type { ProbeOptions, ProbePairsMode } from './options.js';
import type { SenderPlan } from './script.js';

export type { ProbePairsMode };

/** Largest cluster probed on every pair by default (20 nodes: 380 ordered pairs). */
export const ALL_PAIRS_MAX = 20;

export interface PairPlan {
  /** 'all': every probe on every ordered pair; 'covering': see the module comment. */
  mode: 'all' | 'covering';
  /** Sender → the peers it sends UDP datagrams to (always every other node). */
  udp: Map<string, string[]>;
  /** Sender → the peers it runs TCP 7946, DF and overlay pings against. */
  full: Map<string, string[]>;
}

/** Ring offsets 1, 2, 4, … below n. */
export function coveringOffsets(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d < n; d *= 2) out.push(d);
  return out;
}

/**
 * Plan pairs over `names` (swarm node names, in a stable order: the caller
 * sorts them so that every run probes the same pairs).
 */
export function planPairs(names: readonly string[], mode: ProbePairsMode): PairPlan {
  const n = names.length;
  const udp = new Map<string, string[]>();
  const full = new Map<string, string[]>();
  const covering = mode === 'auto' && n > ALL_PAIRS_MAX;
  const offsets = covering ? coveringOffsets(n) : [];
  names.forEach((name, i) => {
    const others = names.filter((_, j) => j !== i);
    udp.set(name, others);
    full.set(name, covering ? [...new Set(offsets.map((d) => names[(i + d) % n]!))] : others);
  });
  return { mode: covering ? 'covering' : 'all', udp, full };
}

// ---------------------------------------------------------------------------
// ESP (IP protocol 50): only between nodes that share an encrypted overlay.

/**
 * Per encrypted overlay in the snapshot, the nodes that have it: a task or
 * load-balancer endpoint on it (the manager's view: `peers`, `endpoints`) or
 * an overlay sandbox for it (the node's own). Groups of one are dropped.
 */
export function espGroups(snapshot: Pick<ClusterSnapshot, 'cluster' | 'nodes'>): string[][] {
  const byIp = new Map<string, string>();
  for (const n of snapshot.cluster.nodes) if (n.advertiseAddress !== null) byIp.set(n.advertiseAddress, n.name);
  const known = new Set(snapshot.cluster.nodes.map((n) => n.name));
  const groups: string[][] = [];
  for (const net of snapshot.cluster.networks.filter((n) => n.driver === 'overlay' && n.encrypted)) {
    const names = new Set<string>();
    for (const p of net.peers) {
      const name = byIp.get(p.ip) ?? (known.has(p.name) ? p.name : undefined);
      if (name !== undefined) names.add(name);
    }
    for (const e of net.endpoints) {
      const name = byIp.get(e.hostIp);
      if (name !== undefined) names.add(name);
    }
    for (const n of snapshot.nodes) if (n.sandboxes.some((s) => s.kind === 'overlay' && s.networkId === net.id)) names.add(n.name);
    if (names.size > 1) groups.push([...names].sort());
  }
  return groups;
}

/** Sender → the nodes it sends ESP to: every ordered pair within a group (one process per sender, like UDP: every pair). */
export function planEsp(groups: readonly (readonly string[])[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const g of groups) {
    for (const a of g) {
      for (const b of g) {
        if (a === b) continue;
        const to = out.get(a) ?? new Set<string>();
        to.add(b);
        out.set(a, to);
      }
    }
  }
  return out;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

// ---------------------------------------------------------------------------
// What one node sends, from the snapshot (pure).

/** VXLAN over IPv4 adds 50 bytes (outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8). */
export const VXLAN_OVERHEAD = 50;
export const ICMP_IP_HEADERS = 28;
export const DEFAULT_OVERLAY_MTU = 1450;

export interface Peer {
  name: string;
  ip: string;
  manager: boolean;
}

/**
 * What a node's sender plan needs to know of the node itself: where Docker's
 * netns files are and how they are entered (null: the sender script decides on
 * the node, as the collection does), the MTU its overlays need of the
 * underlay, and per overlay network the load-balancer sandbox its overlay pings
 * start from, with that network's overlay MTU.
 */
export interface ProbeNode {
  name: string;
  netnsDir: string | null;
  viaDockerdMountNs: boolean | null;
  overlayMtu: number;
  sources: ReadonlyMap<string, { sandbox: string; mtu: number }>;
}

/** com.docker.network.driver.mtu is the underlay packet size: docker gives the tasks 50 bytes less (moby overlay maxMTU). */
const netOverlayMtu = (net: NetworkFacts): number => (net.mtu !== null ? net.mtu - VXLAN_OVERHEAD : DEFAULT_OVERLAY_MTU);

/** The node as its collection saw it (the sandboxes it could enter, its vxlan devices' MTU). */
export function probeNodeOf(snapshot: ClusterSnapshot, n: NodeSnapshot): ProbeNode {
  const vxMtus = n.sandboxes.filter((s) => s.kind === 'overlay').flatMap((s) => s.links.filter((l) => l.kind === 'vxlan').map((l) => l.mtu ?? 0));
  const sources = new Map<string, { sandbox: string; mtu: number }>();
  for (const net of snapshot.cluster.networks.filter((x) => x.driver === 'overlay')) {
    const source = n.sandboxes.find((s) => s.enterError === null && s.networkId === net.id && (net.ingress ? s.kind === 'ingress' : s.kind === 'lb'));
    if (!source) continue;
    const vx = n.sandboxes.find((s) => s.kind === 'overlay' && s.networkId === net.id)?.links.find((l) => l.kind === 'vxlan');
    sources.set(net.id, { sandbox: source.name, mtu: vx?.mtu ?? netOverlayMtu(net) });
  }
  return {
    name: n.name,
    netnsDir: `${n.host?.dockerd.execRoot ?? '/var/run/docker'}/netns`,
    viaDockerdMountNs: n.sandboxAccess === 'dockerd-mount-ns',
    overlayMtu: Math.max(0, ...vxMtus) || DEFAULT_OVERLAY_MTU,
    sources,
  };
}

/**
 * The node as the manager's view predicts it, before its collection: a
 * network that lists the node among its peers (or has an endpoint there) has
 * its load-balancer sandbox there, lb_<id[:9]> (ingress_sbox for ingress;
 * libnetwork's sandbox ids, cut to 12 by osl.GenerateKey), and sets the
 * underlay MTU the node needs. Where Docker's netns files are, and how to enter them, the sender
 * script finds out on the node. Once collected, the plan this gives is
 * compared with the one probeNodeOf gives (run.ts).
 */
export function probeNodeFromFacts(facts: ClusterFacts, name: string): ProbeNode {
  const ip = facts.nodes.find((n) => n.name === name)?.advertiseAddress ?? null;
  const sources = new Map<string, { sandbox: string; mtu: number }>();
  const mtus: number[] = [];
  for (const net of facts.networks.filter((x) => x.driver === 'overlay')) {
    if (ip === null || !(net.peers.some((p) => p.ip === ip) || net.endpoints.some((e) => e.hostIp === ip))) continue;
    mtus.push(netOverlayMtu(net));
    if (/^[0-9a-z]{9,}$/.test(net.id)) {
      sources.set(net.id, { sandbox: net.ingress ? 'ingress_sbox' : `lb_${net.id.slice(0, 9)}`, mtu: netOverlayMtu(net) });
    }
  }
  return { name, netnsDir: null, viaDockerdMountNs: null, overlayMtu: Math.max(0, ...mtus) || DEFAULT_OVERLAY_MTU, sources };
}

/**
 * What node `from` probes: UDP datagrams (gossip and data-path ports) to
 * every peer in `peers`, tcp/2377 to every manager among them, TCP 7946, DF
 * pings and overlay pings to the peers in `full` (default: all), and ESP to
 * the peers in `esp.to` that have an IPv4 address.
 */
export function planNode(
  snapshot: ClusterSnapshot,
  from: NodeSnapshot,
  peers: readonly Peer[],
  o: ProbeOptions,
  full: ReadonlySet<string> | null = null,
  esp: { spi: number; to: ReadonlySet<string> } | null = null,
): SenderPlan {
  return planFor(snapshot.cluster, probeNodeOf(snapshot, from), peers, o, full, esp);
}

/** planNode for a ProbeNode (collected, or predicted from the manager's view). */
export function planFor(
  cluster: ClusterFacts,
  from: ProbeNode,
  peers: readonly Peer[],
  o: ProbeOptions,
  full: ReadonlySet<string> | null = null,
  esp: { spi: number; to: ReadonlySet<string> } | null = null,
): SenderPlan {
  const port = cluster.dataPathPort;
  const required = from.overlayMtu + VXLAN_OVERHEAD;
  const plan: SenderPlan = {
    tcp: [],
    udp: [],
    mtu: [],
    dataPath: [],
    netnsDir: from.netnsDir,
    viaDockerdMountNs: from.viaDockerdMountNs,
    timeoutSec: o.timeoutSec,
  };
  const isFull = (p: Peer) => full === null || full.has(p.name);
  for (const p of peers) {
    if (isFull(p)) plan.tcp.push({ ip: p.ip, port: 7946 });
    if (p.manager) plan.tcp.push({ ip: p.ip, port: 2377 });
    plan.udp.push({ ip: p.ip, port: 7946 }, { ip: p.ip, port });
    if (isFull(p)) plan.mtu.push({ ip: p.ip, payload: required - ICMP_IP_HEADERS });
  }
  plan.dataPath.push(...targetsFrom(cluster, from, peers.filter(isFull), o.dataPathNetworks));
  const espIps = esp ? peers.filter((p) => esp.to.has(p.name) && IPV4.test(p.ip)).map((p) => p.ip) : [];
  if (esp && espIps.length > 0) plan.esp = { spi: esp.spi, ips: espIps };
  return plan;
}

/**
 * Per overlay network (only those whose ids are in `networks`, when given): from this node's
 * lb_/ingress sandbox to one endpoint on each peer.
 */
export function dataPathTargets(
  snapshot: ClusterSnapshot,
  from: NodeSnapshot,
  peers: readonly Peer[],
  networks?: readonly string[],
): SenderPlan['dataPath'] {
  return targetsFrom(snapshot.cluster, probeNodeOf(snapshot, from), peers, networks);
}

function targetsFrom(cluster: ClusterFacts, from: ProbeNode, peers: readonly Peer[], networks?: readonly string[]): SenderPlan['dataPath'] {
  const out: SenderPlan['dataPath'] = [];
  const wanted = networks && new Set(networks);
  for (const net of cluster.networks.filter((n) => n.driver === 'overlay' && (wanted === undefined || wanted.has(n.id)))) {
    const source = from.sources.get(net.id);
    if (!source) continue;
    for (const p of peers) {
      const eps = net.endpoints.filter((e) => e.hostIp === p.ip && e.ip !== '');
      const target = eps.find((e) => e.kind === 'task') ?? eps[0];
      if (!target) continue;
      out.push({ sandbox: source.sandbox, ip: target.ip, payload: source.mtu - ICMP_IP_HEADERS, network: net.name, peer: p.name });
    }
  }
  return out;
}
