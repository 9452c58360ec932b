import type { FdbStale } from '../../model/overlay.js';
import { nodeLabel } from '../../model/topology.js';
import type { NodeModel, SandboxModel } from '../../model/types.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText } from '../../text/list.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** Why an entry is stale, in prose. */
function why(s: FdbStale, node: NodeModel, net: NetworkFacts): string {
  const dst = s.entry.dst!;
  switch (s.reason) {
    case 'local':
      return `${s.owner!.what} ${s.owner!.ip} runs on ${prose(node.name)} itself`;
    case 'flood-no-node':
      return `flood entry toward ${dst}, which is no swarm node`;
    case 'unknown-mac-no-node':
      return `no endpoint of ${net.name} has this MAC and ${dst} is no swarm node`;
    case 'unknown-mac':
      return `no endpoint of ${net.name} has this MAC`;
  }
}

/** The commands that remove the entries (and the neighbour entries of the same MAC). */
function removal(node: NodeModel, sb: SandboxModel, dst: string, list: FdbStale[]): string[] {
  const ns = node.nsenter(sb.name);
  return list.flatMap(({ entry: e }) => [
    `${ns} bridge fdb del ${shq(e.mac)} dev ${shq(e.dev)} dst ${shq(dst)} self`,
    ...sb.snap.neighbours.filter((n) => n.mac === e.mac && n.dev === e.dev).map((n) => `${ns} ip neigh del ${shq(n.dst)} dev ${shq(n.dev)}`),
  ]);
}

export default defineCheck({
  meta: {
    id: 'overlay.fdb.stale',
    layer: 'overlay',
    title: 'No stale VXLAN FDB entries',
    looksAt:
      'bridge fdb entries with a dst in each overlay sandbox whose MAC belongs to no current endpoint of the network, or whose dst is no swarm node',
    remediation:
      'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb del <mac> dev vxlan0 dst <ip> self (and ip neigh del <ip> dev vxlan0)',
    scope: 'network-node',
    failures: [5],
    needs: ['advertise-address', 'section:link', 'section:fdb'],
    messages: {
      stale: '{sandbox} on {node} has {entries} toward {peer}{dst}: {list}; a new task that reuses the address will be unreachable from {node}',
      none: '{sandbox}: no stale FDB entries on {dev}{unverified}',
    },
  },
  check({ model, node, network, sandbox, report }) {
    const o = model.overlay.at(node, network, sandbox);
    for (const [dst, list] of o.fdb.stale) {
      const peer = nodeLabel(model.topology, dst);
      report(
        'warn',
        'stale',
        {
          sandbox: sandbox.name,
          node: node.name,
          entries: `${list.length} stale FDB entr${list.length === 1 ? 'y' : 'ies'}`,
          peer,
          dst: peer !== dst ? ` (${dst})` : '',
          list: listText(list.map((s) => `${s.entry.mac} (${why(s, node, network)})`)),
        },
        { peer, remediation: `on ${prose(node.name)}: ${removal(node, sandbox, dst, list).join('; ')}` },
      );
    }
    if (o.fdb.stale.size === 0) {
      const n = o.fdb.unverified;
      const unverified = n > 0 ? ` (${n} entr${n === 1 ? 'y' : 'ies'} toward uncollected nodes not verified)` : '';
      report('pass', 'none', { sandbox: sandbox.name, dev: o.dev, unverified });
    }
  },
});
