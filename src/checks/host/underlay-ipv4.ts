/**
 * IPv6 underlay (moby#41691). Before Engine 25 the overlay driver created its
 * VXLAN devices for IPv4 transport only: a node advertising an IPv6 address
 * joins the swarm, but its FDB entries fail (EAFNOSUPPORT) and nothing
 * crosses. Since 25.0 (moby 33564a0c03) the driver takes the family from the
 * node's own advertise address; a Linux VXLAN device still carries one
 * family, so a swarm whose nodes advertise both families is cut in two (seen
 * on the lab: test/e2e/rows.test.ts).
 */
import { interfaceWithAddress } from '../../model/nodes.js';
import type { Model, NodeModel } from '../../model/types.js';
import { parseIp } from '../../net/ip.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** The node's own advertise address (its `docker info`), else the address the manager saw it connect from. */
const advertised = (n: NodeModel): string | null => (n.extra.daemon.ok ? n.extra.daemon.value.swarmNodeAddr : null) ?? n.addr;

const major = (v: string | null | undefined): number | null => {
  const m = /^([0-9]+)\./.exec(v ?? '');
  return m ? Number(m[1]) : null;
};

/** Ready swarm nodes other than `self` that advertise an IPv4 address. */
function ipv4Peers(model: Model, self: NodeModel): string[] {
  const out: string[] = [];
  for (const s of model.cluster.nodes) {
    if (s.state !== 'ready' || s.name === self.name) continue;
    const m = model.nodeFor(s);
    const addr = (m ? advertised(m) : null) ?? s.advertiseAddress;
    if (addr && parseIp(addr)?.family === 4) out.push(s.name);
  }
  return out;
}

export default defineCheck({
  meta: {
    id: 'host.underlay.ipv4',
    layer: 'host',
    title: 'The data path has an IPv4 underlay',
    looksAt:
      "The node's own advertise address (`docker info` Swarm.NodeAddr on the node, else the address the manager saw it from: a node that joined an IPv4 manager with `--advertise-addr <IPv6>` shows its IPv4 address there), its Engine version and the other Ready nodes' addresses: an IPv6 address fails before Engine 25 (no IPv6 VXLAN transport) and, from 25 on, when other nodes advertise IPv4 (a VXLAN device carries one address family).",
    remediation:
      'Give every node an address of one family the engines carry: `docker swarm join --data-path-addr <ipv4>` (or --advertise-addr with an IPv4 address).',
    scope: 'node',
    failures: [37],
    needs: ['swarm'],
    messages: {
      unknown: 'no advertise address known for {node}',
      ipv6: "{node} advertises {addr}, an IPv6 address{v4}: Engine {engine} creates the overlay's VXLAN devices for IPv4 transport only (IPv6 transport came with 25.0) and nothing crosses on the data-path port",
      mixed:
        '{node} advertises the IPv6 address {addr} while {peers} advertise IPv4{v4}: a VXLAN device carries one address family, so the overlay between them carries nothing',
      ipv6ok: '{node} advertises the IPv6 address {addr}, as every Ready node does: Engine {engine} carries the overlay over IPv6 (since 25.0)',
      ok: '{node} advertises the IPv4 address {addr} ({iface})',
    },
  },
  check({ model, node, report }) {
    const addr = advertised(node);
    const ip = addr ? parseIp(addr) : null;
    if (!addr || !ip) return report('skip', 'unknown', { node: node.name });
    const host = node.host!;
    if (ip.family === 4) return report('pass', 'ok', { node: node.name, addr, iface: interfaceWithAddress(host, addr) ?? 'its interface' });
    const anyV4 = host.interfaces.flatMap((i) =>
      i.name === 'lo' ? [] : i.addresses.filter((a) => a.family === 'inet' && !a.address.startsWith('127.')),
    );
    const v4 =
      anyV4.length > 0 ? ` (the node has IPv4 ${anyV4.map((a) => a.address).join(', ')})` : ' and the node has no IPv4 address outside loopback';
    const remediation = `On ${prose(node.name)}: leave and rejoin with an IPv4 data-path address: ${code('docker swarm leave')}, then ${code(`docker swarm join --data-path-addr ${shq(anyV4[0]?.address ?? '<ipv4>')} --token <token> <manager>:2377`)}.`;
    const version = host.dockerVersion ?? model.cluster.nodes.find((s) => s.name === node.name)?.engineVersion ?? null;
    const engine = version ?? 'of unknown version';
    const m = major(version);
    if (m === null || m < 25) return report('fail', 'ipv6', { node: node.name, addr, v4, engine }, { remediation });
    const peers = ipv4Peers(model, node);
    if (peers.length > 0) return report('fail', 'mixed', { node: node.name, addr, v4, peers: listText(peers) }, { remediation });
    report('pass', 'ipv6ok', { node: node.name, addr, engine });
  },
});
