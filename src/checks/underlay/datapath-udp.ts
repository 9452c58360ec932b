import { defineCheck } from '../types.js';
import { PORT_MESSAGES, PORT_REMEDIATION, probePorts } from './lib/port-probe.js';

export default defineCheck({
  meta: {
    id: 'underlay.datapath.udp',
    layer: 'underlay',
    title: 'Overlay data-path port reachable (VXLAN over UDP)',
    looksAt: 'active probe between every ordered pair of nodes: UDP datagrams to the swarm data-path port, confirmed by a capture on the receiver',
    remediation: PORT_REMEDIATION,
    scope: 'cluster',
    failures: [1, 4],
    needs: ['probes'],
    causedBy: ['host.firewall.ports', 'host.listen.ports'],
    messages: PORT_MESSAGES,
  },
  check: probePorts((p) => p.purpose === 'data-path'),
});
