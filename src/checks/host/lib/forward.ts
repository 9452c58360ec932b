/**
 * The traffic a node forwards for the swarm, as packets the firewall
 * evaluator walks through FORWARD: overlay egress (a task on docker_gwbridge
 * to anything outside, and the reply) and routing-mesh traffic (a client on
 * the underlay to ingress_sbox on docker_gwbridge, for each port published in
 * ingress mode, and the reply).
 */
import type { Packet } from '../../../model/firewall.js';
import { interfaceWithAddress, routeDevice } from '../../../model/nodes.js';
import type { Model, NodeModel } from '../../../model/types.js';
import { cidrContainsIp, type Cidr } from '../../../net/ip.js';
import { ingressGatewayAddress } from '../../../model/lb.js';

export const GWBRIDGE = 'docker_gwbridge';

/** A reply goes to the client's ephemeral port: the first of Linux's default net.ipv4.ip_local_port_range. */
export const EPHEMERAL_PORT = 32768;

export interface ForwardFlow {
  /** `overlay egress (tcp/443)`, `routing mesh tcp/8080 (web)`. */
  label: string;
  kind: 'egress' | 'mesh';
  /** Published port and protocol (mesh), for remediations. */
  proto: 'tcp' | 'udp';
  port: number;
  /** The first packet and the reply to it. */
  packets: { what: string; packet: Packet }[];
}

/** The node's docker_gwbridge IPv4 subnet and a task address on it (a container's leg, else ingress_sbox's, else the bridge's own). */
function taskOnBridge(node: NodeModel, subnet: Cidr, bridgeAddr: string): string {
  const legs = node.sandboxes
    .filter((s) => s.kind === 'container' || s.kind === 'ingress')
    .flatMap((s) => s.snap.addresses.map((a) => a.address))
    .filter((a) => cidrContainsIp(subnet.text, a) === true && a !== bridgeAddr);
  return legs[0] ?? bridgeAddr;
}

/** The interface the node's outside traffic leaves by: the default route's, else the advertise address's. */
export function underlayIface(node: NodeModel): string | null {
  const host = node.host!;
  return routeDevice(host, '0.0.0.0') ?? (node.addr ? interfaceWithAddress(host, node.addr) : null);
}

export function egressFlow(node: NodeModel, subnet: Cidr, bridgeAddr: string): ForwardFlow {
  const out = underlayIface(node);
  const task = taskOnBridge(node, subnet, bridgeAddr);
  const base = { proto: 'tcp' as const, src: task, dst: null, sport: null, dport: 443, iface: GWBRIDGE, outIface: out, state: 'NEW' as const };
  return {
    label: 'overlay egress (a task reaching tcp/443 outside the swarm)',
    kind: 'egress',
    proto: 'tcp',
    port: 443,
    packets: [
      { what: `new connection from ${task} on ${GWBRIDGE}${out ? ` out of ${out}` : ''}`, packet: base },
      {
        what: `reply into ${GWBRIDGE}`,
        packet: { ...base, src: null, dst: task, sport: 443, dport: EPHEMERAL_PORT, iface: out, outIface: GWBRIDGE, state: 'ESTABLISHED' },
      },
    ],
  };
}

/**
 * Routing-mesh flows into ingress_sbox (its docker_gwbridge address) for each tcp/udp port published in ingress mode.
 * None on a node without IPVS: Docker programs no mesh there (service.ingress.ipvs-available says so).
 */
export function meshFlows(model: Model, node: NodeModel): ForwardFlow[] {
  if (node.ipvs?.state === 'unavailable') return [];
  const sb = node.sandboxes.find((s) => s.kind === 'ingress' && s.enterError === null);
  const gw = sb ? ingressGatewayAddress(sb.snap, model.ingress) : null;
  if (gw === null) return [];
  const inIf = node.addr ? interfaceWithAddress(node.host!, node.addr) : null;
  const flows: ForwardFlow[] = [];
  for (const p of model.ingressPorts) {
    if (p.protocol !== 'tcp' && p.protocol !== 'udp') continue;
    const proto = p.protocol;
    const first: Packet = { proto, src: null, dst: gw, sport: null, dport: p.port, iface: inIf, outIface: GWBRIDGE, state: 'NEW' };
    const reply: Packet = { proto, src: gw, dst: null, sport: p.port, dport: EPHEMERAL_PORT, iface: GWBRIDGE, outIface: inIf, state: 'ESTABLISHED' };
    flows.push({
      label: `routing mesh ${proto}/${p.port} (${p.service.name})`,
      kind: 'mesh',
      proto,
      port: p.port,
      packets: [
        { what: `new connection${inIf ? ` arriving on ${inIf}` : ''} to ingress_sbox ${gw}`, packet: first },
        { what: 'reply from ingress_sbox', packet: reply },
      ],
    });
  }
  return flows;
}
