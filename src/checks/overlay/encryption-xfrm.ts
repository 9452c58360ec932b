import { nodeLabel } from '../../model/topology.js';
import { listText } from '../../text/list.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { forceUpdate, servicesOn } from './lib/sandbox.js';

export default defineCheck({
  meta: {
    id: 'overlay.encryption.xfrm',
    layer: 'overlay',
    title: 'Encrypted overlays have IPsec SAs to every peer node',
    looksAt:
      'ip xfrm state in the sandbox of each encrypted overlay network: ESP SAs in both directions between this node and every other node hosting the network',
    remediation:
      'Load esp4 and xfrm_user (modprobe esp4 xfrm_user), allow ESP (IP protocol 50) both ways between the nodes, then docker service update --force <service> so the keys are exchanged again',
    scope: 'network-node',
    failures: [14],
    needs: ['advertise-address'],
    causedBy: ['host.kernel.modules', 'underlay.esp.reachable'],
    messages: {
      unreadable: '{problem}',
      alone: 'no other node hosts {network}; no SA needed',
      noSas: 'encrypted overlay has no IPsec SAs: traffic is dropped ({sandbox} on {node} has no ESP state toward {peers}){modNote}',
      present: 'ESP SAs {node} ⇄ {peer} present',
      missing: 'encrypted overlay {network}: no ESP SA for {directions} in {sandbox}: that direction is dropped{modNote}',
    },
  },
  appliesTo: (network) => network.encrypted,
  check({ model, node, network, sandbox, report }) {
    if (!sandbox.xfrm.ok) {
      report('skip', 'unreadable', { problem: sandbox.xfrm.problem });
      return;
    }
    const t = model.topology;
    const addr = node.addr!;
    const esp = sandbox.xfrm.value.filter((s) => s.proto === 'esp');
    const peers = new Set<string>();
    for (const m of model.overlay.members(network)) if (m.hostIp !== addr && t.nameByIp.has(m.hostIp)) peers.add(m.hostIp);
    for (const [name] of model.overlay.hosting(network)) {
      const ip = t.ipByName.get(name);
      if (ip && ip !== addr) peers.add(ip);
    }
    if (peers.size === 0) {
      report('pass', 'alone', { network: network.name });
      return;
    }
    const modNote = node.host!.modules.esp4 === false ? `; kernel module esp4 is not loaded on ${prose(node.name)} (see the host checks)` : '';
    const allowEsp = (peer: string, ip: string | null) =>
      ip !== null
        ? `on ${prose(node.name)}: iptables -I INPUT -p esp -s ${shq(ip)} -j ACCEPT; on ${prose(peer)}: iptables -I INPUT -p esp -s ${shq(addr)} -j ACCEPT`
        : 'iptables -I INPUT -p esp -s <peer ip> -j ACCEPT';
    const remedy = (peer: string, ip: string | null) =>
      `on ${prose(node.name)} and ${prose(peer)}: modprobe esp4 xfrm_user; allow ESP between them (${allowEsp(peer, ip)}); then ${forceUpdate(servicesOn(model, node.name, network))}`;
    const base = { node: node.name, network: network.name, sandbox: sandbox.name, modNote };
    if (esp.length === 0) {
      const names = [...peers].map((ip) => nodeLabel(t, ip));
      report(
        'fail',
        'noSas',
        { ...base, peers: listText(names) },
        { remediation: remedy(names.join(', '), peers.size === 1 ? [...peers][0]! : null) },
      );
      return;
    }
    for (const ip of peers) {
      const peer = nodeLabel(t, ip);
      const outbound = esp.some((s) => s.src === addr && s.dst === ip);
      const inbound = esp.some((s) => s.src === ip && s.dst === addr);
      if (outbound && inbound) {
        report('pass', 'present', { node: node.name, peer }, { peer });
        continue;
      }
      const directions = [!outbound ? `${node.name} → ${peer}` : null, !inbound ? `${peer} → ${node.name}` : null].filter(Boolean).join(' and ');
      report('fail', 'missing', { ...base, directions }, { peer, remediation: remedy(peer, ip) });
    }
  },
});
