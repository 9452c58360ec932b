/**
 * The swarm traffic a node exchanges with its peers, as flows the firewall
 * evaluator can walk, and the iptables rule that would let one through.
 */
import type { Packet, Root } from '../../../model/firewall.js';
import type { Model, NodeModel } from '../../../model/types.js';
import { cidrContainsIp, networkOf } from '../../../net/ip.js';
import { listText } from '../../../text/list.js';
import { shq } from '../../../text/shell.js';

export interface Peer {
  name: string;
  address: string | null;
}

export interface Flow {
  label: string;
  proto: Packet['proto'];
  port: number | null;
  sport: number | null;
  /** Peers that send this to the node (INPUT) and that the node sends it to (OUTPUT). */
  from: Peer[];
  to: Peer[];
}

/** The flows of swarm traffic into and out of `node`: control plane, gossip, VXLAN, and ESP when an overlay is encrypted. */
export function swarmFlows(model: Model, node: NodeModel): { flows: Flow[]; others: Peer[] } {
  const me = node.summary;
  const notMe = model.cluster.nodes.filter((s) => s.id !== me?.id && s.name !== node.name);
  const others: Peer[] = notMe.map((s) => ({ name: s.name, address: s.advertiseAddress }));
  const managers: Peer[] = notMe.filter((s) => s.role === 'manager').map((s) => ({ name: s.name, address: s.advertiseAddress }));
  const encrypted = model.networks.filter((x) => x.encrypted);
  const dp = model.cluster.dataPathPort;
  const flows: Flow[] = [
    { label: 'tcp/2377 (swarm control plane)', proto: 'tcp', port: 2377, sport: null, from: node.manager ? others : [], to: managers },
    { label: 'tcp/7946 (gossip)', proto: 'tcp', port: 7946, sport: null, from: others, to: others },
    { label: 'udp/7946 (gossip)', proto: 'udp', port: 7946, sport: 7946, from: others, to: others },
    { label: `udp/${dp} (VXLAN data path)`, proto: 'udp', port: dp, sport: null, from: others, to: others },
  ];
  if (encrypted.length > 0) {
    const label = `ESP (encrypted overlay ${listText(encrypted.map((x) => x.name))})`;
    flows.push({ label, proto: 'esp', port: null, sport: null, from: others, to: others });
  }
  return { flows, others };
}

/** `iptables -I INPUT -s <peer or their common prefix> -p … -j ACCEPT`, every value quoted. */
export function allowCommand(root: Root, flow: Flow, peers: Peer[], node: NodeModel): string {
  const addrs = peers.map((p) => p.address).filter((a): a is string => a !== null);
  const self = node.addr;
  let net: string | null = null;
  if (addrs.length === 1) net = addrs[0]!;
  else if (self) {
    const iface = node.host!.interfaces.flatMap((i) => i.addresses).find((a) => a.address === self);
    const cidr = iface ? networkOf(iface.address, iface.prefixLen) : null;
    if (cidr && addrs.every((a) => cidrContainsIp(cidr.text, a) === true)) net = cidr.text;
  }
  const proto = flow.proto === 'esp' ? '-p esp' : `-p ${flow.proto} --dport ${flow.port}`;
  const who = net ? ` ${root === 'INPUT' ? '-s' : '-d'} ${shq(net)}` : '';
  return `iptables -I ${root}${who} ${proto} -j ACCEPT`;
}
