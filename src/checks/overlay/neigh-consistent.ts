import { derivedMac } from '../../net/ip.js';
import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { shq, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { memberText } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.neigh.consistent',
    layer: 'overlay',
    title: 'Neighbour entries of remote endpoints carry the right MAC',
    looksAt:
      "ip neigh on vxlan0 in each overlay sandbox: every remote endpoint IP must resolve to its MAC (02:42:<ip>, or the MAC on the hosting node's interface)",
    remediation: 'On the node: nsenter --net=/var/run/docker/netns/<sandbox> ip neigh replace <ip> lladdr <mac> dev vxlan0 nud permanent',
    scope: 'network-node',
    failures: [5],
    needs: ['advertise-address', 'section:link', 'section:neigh'],
    causedBy: ['overlay.peers.consistent'],
    messages: {
      wrongMac: '{sandbox} on {node} resolves endpoints on {peer} to the wrong MAC: {entries}; packets to them are addressed to another endpoint',
      missing:
        '{sandbox} on {node} has no neighbour entry for {count} endpoint(s) on {peer}: {endpoints}; docker programs them with the FDB, so gossip from {peer} is likely incomplete',
      consistent: '{sandbox}: neighbour entries of all {count} remote endpoint(s) carry the right MAC',
    },
  },
  check({ model, node, network, sandbox, report }) {
    const o = model.overlay.at(node, network, sandbox);
    const ns = node.nsenter(sandbox.name);
    const replace = (ip: string, mac: string | null) =>
      `${ns} ip neigh replace ${shq(ip)} lladdr ${mac !== null ? shq(mac) : '<mac>'} dev ${shq(o.dev)} nud permanent`;
    const base = { sandbox: sandbox.name, node: node.name };
    for (const [hostIp, list] of o.neigh.wrong) {
      const peer = nodeLabel(model.topology, hostIp);
      const entries = list.map(
        (x) => `${x.member.ip} → ${x.got}${x.gotOwner ? ` (that is ${x.gotOwner.ip}, ${x.gotOwner.what})` : ''}, should be ${x.mac}`,
      );
      const fix = list.map((x) => replace(x.member.ip, x.mac)).join('; ');
      report('fail', 'wrongMac', { ...base, peer, entries: listText(entries) }, { peer, remediation: `on ${prose(node.name)}: ${fix}` });
    }
    for (const [hostIp, list] of o.neigh.missing) {
      const peer = nodeLabel(model.topology, hostIp);
      const fix = list.map((x) => replace(x.member.ip, x.mac ?? derivedMac(x.member.ip))).join('; ');
      const endpoints = listText(list.map((x) => memberText(x.member, x.mac)));
      report('warn', 'missing', { ...base, count: list.length, peer, endpoints }, { peer, remediation: `on ${prose(node.name)}: ${fix}` });
    }
    if (o.neigh.wrong.size === 0 && o.neigh.missing.size === 0) report('pass', 'consistent', { sandbox: sandbox.name, count: o.neigh.checked });
  },
});
