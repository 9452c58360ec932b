import { defineCheck } from '../types.js';
import { PORT_MESSAGES, PORT_REMEDIATION, probePorts } from './lib/port-probe.js';

export default defineCheck({
  meta: {
    id: 'underlay.gossip.tcp-7946',
    layer: 'underlay',
    title: 'Gossip port reachable over TCP (tcp/7946)',
    looksAt: 'active probe between every ordered pair of nodes: TCP connect to 7946',
    remediation: PORT_REMEDIATION,
    scope: 'cluster',
    failures: [1, 8],
    needs: ['probes'],
    causedBy: ['host.firewall.ports', 'host.listen.ports'],
    messages: PORT_MESSAGES,
  },
  check: probePorts((p) => p.purpose === 'gossip' && p.proto === 'tcp'),
});
