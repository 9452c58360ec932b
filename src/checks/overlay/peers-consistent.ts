import { listText } from '../../text/list.js';
import { shq, prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { forceUpdate, servicesOn } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.peers.consistent',
    layer: 'overlay',
    title: 'Network peer list matches the nodes hosting the network',
    looksAt:
      "Peers of `docker network inspect --verbose` (the manager's gossip view) vs the nodes hosting endpoints or running tasks of each overlay network",
    remediation:
      'Check gossip (tcp+udp/7946) between the missing node and the others; docker service update --force <service> re-announces the node; if it stays out, systemctl restart docker on that node',
    scope: 'cluster',
    failures: [7],
    messages: {
      managerOutside: 'the manager {manager} has no task on {network}, so it does not take part in its gossip and cannot list its peers',
      listed: '{node} ({ip}) is in the peer list of {network}',
      notListed:
        '{node} ({ip}) hosts {what} on {network} but is not in its peer list ({peers}): the other nodes do not learn its endpoints, so traffic to them fails',
      unknownPeer:
        "peer {peer} ({ip}) of {network} is no swarm node: a node that left or changed address is still in the network's gossip; updates are also sent to it",
    },
  },
  check({ model, report }) {
    const manager = model.cluster.managerNode;
    for (const net of model.overlayNetworks) {
      const hosting = model.overlay.hosting(net);
      const peerIps = new Set(net.peers.map((p) => p.ip));
      if (net.peers.length === 0 && manager !== null && !hosting.has(manager)) {
        report('skip', 'managerOutside', { manager, network: net.name }, { network: net.name });
        continue;
      }
      for (const [name, what] of [...hosting].sort(([a], [b]) => a.localeCompare(b))) {
        const ip = model.ipByName.get(name);
        if (!ip) continue;
        const at = { node: name, network: net.name };
        if (peerIps.has(ip)) {
          report('pass', 'listed', { node: name, ip, network: net.name }, at);
          continue;
        }
        const peers = listText([...peerIps]) || 'empty';
        const remediation = `check tcp+udp/7946 between ${prose(name)} and the other nodes; then on ${prose(name)}: systemctl restart docker (or ${forceUpdate(servicesOn(model, name, net))} to re-announce its tasks)`;
        report('fail', 'notListed', { node: name, ip, what: listText(what, 3), network: net.name, peers }, { ...at, remediation });
      }
      for (const p of net.peers) {
        if (model.nameByIp.has(p.ip)) continue;
        const remediation = `docker node ls to confirm; remove a departed node (docker node rm ${shq(p.name)}); the entry ages out of gossip after the node is removed`;
        report('warn', 'unknownPeer', { peer: p.name, ip: p.ip, network: net.name }, { peer: p.ip, network: net.name, remediation });
      }
    }
  },
});
