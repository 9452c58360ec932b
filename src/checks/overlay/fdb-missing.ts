import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { fdbRepair, memberText } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.fdb.missing',
    layer: 'overlay',
    title: 'VXLAN FDB knows every remote endpoint of the network',
    looksAt:
      "bridge fdb (vxlan0 entries with dst) in each overlay sandbox vs every endpoint of the network hosted on another node (manager ground truth plus each node's lb endpoint), MAC 02:42:<ip> or the hosting node's own interface MAC",
    remediation:
      'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb replace <mac> dev vxlan0 dst <node ip> self permanent; then fix gossip (tcp+udp/7946) between the two nodes, and docker service update --force <service> for a lasting fix',
    scope: 'network-node',
    failures: [6],
    needs: ['advertise-address', 'section:link', 'section:fdb'],
    causedBy: ['overlay.peers.consistent'],
    messages: {
      missing:
        '{sandbox} on {node} has no FDB entry for {count} endpoint(s) on {peer} ({peerIp}): {endpoints}; {node} cannot send to them over VXLAN (the gossip update from {peer} never arrived)',
      complete: '{sandbox}: FDB has entries for all {count} remote endpoint(s)',
    },
  },
  check({ model, node, network, sandbox, report }) {
    const o = model.overlay.at(node, network, sandbox);
    for (const [hostIp, list] of o.fdb.missing) {
      const peer = nodeLabel(model.topology, hostIp);
      const r = fdbRepair(node, sandbox.name, o.dev, hostIp, list);
      const fix = r.fix;
      const force = r.force.length > 0 ? ` and ${r.force.join(' / ')}` : '';
      report(
        'fail',
        'missing',
        {
          sandbox: sandbox.name,
          node: node.name,
          count: list.length,
          peer,
          peerIp: hostIp,
          endpoints: listText(list.map((x) => memberText(x.member, x.mac))),
        },
        {
          peer,
          remediation: `on ${prose(node.name)}: ${fix}; then check gossip tcp+udp/7946 between ${prose(node.name)} and ${prose(peer)}${force}`,
        },
      );
    }
    if (o.fdb.missing.size === 0) report('pass', 'complete', { sandbox: sandbox.name, count: o.fdb.remoteCount });
  },
});
