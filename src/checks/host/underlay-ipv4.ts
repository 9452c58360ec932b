/**
 * IPv6-only underlay (moby#41691): the swarm forms over IPv6, but the overlay
 * data path assumes IPv4 transport ("Assuming IPv4 transport") and nothing
 * crosses on the VXLAN port.
 */
import { interfaceWithAddress } from '../../model/nodes.js';
import { parseIp } from '../../net/ip.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'host.underlay.ipv4',
    layer: 'host',
    title: 'The data path has an IPv4 underlay',
    looksAt:
      "The node's own advertise address (`docker info` Swarm.NodeAddr on the node, else the address the manager saw it from) and the node's IPv4 addresses: an IPv6 advertise address is the IPv6-only underlay the overlay data path does not carry. The manager's Status.Addr is where the node connected from: a node that joined an IPv4 manager with `--advertise-addr <IPv6>` shows its IPv4 address there.",
    remediation: 'Give every node an IPv4 data-path address: `docker swarm join --data-path-addr <ipv4>` (or --advertise-addr with an IPv4 address).',
    scope: 'node',
    failures: [37],
    needs: ['swarm'],
    messages: {
      unknown: 'no advertise address known for {node}',
      ipv6: '{node} advertises {addr}, an IPv6 address{v4}: the overlay\'s VXLAN data path expects IPv4 transport (dockerd logs "Assuming IPv4 transport") and nothing crosses on the data-path port',
      ok: '{node} advertises the IPv4 address {addr} ({iface})',
    },
  },
  check({ node, report }) {
    // The node's own view first: the manager's Status.Addr is the address the node connected from.
    const addr = (node.extra.daemon.ok ? node.extra.daemon.value.swarmNodeAddr : null) ?? node.addr;
    const ip = addr ? parseIp(addr) : null;
    if (!addr || !ip) return report('skip', 'unknown', { node: node.name });
    const host = node.host!;
    const iface = interfaceWithAddress(host, addr);
    const anyV4 = host.interfaces.flatMap((i) =>
      i.name === 'lo' ? [] : i.addresses.filter((a) => a.family === 'inet' && !a.address.startsWith('127.')),
    );
    const fix = (v4addr: string) =>
      `On ${prose(node.name)}: leave and rejoin with an IPv4 data-path address: ${code('docker swarm leave')}, then ${code(`docker swarm join --data-path-addr ${shq(v4addr)} --token <token> <manager>:2377`)}.`;
    if (ip.family === 6) {
      const v4Text =
        anyV4.length > 0 ? ` (the node has IPv4 ${anyV4.map((a) => a.address).join(', ')})` : ' and the node has no IPv4 address outside loopback';
      return report('fail', 'ipv6', { node: node.name, addr, v4: v4Text }, { remediation: fix(anyV4[0]?.address ?? '<ipv4>') });
    }
    report('pass', 'ok', { node: node.name, addr, iface: iface ?? 'its interface' });
  },
});
