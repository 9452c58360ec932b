/**
 * A resolver inside an overlay subnet (the AWS VPC resolver 10.0.0.2 and
 * swarm's default pool 10.0.0.0/8, moby#27399): the embedded DNS forwards
 * outside names from inside the task, where the overlay's route wins, so
 * the queries go into the overlay and never reach the resolver.
 */
import type { Model } from '../../model/types.js';
import { cidrContainsIp, isLoopback, networkOf } from '../../net/ip.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { GWBRIDGE } from './lib/forward.js';

interface Clash {
  address: string;
  file: string;
  /** The overlay network, or null for docker_gwbridge. */
  network: string | null;
  subnet: string;
}

function clashes(model: Model, nodeBridge: string | null, servers: { file: string; address: string }[]): Clash[] {
  const out: Clash[] = [];
  for (const ns of servers) {
    if (isLoopback(ns.address)) continue;
    for (const net of model.overlayNetworks) {
      const s = net.subnets.find((x) => cidrContainsIp(x.subnet, ns.address) === true);
      if (s) out.push({ ...ns, network: net.name, subnet: s.subnet });
    }
    if (nodeBridge !== null && cidrContainsIp(nodeBridge, ns.address) === true) out.push({ ...ns, network: null, subnet: nodeBridge });
  }
  return out;
}

export default defineCheck({
  meta: {
    id: 'host.dns.nameservers',
    layer: 'host',
    title: "The node's DNS servers are outside the overlay subnets",
    looksAt: `The nameserver lines of /etc/resolv.conf and of systemd-resolved's /run/systemd/resolve/resolv.conf (what Docker's embedded DNS forwards outside names to) against every overlay subnet and the node's ${GWBRIDGE} subnet; loopback resolvers (127.0.0.53) are skipped.`,
    remediation:
      'Recreate the overlay network with a subnet that does not hold the resolver (docker network create --subnet …), or give the daemon resolvers outside the swarm\'s pools ("dns" in /etc/docker/daemon.json).',
    scope: 'node',
    failures: [18],
    messages: {
      unreadable: '{problem}',
      inside:
        'nameserver {address} ({file}) on {node} is inside {where} {subnet}: tasks there resolve outside names through it, and their queries go into {into} instead of reaching the resolver',
      none: 'no nameserver line in the resolv.conf files of {node}',
      clear: 'nameservers {servers} of {node} are outside every overlay subnet and {bridge}',
    },
  },
  check({ model, node, report }) {
    const r = node.extra.nameservers;
    if (!r.ok) return report('skip', 'unreadable', { problem: r.problem });
    const br = node.host!.interfaces.find((i) => i.name === GWBRIDGE)?.addresses.find((a) => a.family === 'inet');
    const bridge = br ? (networkOf(br.address, br.prefixLen)?.text ?? null) : null;
    const found = clashes(model, bridge, r.value);
    for (const c of found) {
      const where = c.network === null ? `the ${GWBRIDGE} subnet` : `overlay ${c.network}`;
      const into = c.network === null ? GWBRIDGE : 'the overlay';
      const fix =
        c.network === null
          ? `recreate ${GWBRIDGE} on ${prose(node.name)} with a subnet that does not hold ${prose(c.address)} (see host.gwbridge.egress)`
          : `recreate ${prose(c.network)} with a free subnet (${code(`docker network rm ${shq(c.network)}`)} once its services are removed, then ${code(`docker network create -d overlay --subnet <free /24> ${shq(c.network)}`)})`;
      report(
        'fail',
        'inside',
        { address: c.address, file: c.file, node: node.name, where, subnet: c.subnet, into },
        {
          network: c.network,
          remediation: `${fix[0]!.toUpperCase()}${fix.slice(1)}; or give dockerd resolvers outside the swarm's pools: ${code(`"dns": ["<resolver>"]`)} in /etc/docker/daemon.json on ${prose(node.name)}.`,
        },
      );
    }
    if (found.length > 0) return;
    const servers = [...new Set(r.value.map((s) => s.address))];
    if (servers.length === 0) return report('pass', 'none', { node: node.name });
    report('pass', 'clear', { servers: listText(servers), node: node.name, bridge: bridge ? `${GWBRIDGE} ${bridge}` : `(no ${GWBRIDGE})` });
  },
});
