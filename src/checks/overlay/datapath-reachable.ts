import { prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'overlay.datapath.reachable',
    layer: 'overlay',
    title: 'Overlay data path works between every pair of nodes',
    looksAt: 'active probe: ping from a sandbox on one node to an endpoint of the same overlay network on another node (recorded probe results)',
    remediation:
      'Allow udp/<data-path port> (4789 unless changed) both ways between the two nodes (host firewall, cloud security group), and check the MTU',
    scope: 'cluster',
    failures: [1, 4],
    needs: ['probes'],
    causedBy: [
      'host.firewall.ports',
      'host.kernel.modules',
      'overlay.vxlan.config',
      'overlay.fdb.missing',
      'overlay.fdb.wrong-dst',
      'host.offload.vxlan-checksum',
    ],
    messages: {
      probeError: 'probes could not run on {node}: {message}',
      noProbes: 'no data-path probes were recorded (no overlay network spans two collected nodes?)',
      notJoined:
        'no data-path probes: a gate pings the data path of the overlays the stack joins only, and none of them exists yet with endpoints on two of its nodes (a network the stack creates has none before the deploy)',
      ok: '{from} → {to} on {network}: {target} answered from {sandbox}',
      blocked: 'the VXLAN path {from} → {to} over udp/{port} is broken on {network}: {target} did not answer from {sandbox}{detail}',
      unconfirmed: 'could not confirm the VXLAN path {from} → {to} on {network}{detail}',
    },
  },
  check({ model, report }) {
    const probes = model.probes!;
    const port = model.cluster.dataPathPort;
    for (const e of probes.errors) report('skip', 'probeError', { node: e.node, message: e.message }, { node: e.node });
    if (probes.dataPath.length === 0) report('skip', model.stack ? 'notJoined' : 'noProbes');
    for (const p of probes.dataPath) {
      const at = { node: p.from, peer: p.to, network: p.network };
      const data = { from: p.from, to: p.to, network: p.network, target: p.target, sandbox: p.sandbox };
      if (p.state === 'ok') {
        report('pass', 'ok', data, at);
      } else if (p.state === 'blocked') {
        const peerIp = model.ipByName.get(p.to);
        const remediation =
          `allow udp/${port} both ways between ${prose(p.from)} and ${prose(p.to)} (host firewall: iptables -I INPUT -p udp --dport ${port} -s ${peerIp !== undefined ? shq(peerIp) : '<peer ip>'} -j ACCEPT; cloud security groups), ` +
          `check overlay.fdb.* for ${prose(p.from)}, and the MTU of the path`;
        report('fail', 'blocked', { ...data, port, detail: p.detail ? ` (${p.detail})` : '' }, { ...at, remediation });
      } else {
        const remediation = `re-run with probes; by hand: docker exec into a task on ${prose(p.from)} and ping ${shq(p.target)}`;
        report('warn', 'unconfirmed', { ...data, detail: p.detail ? `: ${p.detail}` : '' }, { ...at, remediation });
      }
    }
  },
});
