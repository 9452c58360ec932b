import type { FdbWrong } from '../../model/overlay.js';
import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { shq, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { fdbReplace, memberText } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.fdb.wrong-dst',
    layer: 'overlay',
    title: 'VXLAN FDB entries point at the node that hosts the endpoint',
    looksAt:
      "bridge fdb dst of each remote endpoint's MAC in each overlay sandbox vs the underlay IP of the node hosting the endpoint (manager ground truth)",
    remediation: 'On the node: nsenter --net=/var/run/docker/netns/<sandbox> bridge fdb replace <mac> dev vxlan0 dst <right node ip> self permanent',
    scope: 'network-node',
    failures: [5],
    needs: ['advertise-address', 'section:link', 'section:fdb'],
    messages: {
      wrong:
        '{sandbox} on {node} sends traffic for endpoints on {peer} ({peerIp}) to the wrong node: {entries}; they run on {peer}, so the frames are dropped',
      extra: '{sandbox} on {node} has, besides the right entry toward {peer}, extra FDB destinations: {entries}; frames are also copied there',
      right: '{sandbox}: every FDB entry of a remote endpoint points at its node',
    },
  },
  check({ model, node, network, sandbox, report }) {
    const o = model.overlay.at(node, network, sandbox);
    const say = (x: FdbWrong) => `${memberText(x.member, x.mac)} → ${x.wrongDsts.map((d) => `${nodeLabel(model.topology, d)} (${d})`).join(', ')}`;
    for (const [hostIp, list] of o.fdb.wrong) {
      const peer = nodeLabel(model.topology, hostIp);
      const base = { sandbox: sandbox.name, node: node.name, peer };
      const exclusive = list.filter((x) => !x.alsoRight);
      const extra = list.filter((x) => x.alsoRight);
      if (exclusive.length > 0) {
        const fix = exclusive.map((x) => fdbReplace(node, sandbox.name, o.dev, x.mac, hostIp)).join('; ');
        report(
          'fail',
          'wrong',
          { ...base, peerIp: hostIp, entries: listText(exclusive.map(say)) },
          { peer, remediation: `on ${prose(node.name)}: ${fix}` },
        );
      }
      if (extra.length > 0) {
        const del = extra.flatMap((x) =>
          x.wrongDsts.map((d) => `${node.nsenter(sandbox.name)} bridge fdb del ${shq(x.mac)} dev ${shq(o.dev)} dst ${shq(d)} self`),
        );
        report('warn', 'extra', { ...base, entries: listText(extra.map(say)) }, { peer, remediation: `on ${prose(node.name)}: ${del.join('; ')}` });
      }
    }
    if (o.fdb.wrong.size === 0) report('pass', 'right', { sandbox: sandbox.name });
  },
});
