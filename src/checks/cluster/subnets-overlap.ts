import { underlayPrefixes } from '../../model/nodes.js';
import { cidrsOverlap, parseCidr, type Cidr } from '../../net/ip.js';
import type { HostFacts, NetworkFacts } from '../../snapshot/types.js';
import { plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck, type Reporter } from '../types.js';

interface Subnet {
  network: NetworkFacts;
  cidr: Cidr;
}

/** Docker's built-in default address pool when the swarm reports none. */
const DEFAULT_POOL = '10.0.0.0/8';

const MESSAGES = {
  overlays: 'overlay {network} {cidr} overlaps {other} {otherCidr}: a task on both gets two routes for the same addresses and reaches the wrong one.',
  notCollected: 'underlay unknown: {why}',
  dockerBridge: 'overlay {network} {cidr} overlaps {source} on {node}: tasks attached to both reach the wrong side.',
  underlay:
    "overlay {network} {cidr} overlaps the underlay {prefix} on {node} ({source}): tasks on {network} cannot reach hosts in {prefix}, and the node's addresses there collide with task addresses.",
  route:
    'overlay {network} {cidr} overlaps {source} on {node}: tasks on {network} cannot reach the hosts behind that route in the overlapping range.',
  pool: "the swarm's default address pool {pool}{poolNote} overlaps the underlay of {node}: {hits}; new overlay networks created without --subnet can be given these addresses.",
  clear: '{subnets} ({list}) overlap neither each other nor the underlay of {nodes}; address pool {pools}{poolNote} is clear of it',
};
type Report = Reporter<keyof typeof MESSAGES>;

const recreate = (net: NetworkFacts): string =>
  net.ingress
    ? 'Remove the services that publish ports, `docker network rm ingress`, `docker network create --driver overlay --ingress --subnet <free /24> ingress`, then redeploy them.'
    : `Recreate ${prose(net.name)} with a free subnet: remove its services, ${code(`docker network rm ${shq(net.name)}`)}, ${code(`docker network create -d overlay --subnet <free /24> ${shq(net.name)}`)}, redeploy.`;

function overlaysAgainstEachOther(subnets: Subnet[], report: Report): void {
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const a = subnets[i]!;
      const b = subnets[j]!;
      if (a.network.id === b.network.id || !cidrsOverlap(a.cidr, b.cidr)) continue;
      report(
        'fail',
        'overlays',
        { network: a.network.name, cidr: a.cidr.text, other: b.network.name, otherCidr: b.cidr.text },
        {
          network: a.network.name,
          remediation: recreate(b.network.ingress ? a.network : b.network),
        },
      );
    }
  }
}

/** Overlay subnets and the address pool against one collected node's underlay. */
function againstUnderlay(node: { name: string; host: HostFacts }, subnets: Subnet[], pools: Cidr[], poolNote: string, report: Report): void {
  const under = underlayPrefixes(node.host);
  for (const s of subnets) {
    for (const u of under.filter((x) => cidrsOverlap(s.cidr, x.cidr))) {
      const data = { network: s.network.name, cidr: s.cidr.text, node: node.name, source: u.source, prefix: u.cidr.text };
      report(u.connected ? 'fail' : 'warn', u.docker ? 'dockerBridge' : u.connected ? 'underlay' : 'route', data, {
        node: node.name,
        network: s.network.name,
        remediation: recreate(s.network),
      });
    }
  }
  for (const pool of pools) {
    const hits = under.filter((u) => !u.docker && cidrsOverlap(pool, u.cidr));
    if (hits.length === 0) continue;
    const ranges = hits.map((h) => h.cidr.text).join(', ');
    report(
      'warn',
      'pool',
      { pool: pool.text, poolNote, node: node.name, hits: hits.map((h) => `${h.cidr.text} (${h.source})`).join(', ') },
      {
        node: node.name,
        remediation: `Create overlays with an explicit free --subnet; for a new swarm use ${code(`docker swarm init --default-addr-pool <range outside ${ranges}>`)} (the pool cannot be changed on an existing swarm).`,
      },
    );
  }
}

export default defineCheck({
  meta: {
    id: 'cluster.subnets.overlap',
    layer: 'cluster',
    title: 'Overlay subnets do not overlap',
    looksAt:
      "Subnets of the swarm's overlay networks (ingress included) against each other and against every node's underlay (interface prefixes, docker_gwbridge/docker0, and main-table routes); the swarm's default address pool against the underlay.",
    remediation:
      'Recreate the overlapping network with a free subnet (`docker network create -d overlay --subnet <free /24> …`), and initialise swarms with a `--default-addr-pool` outside the underlay.',
    scope: 'cluster',
    failures: [18, 19, 20],
    needs: ['swarm'],
    messages: MESSAGES,
  },
  check({ model, report }) {
    const c = model.cluster;
    // Overlays only: a swarm-scoped macvlan/ipvlan network shares the underlay's subnet on purpose.
    const subnets: Subnet[] = model.overlayNetworks.flatMap((network) =>
      network.subnets.map((s) => parseCidr(s.subnet)).flatMap((cidr) => (cidr ? [{ network, cidr }] : [])),
    );
    let problems = 0;
    const counted: Report = (status, ...rest) => {
      if (status !== 'skip') problems++;
      report(status, ...rest);
    };
    overlaysAgainstEachOther(subnets, counted);
    const pools = (c.defaultAddrPool.length ? c.defaultAddrPool : [DEFAULT_POOL]).map(parseCidr).filter((x): x is Cidr => x !== null);
    const poolNote = c.defaultAddrPool.length ? '' : " (Docker's default, the swarm reports no --default-addr-pool)";
    let nodesSeen = 0;
    for (const node of model.nodes) {
      if (node.host === null) {
        report('skip', 'notCollected', { why: node.notCollected ?? 'node not collected' }, { node: node.name });
        continue;
      }
      nodesSeen++;
      againstUnderlay({ name: node.name, host: node.host }, subnets, pools, poolNote, counted);
    }
    if (problems > 0) return;
    report('pass', 'clear', {
      subnets: plural(subnets.length, 'overlay subnet'),
      list: subnets.map((s) => `${s.network.name} ${s.cidr.text}`).join(', '),
      nodes: plural(nodesSeen, 'collected node'),
      pools: pools.map((p) => p.text).join(', '),
      poolNote,
    });
  },
});
