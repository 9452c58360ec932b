import { defineCheck } from '../types.js';
import { PORT_MESSAGES, PORT_REMEDIATION, probePorts } from './lib/port-probe.js';

export default defineCheck({
  meta: {
    id: 'underlay.manager.tcp-2377',
    layer: 'underlay',
    title: 'Cluster management port reachable (tcp/2377 to managers)',
    looksAt: 'active probe between every ordered pair of nodes: TCP connect to 2377 on each manager',
    remediation: PORT_REMEDIATION,
    scope: 'cluster',
    failures: [1],
    needs: ['probes'],
    causedBy: ['host.firewall.ports', 'host.listen.ports'],
    messages: PORT_MESSAGES,
  },
  check: probePorts((p) => p.purpose === 'manager'),
});
