/**
 * The stack a gate run is about, against the cluster: which nodes each
 * service can land on (Ready + Active + its constraints), the networks it
 * creates or joins and what exists already under their names.
 */
import { nodeMatches, parseConstraint, placementNodes, type Constraint, type PlacementNode } from '../stack/placement.js';
import type { Locator } from '../stack/read.js';
import type { Stack, StackLocation, StackNetwork, StackService } from '../stack/types.js';
import type { ClusterFacts, NetworkFacts, NetworkListEntry } from '../snapshot/types.js';

export interface ServicePlan {
  svc: StackService;
  constraints: Constraint[];
  /** Constraints swarm would refuse. */
  badConstraints: string[];
  /** Ready + Active nodes that satisfy every constraint (hostnames). */
  candidates: string[];
}

/**
 * What `docker network inspect NAME` answers on the manager, which is how
 * docker stack deploy looks an external network up (docker/cli
 * validateExternalNetworks → NetworkInspect; moby's getNetwork): a full ID
 * first, then the name (two networks of one name are "ambiguous"), then a
 * unique ID prefix.
 */
export type NetworkLookup = { found: NetworkListEntry } | { ambiguous: number; by: 'name' | 'ID prefix' } | { missing: true };

export function lookupNetwork(list: readonly NetworkListEntry[], term: string): NetworkLookup {
  const distinct = (xs: NetworkListEntry[]) => [...new Map(xs.map((n) => [n.id, n])).values()];
  const exact = list.find((n) => n.id === term);
  if (exact) return { found: exact };
  for (const [by, hits] of [
    ['name', distinct(list.filter((n) => n.name === term))],
    ['ID prefix', term === '' ? [] : distinct(list.filter((n) => n.id.startsWith(term)))],
  ] as const) {
    if (hits.length === 1) return { found: hits[0]! };
    if (hits.length > 1) return { ambiguous: hits.length, by };
  }
  return { missing: true };
}

export interface NetworkPlan {
  net: StackNetwork;
  /** A swarm network of the same name that exists already. */
  existing: NetworkFacts | undefined;
  /**
   * The network of that name among every network the manager lists (any
   * driver and scope), as docker stack deploy looks an external one up.
   * Snapshots without the list (older ones) look among the swarm overlays.
   */
  lookup: NetworkLookup;
  /** Services of the stack on it. */
  services: StackService[];
}

export interface StackModel {
  stack: Stack;
  services: ServicePlan[];
  networks: NetworkPlan[];
  /** Every node some service of the stack can land on. */
  candidateNodes: Set<string>;
  nodes: PlacementNode[];
  locate(path: readonly string[]): StackLocation | null;
}

export function buildStackModel(stack: Stack, cluster: ClusterFacts, locator: Pick<Locator, 'locate'>): StackModel {
  const nodes = placementNodes(cluster.raw.nodes);
  const usable = nodes.filter((n) => n.ready && n.active);
  const services = stack.services.map((svc): ServicePlan => {
    const parsed = svc.constraints.map(parseConstraint);
    const constraints = parsed.filter((c): c is Constraint => !('error' in c));
    const badConstraints = parsed.filter((c): c is { error: string } => 'error' in c).map((c) => c.error);
    const candidates = badConstraints.length > 0 ? [] : usable.filter((n) => nodeMatches(constraints, n)).map((n) => n.hostname);
    return { svc, constraints, badConstraints, candidates };
  });
  const byName = new Map(cluster.networks.map((n) => [n.name, n]));
  const list = cluster.networkList ?? cluster.networks.map(({ id, name, driver, scope }) => ({ id, name, driver, scope }));
  const networks = stack.networks.map((net): NetworkPlan => ({
    net,
    existing: byName.get(net.name),
    lookup: lookupNetwork(list, net.name),
    services: stack.services.filter((s) => s.networks.includes(net.key)),
  }));
  return {
    stack,
    services,
    networks,
    candidateNodes: new Set(services.flatMap((s) => s.candidates)),
    nodes,
    locate: (path) => locator.locate(path),
  };
}
