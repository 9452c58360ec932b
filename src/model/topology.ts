/**
 * Shared read-only views of the snapshot for the model and the checks: which
 * swarm node an underlay IP is, which nodes host a network, and small helpers
 * to address sandboxes. Who is on an overlay network and what each sandbox's
 * FDB/neighbour tables say about it is in overlay.ts. Pure: no I/O.
 */
import type { ClusterSnapshot, NetworkFacts, NodeSnapshot, SandboxSnapshot, ServiceFacts } from '../snapshot/types.js';
import { cidrContainsIp, stripPrefixLen } from '../net/ip.js';

export { stripPrefixLen };

export interface Topology {
  snapshot: ClusterSnapshot;
  /** Advertise (underlay) address → swarm node name. */
  nameByIp: Map<string, string>;
  /** Swarm node name → advertise address. */
  ipByName: Map<string, string>;
  /** Swarm node id → name. */
  nameById: Map<string, string>;
  /** Collected node snapshots by name. */
  nodeByName: Map<string, NodeSnapshot>;
}

export function topology(snapshot: ClusterSnapshot): Topology {
  const nameByIp = new Map<string, string>();
  const ipByName = new Map<string, string>();
  const nameById = new Map<string, string>();
  for (const n of snapshot.cluster.nodes) {
    nameById.set(n.id, n.name);
    if (n.advertiseAddress) {
      nameByIp.set(n.advertiseAddress, n.name);
      ipByName.set(n.name, n.advertiseAddress);
    }
  }
  const nodeByName = new Map<string, NodeSnapshot>();
  for (const n of snapshot.nodes) {
    nodeByName.set(n.name, n);
    if (n.id && !nameById.has(n.id)) nameById.set(n.id, n.name);
  }
  return { snapshot, nameByIp, ipByName, nameById, nodeByName };
}

/** A node name for an underlay IP, or the IP itself when it is no swarm node. */
export const nodeLabel = (t: Topology, ip: string): string => t.nameByIp.get(ip) ?? ip;

export const execRoot = (node: NodeSnapshot): string => node.host?.dockerd.execRoot ?? '/var/run/docker';

/** Why the node's docker sandboxes could not be listed, or null when the list is usable (possibly empty). */
export function sandboxListProblem(node: NodeSnapshot): string | null {
  const list = node.raw['netns/list'];
  if (!list) return `the sandbox list (netns/list) of ${node.name} was not collected`;
  if (list.rc === 0) return null;
  // No netns folder at all: docker has created no sandbox yet; the list is empty, not unknown.
  if (/No such file or directory/i.test(list.stderr)) return null;
  return `cannot list docker network namespaces on ${node.name} (exit ${list.rc ?? 'none'}: ${list.stderr.split('\n')[0] ?? ''})`;
}

/** True when docker's sandboxes were entered normally on this node (at least one could be). */
export const sandboxAccessWorks = (node: NodeSnapshot): boolean => node.sandboxAccess !== 'none' && node.sandboxes.some((s) => s.enterError === null);

/**
 * A netns file whose namespace is gone: entering fails with EINVAL (the bind
 * mount was lost, e.g. after a dockerd restart with a network removed) while
 * the node's other sandboxes can be entered.
 */
export const isDeadNetns = (node: NodeSnapshot, sb: SandboxSnapshot): boolean =>
  sb.enterError !== null && /Invalid argument/i.test(sb.enterError) && sandboxAccessWorks(node);

export const inNetwork = (ip: string, net: NetworkFacts): boolean => net.subnets.some((s) => cidrContainsIp(s.subnet, ip) === true);

// ---------------------------------------------------------------------------
// Who is on a network

/** Tasks of services attached to `net`, with their address on it and the node they run on. */
export function tasksOn(
  s: ClusterSnapshot,
  net: NetworkFacts,
): { service: ServiceFacts; taskId: string; slot: number | null; nodeId: string; ip: string | null }[] {
  const out: { service: ServiceFacts; taskId: string; slot: number | null; nodeId: string; ip: string | null }[] = [];
  for (const svc of s.cluster.services) {
    for (const t of svc.runningTasks) {
      const a = t.addresses.find((x) => x.networkId === net.id);
      const attached = a !== undefined || (t.addresses.length === 0 && svc.networks.includes(net.id));
      if (attached) out.push({ service: svc, taskId: t.id, slot: t.slot, nodeId: t.nodeId, ip: a ? stripPrefixLen(a.addr) : null });
    }
  }
  return out;
}

/**
 * Nodes (by name) that host something on the network — a task endpoint, an
 * lb/ingress endpoint, or a running task of an attached service — with what
 * they host, for messages.
 */
export function hostingNodes(t: Topology, net: NetworkFacts): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string | undefined, what: string) => {
    if (!name) return;
    const list = out.get(name) ?? [];
    if (!list.includes(what)) list.push(what);
    out.set(name, list);
  };
  for (const e of net.endpoints) {
    if (!e.hostIp) continue;
    add(t.nameByIp.get(e.hostIp), e.kind === 'lb' ? `${net.ingress ? 'ingress' : 'lb'} endpoint ${e.ip}` : `${e.task} (${e.ip})`);
  }
  for (const task of tasksOn(t.snapshot, net)) {
    const name = t.nameById.get(task.nodeId);
    const already = task.ip !== null && net.endpoints.some((e) => e.ip === task.ip);
    if (!already) add(name, `${task.service.name}${task.slot !== null ? `.${task.slot}` : ''}.${task.taskId}${task.ip ? ` (${task.ip})` : ''}`);
  }
  return out;
}
