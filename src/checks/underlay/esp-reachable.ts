import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { PORT_MESSAGES, probePorts } from './lib/port-probe.js';

export default defineCheck({
  meta: {
    id: 'underlay.esp.reachable',
    layer: 'underlay',
    title: 'IPsec ESP passes between nodes (encrypted overlays)',
    looksAt:
      "Only when an overlay is encrypted: active probe between every ordered pair of nodes that both have an encrypted overlay (in a gate: the stack's encrypted networks over their candidate nodes). The sender writes 3 ESP packets (IP protocol 50) through a raw socket (perl, else python3) with an SPI from the reserved range 1–255, which no SA uses: no xfrm state is created and the receiver's kernel drops them; the receiver's capture (the same tcpdump as the UDP probes) sees them first, and the receiver's own INPUT rules are evaluated for ESP from the sender. A send refused by the sender's kernel is its OUTPUT rule. IPv4 nodes only.",
    remediation:
      'Allow IP protocol 50 (ESP) between the nodes: on the receiver `iptables -I INPUT -p esp -s <sender> -j ACCEPT` (on the sender `-I OUTPUT -p esp -d <receiver>` when its OUTPUT drops it), persisted, and protocol 50 in cloud security groups.',
    scope: 'cluster',
    failures: [14],
    causedBy: ['host.firewall.ports'],
    messages: {
      ...PORT_MESSAGES,
      notNeeded: 'no encrypted overlay networks: ESP is not needed',
      noProbes:
        'encrypted overlays ({networks}) need ESP between nodes; active probes were not run (--no-probe, or a snapshot without probes): see host.firewall.ports and overlay.encryption.xfrm',
      noPairs:
        'encrypted overlays ({networks}) need ESP between nodes, but no pair was probed: no two probed nodes both have one (or the probes were recorded before netdoctor probed ESP)',
    },
  },
  check(ctx) {
    const { model, report } = ctx;
    // Probed: between nodes sharing an existing encrypted overlay, or (gate) a network the stack will create.
    if (model.probes?.ports.some((p) => p.purpose === 'esp')) return probePorts((p) => p.purpose === 'esp')(ctx);
    const encrypted = model.networks.filter((n) => n.encrypted).map((n) => n.name);
    if (encrypted.length === 0) return report('pass', 'notNeeded');
    const networks = listText(encrypted);
    if (model.probes === null) return report('skip', 'noProbes', { networks });
    report('skip', 'noPairs', { networks });
  },
});
