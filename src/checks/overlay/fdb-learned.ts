import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { fdbRepair, memberText } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.fdb.learned',
    layer: 'overlay',
    title: 'Remote endpoints have the permanent FDB entry Docker programs, not only a learned one',
    looksAt:
      'bridge fdb (vxlan0 entries with dst) in each overlay sandbox: a remote endpoint whose MAC has only dynamic entries the kernel learned from arriving traffic (no `self permanent` row), the state left when the permanent add failed with EEXIST after a short partition',
    remediation:
      'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb replace <mac> dev vxlan0 dst <node ip> self permanent; docker service update --force <service> re-announces the endpoints',
    scope: 'network-node',
    failures: [6],
    needs: ['advertise-address', 'section:link', 'section:fdb'],
    causedBy: ['overlay.peers.consistent'],
    messages: {
      learned:
        '{sandbox} on {node} knows {count} endpoint(s) on {peer} ({peerIp}) only by a learned FDB entry: {endpoints}; traffic to them works while they keep talking and stops once the entry ages out (the permanent entry Docker adds is missing)',
      programmed: '{sandbox}: every remote endpoint with an FDB entry has a permanent one ({count} remote)',
    },
  },
  check({ model, node, network, sandbox, report }) {
    const o = model.overlay.at(node, network, sandbox);
    for (const [hostIp, list] of o.fdb.learned) {
      const peer = nodeLabel(model.topology, hostIp);
      const r = fdbRepair(node, sandbox.name, o.dev, hostIp, list);
      const fix = r.fix;
      const force = r.force.length > 0 ? `; then ${r.force.join(' / ')}` : '';
      const states = (x: (typeof list)[number]) => [...new Set(x.entries.map((e) => e.state ?? 'dynamic'))].join('/');
      report(
        'fail',
        'learned',
        {
          sandbox: sandbox.name,
          node: node.name,
          count: list.length,
          peer,
          peerIp: hostIp,
          endpoints: listText(list.map((x) => `${memberText(x.member, x.mac)} [${states(x)}]`)),
        },
        { peer, remediation: `on ${prose(node.name)}: ${fix}${force}` },
      );
    }
    if (o.fdb.learned.size === 0) report('pass', 'programmed', { sandbox: sandbox.name, count: o.fdb.remoteCount });
  },
});
