/**
 * Shared plumbing for per-node checks: iterating collected nodes (a node
 * that could not be collected gets one `skip`, `host.node.reachable` owns the
 * failure), matching snapshot nodes to the swarm's view of them, and the
 * node's underlay as prefixes.
 */
import type { NodeSummary } from '../cluster/nodes.js';
import type { ClusterSnapshot, HostFacts, NodeSnapshot } from '../snapshot/types.js';
import { cidrContainsIp, isLinkLocal, isLoopback, networkOf, parseCidr, parseIp, type Cidr } from '../net/ip.js';

export type CollectedNode = NodeSnapshot & { host: HostFacts };

export const notCollectedReason = (n: NodeSnapshot): string => `node not collected: ${n.errors[0]?.message ?? `collection status ${n.status}`}`;

/** The swarm's view (role, advertise address) of a collected node: by id, then by name. */
export function summaryOf(snapshot: ClusterSnapshot, node: Pick<NodeSnapshot, 'id' | 'name'>): NodeSummary | undefined {
  const nodes = snapshot.cluster.nodes;
  return (node.id !== null ? nodes.find((s) => s.id === node.id) : undefined) ?? nodes.find((s) => s.name === node.name);
}

/** Interfaces Docker creates on the host (bridges, veths, overlay plumbing). */
export const isDockerInterface = (name: string): boolean => /^(docker0|docker_gwbridge|br-[0-9a-f]{12}|veth[0-9a-f]+|vx-.*|ov-.*)$/.test(name);

export interface UnderlayPrefix {
  cidr: Cidr;
  /** Where it came from, for the finding's text. */
  source: string;
  /** Directly attached (interface address, link route) as opposed to routed through a gateway. */
  connected: boolean;
  /** On a Docker-created interface (docker0, docker_gwbridge, br-…). */
  docker: boolean;
}

/**
 * The prefixes a node can reach directly or has routes for: interface
 * addresses (as their networks) and main-table routes, without loopback,
 * link-local and the default route.
 */
export function underlayPrefixes(host: HostFacts): UnderlayPrefix[] {
  const out: UnderlayPrefix[] = [];
  const seen = new Set<string>();
  const push = (p: UnderlayPrefix) => {
    // The same prefix on a Docker bridge and elsewhere (a LAN route duplicating docker_gwbridge's) is kept twice: that duplicate is the conflict.
    const key = `${p.docker ? 'docker' : 'other'}:${p.cidr.family}:${p.cidr.base}/${p.cidr.prefix}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  for (const i of host.interfaces) {
    for (const a of i.addresses) {
      if (isLoopback(a.address) || isLinkLocal(a.address)) continue;
      const cidr = networkOf(a.address, a.prefixLen);
      if (!cidr) continue;
      push({ cidr, source: `${i.name} address ${a.address}/${a.prefixLen}`, connected: true, docker: isDockerInterface(i.name) });
    }
  }
  for (const r of host.routes) {
    if (r.dst === 'default') continue;
    const cidr = parseCidr(r.dst);
    if (!cidr || cidr.prefix === 0) continue;
    const base = r.dst.split('/')[0] ?? '';
    if (isLoopback(base) || isLinkLocal(base)) continue;
    const dev = r.dev ?? '?';
    push({
      cidr,
      source: r.gateway ? `route ${r.dst} via ${r.gateway} dev ${dev}` : `route ${r.dst} dev ${dev}`,
      connected: r.gateway === null,
      docker: r.dev !== null && isDockerInterface(r.dev),
    });
  }
  return out;
}

/** Interface that holds `ip`, if any. */
export function interfaceWithAddress(host: HostFacts, ip: string): string | null {
  const want = parseIp(ip);
  if (!want) return null;
  for (const i of host.interfaces) {
    for (const a of i.addresses) {
      const got = parseIp(a.address);
      if (got && got.family === want.family && got.value === want.value) return i.name;
    }
  }
  return null;
}

/** Longest-prefix match over the node's main routing table: the device traffic to `ip` leaves by. */
export function routeDevice(host: HostFacts, ip: string): string | null {
  let best: { len: number; dev: string | null } | null = null;
  for (const r of host.routes) {
    const dst = r.dst === 'default' ? (ip.includes(':') ? '::/0' : '0.0.0.0/0') : r.dst;
    const c = parseCidr(dst);
    if (!c || cidrContainsIp(dst, ip) !== true) continue;
    if (!best || c.prefix > best.len) best = { len: c.prefix, dev: r.dev };
  }
  return best?.dev ?? null;
}

export { listText, plural } from '../text/list.js';
