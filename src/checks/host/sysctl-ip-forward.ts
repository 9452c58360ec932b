import { defineCheck } from '../types.js';
import { persistSysctl, sysctlValue } from './lib/sysctl.js';

export default defineCheck({
  meta: {
    id: 'host.sysctl.ip-forward',
    layer: 'host',
    title: 'IPv4 forwarding enabled',
    looksAt:
      'net.ipv4.ip_forward on each node (Docker sets it to 1 at start; something that resets it later breaks published ports and container egress).',
    remediation: '`sysctl -w net.ipv4.ip_forward=1` and persist it in /etc/sysctl.d/.',
    scope: 'node',
    failures: [],
    messages: {
      notCollected: '{problem}',
      unreadable: 'net.ipv4.ip_forward could not be read',
      on: 'net.ipv4.ip_forward = 1',
      off: 'net.ipv4.ip_forward = {value} on {node}: the node does not route between docker_gwbridge and the underlay, so published ports and container traffic leaving the host fail (Docker sets it to 1 at start; a later `sysctl --system` or a tuning profile reset it).',
    },
  },
  check({ node, report }) {
    const r = sysctlValue(node, 'net/ipv4/ip_forward');
    if ('problem' in r) return report('skip', 'notCollected', { problem: r.problem });
    if (r.value === null) return report('skip', 'unreadable');
    if (r.value === '1') return report('pass', 'on');
    report('fail', 'off', { value: r.value, node: node.name }, { remediation: persistSysctl(node.name, 'net.ipv4.ip_forward', '1') });
  },
});
