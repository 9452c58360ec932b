import { underlayPrefixes } from '../../model/nodes.js';
import { cidrsOverlap, networkOf, parseCidr, type Cidr } from '../../net/ip.js';
import type { HostFacts } from '../../snapshot/types.js';
import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, collected, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.network.subnet',
    layer: 'stack',
    title: "The stack's networks do not overlap anything",
    looksAt:
      "Subnets of the networks the stack creates against every existing network, each other, the nodes' advertise addresses and, in live runs, every address and route of the nodes the stack can land on (an overlay route wins inside the container: FAILURES.md #18) and their docker_gwbridge and docker0 subnets, which differ per node and which the manager does not list (FAILURES.md #19); a network without a subnet while the swarm's default pool overlaps the underlay.",
    remediation:
      'Give the network an explicit subnet that overlaps nothing (`ipam: {config: [{subnet: …}]}`), or re-create the swarm with a --default-addr-pool outside your networks.',
    scope: 'cluster',
    failures: [18, 19, 20],
    needs: ['stack'],
    messages: {
      clear: '{network}: {subnet} overlaps nothing',
      overlap: "{network}: {subnet} overlaps {what}; traffic to {what} from the stack's tasks goes into the overlay instead",
      defaultPool: '{network}: no subnet given, and the default address pool {pool} overlaps {what}: the subnet docker picks may shadow it',
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    const created = st.networks.filter((p) => !p.net.external && p.existing === undefined);
    const others: { cidr: Cidr; what: string }[] = [];
    for (const n of model.networks) for (const s of n.subnets) others.push(...cidr(s.subnet, `network ${n.name} (${s.subnet})`));
    for (const c of model.cluster.nodes)
      if (c.advertiseAddress) others.push(...cidr(c.advertiseAddress, `${c.name}'s advertise address ${c.advertiseAddress}`));
    for (const n of collected(model, st.candidateNodes)) {
      for (const p of underlayPrefixes(n.host!)) if (!p.docker) others.push({ cidr: p.cidr, what: `${n.name}'s ${p.source}` });
      others.push(...dockerBridges(n.name, n.host!));
    }
    for (const p of created) {
      const where = at(model, ['networks', p.net.key, 'ipam'], { network: p.net.name });
      if (p.net.subnets.length === 0) {
        const hits = model.cluster.defaultAddrPool.flatMap((pool) => hitsOf(pool, others).map((h) => ({ pool, what: h })));
        if (hits.length > 0)
          report(
            'warn',
            'defaultPool',
            { network: p.net.name, pool: hits[0]!.pool, what: hits[0]!.what },
            at(model, ['networks', p.net.key], { network: p.net.name }),
          );
        continue;
      }
      for (const subnet of p.net.subnets) {
        const mates = created
          .filter((q) => q !== p)
          .flatMap((q) => q.net.subnets.flatMap((s) => cidr(s, `the stack's network ${q.net.name} (${s})`)));
        const hit = hitsOf(subnet, [...others, ...mates])[0];
        const data = { network: p.net.name, subnet };
        if (hit)
          report(
            'fail',
            'overlap',
            { ...data, what: hit },
            {
              ...where,
              remediation: `choose a subnet for ${shq(p.net.key)} that overlaps nothing above, e.g. from 10.200.0.0/16 if your networks leave it free`,
            },
          );
        else report('pass', 'clear', data, where);
      }
    }
  },
});

/** The node's docker_gwbridge (every task's egress interface) and docker0 (its standalone containers): FAILURES.md #19. */
function dockerBridges(node: string, host: HostFacts): { cidr: Cidr; what: string }[] {
  return host.interfaces
    .filter((i) => i.name === 'docker_gwbridge' || i.name === 'docker0')
    .flatMap((i) => i.addresses.filter((a) => a.family === 'inet').map((a) => ({ i, c: networkOf(a.address, a.prefixLen) })))
    .flatMap(({ i, c }) => (c ? [{ cidr: c, what: `${node}'s ${i.name} (${c.text})` }] : []));
}

function cidr(text: string, what: string): { cidr: Cidr; what: string }[] {
  const c = parseCidr(text);
  return c ? [{ cidr: c, what }] : [];
}

function hitsOf(subnet: string, others: { cidr: Cidr; what: string }[]): string[] {
  const c = parseCidr(subnet);
  return c ? others.filter((o) => cidrsOverlap(c, o.cidr)).map((o) => o.what) : [];
}
