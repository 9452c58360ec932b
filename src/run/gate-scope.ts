/**
 * What the live gate asks of the nodes beyond what every run reads: only
 * the active work that can matter to the stack. `check` asks every overlay's
 * embedded DNS about its services, pings every overlay's data path between
 * every pair of nodes and reads the conntrack entries of every published UDP
 * port; for a stack, only the networks it joins (the existing ones it joins
 * by name, external or not, and ingress when it publishes in ingress mode)
 * and UDP ports it publishes can say no-go, so the gate asks about those
 * alone. A network the stack creates fresh has no sandbox, task or DNS
 * record yet: nothing to ask. The static per-node reads (host sections,
 * every sandbox's tables, every overlay's NetworkDB view, logs) stay whole,
 * so a problem elsewhere is still reported, as a warning saying why it does
 * not block (gate.ts notBlocking).
 */
import type { CollectScope } from '../collect/collect.js';
import { publishedUdpPorts } from '../collect/script.js';
import type { StackModel } from '../model/stack.js';
import type { ClusterFacts } from '../snapshot/types.js';

/** Whether a service of the stack publishes a port in ingress mode (the routing mesh, the ingress network). */
export const publishesIngress = (st: StackModel): boolean =>
  st.stack.services.some((s) => s.ports.some((p) => p.mode === 'ingress' && p.published !== null));

/** The names of the swarm networks the stack is on: its own networks, and ingress when it publishes there. */
export function stackNetworkNames(st: StackModel, cluster: Pick<ClusterFacts, 'networks'>): Set<string> {
  const names = new Set(st.networks.map((n) => n.net.name));
  if (publishesIngress(st)) for (const n of cluster.networks) if (n.ingress) names.add(n.name);
  return names;
}

export interface GateScope {
  /** The collect script's narrower options (collect.ts scriptOptionsFor). */
  collect: CollectScope;
  /** Ids of the overlays whose data path the probes ping (probe/plan.ts dataPathTargets). */
  dataPathNetworks: string[];
}

/** The gate's scope for this stack on this cluster (pure). */
export function gateScope(st: StackModel, cluster: Pick<ClusterFacts, 'networks' | 'services'>): GateScope {
  const names = stackNetworkNames(st, cluster);
  const ids = cluster.networks.filter((n) => names.has(n.name)).map((n) => n.id);
  // The conntrack check compares every published UDP port's entries with its DNAT: all of them or none.
  const udp = st.stack.services.some((s) => s.ports.some((p) => p.protocol === 'udp' && p.published !== null));
  return {
    collect: { dnsNetworks: ids, udpPorts: udp ? publishedUdpPorts(cluster) : [] },
    dataPathNetworks: ids,
  };
}
