/**
 * The overlay part of the model: who is on each overlay network (its
 * members: tasks, lb and ingress endpoints, with the node hosting each and
 * the MAC it should have), and for each (node, overlay network) sandbox its
 * FDB and neighbour tables compared with those members. Computed once per
 * run, on first use, and shared by the overlay.fdb.* and overlay.neigh.*
 * checks (they used to analyse the same sandbox three times).
 */
import { derivedMac } from '../net/ip.js';
import type { FdbEntry, NetworkFacts, NodeSnapshot, SandboxLink, SandboxSnapshot } from '../snapshot/types.js';
import { hostingNodes, inNetwork, tasksOn, type Topology } from './topology.js';
import type { NodeModel, SandboxModel } from './types.js';

/** An address on an overlay network that every other node's FDB/neighbour table must point at. */
export interface Member {
  ip: string;
  /** Underlay address of the node hosting it. */
  hostIp: string;
  /** For messages: `task web.1.xyz`, `lb endpoint`, `ingress endpoint`. */
  what: string;
  service: string | null;
  /** The MAC seen on the hosting node's own sandbox interface; null when that node was not collected. */
  truthMac: string | null;
  /** Where we learnt of it: the manager's network inspect, a task list, or a node's lb sandbox. */
  source: 'manager' | 'tasks' | 'lb-sandbox';
}

/** The MAC a member should have, and how we know it. */
export interface ExpectedMac {
  mac: string | null;
  how: 'node' | 'derived' | 'neighbour' | 'unknown';
}

export interface FdbMissing {
  member: Member;
  mac: string | null;
}
export interface FdbWrong {
  member: Member;
  mac: string;
  /** The dsts other than the hosting node's. */
  wrongDsts: string[];
  /** The right entry exists too (the wrong ones are extra copies). */
  alsoRight: boolean;
}
export interface FdbStale {
  entry: FdbEntry;
  /**
   * - `local`: the MAC is of an endpoint that runs on this node itself (`owner`);
   * - `flood-no-node`: an all-zero flood entry toward an address that is no swarm node;
   * - `unknown-mac-no-node`: no endpoint has the MAC and the dst is no swarm node;
   * - `unknown-mac`: no endpoint has the MAC (dst is a collected swarm node).
   */
  reason: 'local' | 'flood-no-node' | 'unknown-mac-no-node' | 'unknown-mac';
  owner: Member | null;
}

/** A remote member known only by entries the kernel learned (no `self permanent` one Docker programmed). */
export interface FdbLearned {
  member: Member;
  mac: string;
  entries: FdbEntry[];
}

/** Entries Docker programs (`self permanent`; `static` from older tools): anything else the kernel learned from traffic. */
export const programmedFdb = (e: FdbEntry): boolean => e.state === 'permanent' || e.state === 'static';

export interface FdbAnalysis {
  /** Remote members without an FDB entry, by the underlay IP of their node. */
  missing: Map<string, FdbMissing[]>;
  /** Remote members whose only entries are learned ones, by the underlay IP of their node. */
  learned: Map<string, FdbLearned[]>;
  /** Remote members whose entry points (also) at another node, by the underlay IP of their node. */
  wrong: Map<string, FdbWrong[]>;
  /** Entries of no remote member, by their dst. */
  stale: Map<string, FdbStale[]>;
  /** Members hosted on other nodes. */
  remoteCount: number;
  /** Unknown MACs toward nodes whose lb endpoint we could not learn (not called stale). */
  unverified: number;
}

export interface NeighAnalysis {
  /** Remote members without a neighbour entry on a vxlan device, by the underlay IP of their node. */
  missing: Map<string, FdbMissing[]>;
  /** Remote members resolved to another MAC (`got`; `gotOwner` is the member that has it), by node IP. */
  wrong: Map<string, { member: Member; mac: string; got: string; gotOwner: Member | undefined }[]>;
  /** Remote members looked at. */
  checked: number;
}

/** The FDB/neighbour view of one overlay sandbox on one node. */
export interface OverlaySandbox {
  members: readonly Member[];
  expected: Map<string, ExpectedMac>;
  /** vxlan devices of the sandbox (vxlan0, vxlan1 for a second subnet). */
  devs: Set<string>;
  /** The device remediation commands name: the first vxlan link, vxlan0 without one. */
  dev: string;
  fdb: FdbAnalysis;
  neigh: NeighAnalysis;
}

export interface OverlayModel {
  /** Nodes (by name) hosting something on the network, with what, for messages (hostingNodes, once per network). */
  hosting(network: NetworkFacts): ReadonlyMap<string, string[]>;
  /** Everything on the network (computed once per network). */
  members(network: NetworkFacts): readonly Member[];
  /** The FDB/neighbour analysis of `sandbox` (the node's sandbox of `network`), computed once per (node, network). */
  at(node: NodeModel, network: NetworkFacts, sandbox: SandboxModel): OverlaySandbox;
}

/** vxlan links of an overlay sandbox (vxlan0, vxlan1 for a second subnet). */
export const vxlanLinks = (sb: SandboxSnapshot): SandboxLink[] => sb.links.filter((l) => l.kind === 'vxlan');

function vxlanDevs(sb: SandboxSnapshot): Set<string> {
  const names = vxlanLinks(sb).map((l) => l.name);
  return new Set(names.length > 0 ? names : ['vxlan0']);
}

/** The MAC of the interface carrying `ip` in any non-overlay sandbox of `node`. */
function macOnNode(node: NodeSnapshot | undefined, ip: string): string | null {
  if (!node) return null;
  for (const sb of node.sandboxes) {
    if (sb.kind === 'overlay') continue;
    const a = sb.addresses.find((x) => x.address === ip && x.ifname !== 'lo');
    if (!a) continue;
    const mac = sb.links.find((l) => l.name === a.ifname)?.mac;
    if (mac) return mac.toLowerCase();
  }
  return null;
}

/**
 * Everything on the network: the manager's endpoint list (tasks, ingress
 * endpoints), running tasks it might have missed, and each collected node's
 * lb endpoint (not listed by `network inspect --verbose` for non-ingress
 * overlays, but present in every other node's FDB).
 */
function networkMembers(t: Topology, net: NetworkFacts): Member[] {
  const byIp = new Map<string, Member>();
  const add = (m: Omit<Member, 'truthMac'>) => {
    if (!m.ip || !m.hostIp || byIp.has(m.ip)) return;
    const hostNode = t.nodeByName.get(t.nameByIp.get(m.hostIp) ?? '');
    byIp.set(m.ip, { ...m, truthMac: macOnNode(hostNode, m.ip) });
  };
  for (const e of net.endpoints) {
    const what = e.kind === 'lb' ? `${net.ingress ? 'ingress' : 'lb'} endpoint` : `task ${e.task}`;
    add({ ip: e.ip, hostIp: e.hostIp, what, service: e.kind === 'task' ? e.service : null, source: 'manager' });
  }
  for (const task of tasksOn(t.snapshot, net)) {
    const name = t.nameById.get(task.nodeId);
    const hostIp = name ? t.ipByName.get(name) : undefined;
    if (task.ip && hostIp) {
      add({ ip: task.ip, hostIp, what: `task ${task.service.name}.${task.slot ?? ''}.${task.taskId}`, service: task.service.name, source: 'tasks' });
    }
  }
  const vips = new Set(Object.values(net.serviceVips));
  for (const node of t.snapshot.nodes) {
    const hostIp = t.ipByName.get(node.name);
    if (!hostIp) continue;
    for (const sb of node.sandboxes) {
      const isLb = (sb.kind === 'lb' && sb.networkId === net.id) || (sb.kind === 'ingress' && net.ingress);
      if (!isLb || sb.enterError !== null) continue;
      for (const a of sb.addresses) {
        if (a.ifname === 'lo' || vips.has(a.address) || a.prefixLen === 32) continue;
        if (net.subnets.length > 0 && !inNetwork(a.address, net)) continue;
        add({ ip: a.address, hostIp, what: `${net.ingress ? 'ingress' : 'lb'} endpoint`, service: null, source: 'lb-sandbox' });
      }
    }
  }
  return [...byIp.values()];
}

/**
 * The MAC each member should have, as seen from sandbox `sb`: the hosting
 * node's own interface when known; otherwise Docker's 02:42:<ip> derivation,
 * unless the cluster shows it assigns MACs some other way, in which case the
 * local neighbour entry (programmed from the same gossip) is the best guess.
 */
function expectedMacs(members: readonly Member[], sb: SandboxSnapshot, devs: Set<string>): Map<string, ExpectedMac> {
  const derivedScheme = !members.some((m) => m.truthMac !== null && derivedMac(m.ip) !== m.truthMac);
  const out = new Map<string, ExpectedMac>();
  for (const m of members) {
    if (m.truthMac) {
      out.set(m.ip, { mac: m.truthMac, how: 'node' });
      continue;
    }
    const d = derivedMac(m.ip);
    if (derivedScheme && d) {
      out.set(m.ip, { mac: d, how: 'derived' });
      continue;
    }
    const n = sb.neighbours.find((x) => x.dst === m.ip && devs.has(x.dev) && x.mac);
    out.set(m.ip, n?.mac ? { mac: n.mac, how: 'neighbour' } : { mac: null, how: 'unknown' });
  }
  return out;
}

const push = <T>(map: Map<string, T[]>, k: string, v: T): void => {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
};

interface Subject {
  addr: string | null;
  members: readonly Member[];
  sb: SandboxSnapshot;
  expected: Map<string, ExpectedMac>;
  devs: Set<string>;
  /** MAC → the member that has it. */
  owner: Map<string, Member>;
}

/** Remote members against the FDB: missing, or pointed (also) at another node. */
function fdbOfMembers(s: Subject, remote: FdbEntry[], a: FdbAnalysis): void {
  const byMac = new Map<string, FdbEntry[]>();
  for (const e of remote) push(byMac, e.mac, e);
  for (const member of s.members) {
    if (member.hostIp === s.addr) continue;
    a.remoteCount++;
    const mac = s.expected.get(member.ip)?.mac ?? null;
    const entries = mac ? (byMac.get(mac) ?? []) : [];
    const others = entries.filter((e) => e.dst !== member.hostIp).map((e) => e.dst!);
    if (entries.length === 0) {
      push(a.missing, member.hostIp, { member, mac });
      continue;
    }
    if (!entries.some(programmedFdb)) push(a.learned, member.hostIp, { member, mac: mac!, entries });
    if (others.length > 0) push(a.wrong, member.hostIp, { member, mac: mac!, wrongDsts: others, alsoRight: others.length < entries.length });
  }
}

/** FDB entries of no remote member: stale, unless they may be the lb endpoint of a node we could not see. */
function fdbStale(s: Subject, remote: FdbEntry[], nameByIp: Map<string, string>, unseen: Set<string>, a: FdbAnalysis): void {
  for (const entry of remote) {
    const dst = entry.dst!;
    const owner = s.owner.get(entry.mac);
    const dstIsNode = nameByIp.has(dst);
    if (owner) {
      if (owner.hostIp === s.addr) push(a.stale, dst, { entry, reason: 'local', owner });
      continue; // a remote owner with another dst is wrong-dst
    }
    if (entry.mac === '00:00:00:00:00:00') {
      if (!dstIsNode) push(a.stale, dst, { entry, reason: 'flood-no-node', owner: null });
      continue;
    }
    if (!dstIsNode) push(a.stale, dst, { entry, reason: 'unknown-mac-no-node', owner: null });
    else if (unseen.has(dst)) a.unverified++;
    else push(a.stale, dst, { entry, reason: 'unknown-mac', owner: null });
  }
}

function neighbours(s: Subject): NeighAnalysis {
  const a: NeighAnalysis = { missing: new Map(), wrong: new Map(), checked: 0 };
  for (const member of s.members) {
    if (member.hostIp === s.addr) continue;
    const exp = s.expected.get(member.ip) ?? { mac: null, how: 'unknown' as const };
    const entries = s.sb.neighbours.filter((n) => n.dst === member.ip && s.devs.has(n.dev) && n.mac !== null);
    a.checked++;
    if (entries.length === 0) push(a.missing, member.hostIp, { member, mac: exp.mac });
    else if (exp.mac !== null && (exp.how === 'node' || exp.how === 'derived')) {
      const bad = entries.find((n) => n.mac !== exp.mac);
      if (bad) push(a.wrong, member.hostIp, { member, mac: exp.mac, got: bad.mac!, gotOwner: s.owner.get(bad.mac!) });
    }
  }
  return a;
}

function analyse(t: Topology, node: NodeModel, sb: SandboxSnapshot, members: readonly Member[], unseen: Set<string>): OverlaySandbox {
  const devs = vxlanDevs(sb);
  const expected = expectedMacs(members, sb, devs);
  const owner = new Map<string, Member>();
  for (const m of members) {
    const mac = expected.get(m.ip)?.mac;
    if (mac) owner.set(mac, m);
  }
  const s: Subject = { addr: node.addr, members, sb, expected, devs, owner };
  const remote = sb.fdb.filter((e) => devs.has(e.dev) && e.dst !== null);
  const fdb: FdbAnalysis = { missing: new Map(), learned: new Map(), wrong: new Map(), stale: new Map(), remoteCount: 0, unverified: 0 };
  fdbOfMembers(s, remote, fdb);
  fdbStale(s, remote, t.nameByIp, unseen, fdb);
  return { members, expected, devs, dev: [...devs][0] ?? 'vxlan0', fdb, neigh: neighbours(s) };
}

/**
 * Underlay addresses of swarm nodes whose lb endpoint we could not learn (not
 * collected, or their sandboxes not listed): an unknown FDB MAC pointing at
 * one of them may be that endpoint, not a stale entry.
 */
function unseenLbHosts(t: Topology, net: NetworkFacts, node: (name: string) => NodeModel | undefined): Set<string> {
  const out = new Set<string>();
  if (net.ingress) return out; // ingress endpoints are in the manager's list
  for (const n of t.snapshot.cluster.nodes) {
    if (!n.advertiseAddress) continue;
    const m = node(n.name);
    if (!m || m.notCollected !== null || m.sandboxListProblem !== null) out.add(n.advertiseAddress);
  }
  return out;
}

export function overlayModel(t: Topology, node: (name: string) => NodeModel | undefined): OverlayModel {
  const members = new Map<string, Member[]>();
  const unseen = new Map<string, Set<string>>();
  const hosting = new Map<string, Map<string, string[]>>();
  const analyses = new Map<string, OverlaySandbox>();
  const membersOf = (net: NetworkFacts): Member[] => {
    let m = members.get(net.id);
    if (!m) members.set(net.id, (m = networkMembers(t, net)));
    return m;
  };
  return {
    hosting(net) {
      let h = hosting.get(net.id);
      if (!h) hosting.set(net.id, (h = hostingNodes(t, net)));
      return h;
    },
    members: membersOf,
    at(n, net, sandbox) {
      const key = `${n.name}\u0000${net.id}\u0000${sandbox.name}`;
      let a = analyses.get(key);
      if (!a) {
        let u = unseen.get(net.id);
        if (!u) unseen.set(net.id, (u = unseenLbHosts(t, net, node)));
        analyses.set(key, (a = analyse(t, n, sandbox.snap, membersOf(net), u)));
      }
      return a;
    },
  };
}
