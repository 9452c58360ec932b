import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { dockerPolicies, hostOf, whenEncrypted } from './lib/ipsec.js';

export default defineCheck({
  meta: {
    id: 'overlay.encryption.policy-port',
    layer: 'overlay',
    title: "IPsec policies select the swarm's data-path port",
    looksAt:
      "Docker's IPsec security policies (`ip xfrm policy` in the host namespace, mark 0xd0c4e3, one per peer node): the UDP destination port of their selector against the swarm's data-path port. Engines that wrote 4789 into the policy whatever the port (moby#45635) let VXLAN to a swarm made with `--data-path-port` leave unencrypted, and the peer's encrypted-overlay rule drops it.",
    remediation:
      'Upgrade Docker Engine on every node to a release that programs the data-path port into its IPsec policies, or recreate the swarm with the default data-path port 4789 (`docker swarm init` without `--data-path-port`).',
    scope: 'node',
    failures: [16],
    needs: ['swarm'],
    causedBy: ['overlay.encryption.xfrm'],
    messages: {
      noEncrypted: 'no encrypted overlay network in the swarm',
      unreadable: '{problem}',
      none: 'no Docker IPsec policy on {node} yet (no peer with an encrypted overlay, or see overlay.encryption.xfrm)',
      match: "{count} Docker IPsec policies on {node} select udp/{port}, the swarm's data-path port",
      mismatch:
        "Docker's IPsec policies on {node} select udp/{policyPort}, but the swarm sends VXLAN on udp/{port}: traffic to {peers} leaves unencrypted and their encrypted-overlay rule drops it",
    },
  },
  applies: (ctx) => whenEncrypted(ctx),
  check({ model, node, report }) {
    if (!node.xfrmPolicy.ok) {
      report('skip', 'unreadable', { problem: node.xfrmPolicy.problem });
      return;
    }
    const port = model.cluster.dataPathPort;
    const mine = dockerPolicies(node.xfrmPolicy.value);
    if (mine.length === 0) {
      report('pass', 'none', { node: node.name });
      return;
    }
    const wrong = mine.filter((p) => p.proto === 'udp' && p.dport !== port);
    if (wrong.length === 0) {
      report('pass', 'match', { node: node.name, count: mine.length, port });
      return;
    }
    const ports = [...new Set(wrong.map((p) => p.dport ?? 'any'))].join(', ');
    const peers = wrong.map((p) => nodeLabel(model.topology, hostOf(p.dst)));
    report('fail', 'mismatch', { node: node.name, policyPort: ports, port, peers: listText(peers) });
  },
});
