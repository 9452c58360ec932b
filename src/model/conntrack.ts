/**
 * Stale UDP conntrack entries on published UDP ports (FAILURES.md #13): the
 * kernel decides NAT once, on a flow's first packet, and a UDP client that
 * keeps sending keeps its entry alive. An entry made before the current NAT
 * existed (the service was not running yet) goes on delivering to the host
 * itself; one made for an earlier task keeps its old destination.
 *
 * For every published UDP port this compares the host namespace's entries
 * toward one of the node's own addresses (section `host/conntrack-udp`) with
 * the DNAT docker programs now in the host nat table: `DOCKER` for host-mode
 * ports (the task's address on its bridge), `DOCKER-INGRESS` for ingress-mode
 * ports (ingress_sbox's address on docker_gwbridge). Only ports the node
 * DNATs now are judged: where nothing publishes the port on this node, the
 * host receiving the datagrams is the current decision, not a stale one.
 */
import { cidrContainsIp } from '../net/ip.js';
import { natted, parseConntrack, type ConntrackEntry } from '../parse/conntrack.js';
import { portSpecIncludes } from '../parse/iptables.js';
import type { ClusterFacts, NodeSnapshot, ServiceFacts } from '../snapshot/types.js';
import { readSection } from './sections.js';
import type { NodeModel, Read } from './types.js';

export interface UdpPublish {
  service: ServiceFacts;
  port: number;
  target: number;
  mode: 'ingress' | 'host';
}

export interface StaleUdpEntry {
  publish: UdpPublish;
  entry: ConntrackEntry;
  /** Where the datagrams go: the host itself (not NATed) or a NAT destination no current rule names. */
  kind: 'not-natted' | 'old-target';
  /** The old NAT destination (reply source) for `old-target`. */
  natTo: string | null;
  /** What the node's nat table DNATs the port to now. */
  current: string[];
}

export interface UdpConntrackView {
  /** Published UDP ports the node DNATs now, with their current destinations. */
  natted: { publish: UdpPublish; current: string[] }[];
  stale: StaleUdpEntry[];
  /** Entries toward the node on a published UDP port that follow the current NAT. */
  current: number;
}

/** Every UDP port a service publishes, with its mode. */
export function udpPublishes(c: Pick<ClusterFacts, 'services'>): UdpPublish[] {
  return c.services.flatMap((service) =>
    service.ports
      .filter((p) => p.protocol.toLowerCase() === 'udp' && p.publishedPort !== null)
      .map((p) => ({
        service,
        port: p.publishedPort!,
        target: p.targetPort,
        mode: p.publishMode === 'host' ? ('host' as const) : ('ingress' as const),
      })),
  );
}

/** The node's `host/conntrack-udp` section, parsed. */
export const readConntrackUdp = (n: NodeSnapshot): Read<ConntrackEntry[]> =>
  readSection(n.raw['host/conntrack-udp'], `the UDP conntrack entries of ${n.name}`, (text) => {
    const p = parseConntrack(text);
    return { value: p.entries, warnings: p.warnings };
  });

/** The address of a DNAT --to-destination (`172.17.0.2:514`, `[fd00::2]:514`, `10.0.0.2`). */
export function natAddress(to: string): string {
  if (to.startsWith('[')) return to.slice(1, Math.max(1, to.indexOf(']')));
  const parts = to.split(':');
  return parts.length === 2 ? parts[0]! : to;
}

/** What the node's host nat table DNATs a published UDP port to now (any dump that has docker's chain). */
export function currentNat(node: NodeModel, p: UdpPublish): string[] {
  const chain = p.mode === 'host' ? 'DOCKER' : 'DOCKER-INGRESS';
  const out = new Set<string>();
  for (const d of node.firewall.all) {
    for (const r of d.dump.tables.nat?.rules ?? []) {
      if (r.chain !== chain || r.target !== 'DNAT' || r.protocol !== 'udp' || r.toDestination === undefined) continue;
      if (r.dport !== undefined && portSpecIncludes(r.dport, p.port) === true) out.add(natAddress(r.toDestination));
    }
  }
  return [...out];
}

/** The node's own addresses, and the subnets of its bridges (containers there reach published ports without DNAT by design). */
function localView(node: NodeModel): { own: Set<string>; bridges: string[] } {
  const own = new Set<string>();
  const bridges: string[] = [];
  for (const i of node.host?.interfaces ?? []) {
    for (const a of i.addresses) {
      own.add(a.address);
      if (i.kind === 'bridge') bridges.push(`${a.address}/${a.prefixLen}`);
    }
  }
  return { own, bridges };
}

/** The stale entries of a node, judged against the DNAT its nat table holds now. */
export function udpConntrackView(node: NodeModel, publishes: readonly UdpPublish[], entries: readonly ConntrackEntry[]): UdpConntrackView {
  const { own, bridges } = localView(node);
  const view: UdpConntrackView = { natted: [], stale: [], current: 0 };
  const seen = new Set<string>();
  for (const publish of publishes) {
    // A host-mode port belongs to this node only where the service runs a task (a plain `docker run -p` may hold it elsewhere).
    if (publish.mode === 'host' && !publish.service.runningTasks.some((t) => node.id !== null && t.nodeId === node.id)) continue;
    const key = `${publish.mode} ${publish.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const current = currentNat(node, publish);
    if (current.length === 0) continue;
    view.natted.push({ publish, current });
    for (const entry of entries) {
      const { src, dst, dport } = entry.orig;
      if (entry.protocol !== 'udp' || dport !== publish.port || !own.has(dst) || entry.reply === null) continue;
      if (own.has(src) || bridges.some((b) => cidrContainsIp(b, src) === true)) continue;
      if (!natted(entry)) view.stale.push({ publish, entry, kind: 'not-natted', natTo: null, current });
      else if (!current.includes(entry.reply.src)) view.stale.push({ publish, entry, kind: 'old-target', natTo: entry.reply.src, current });
      else view.current++;
    }
  }
  return view;
}
