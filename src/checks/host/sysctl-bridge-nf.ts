import { defineCheck } from '../types.js';
import { persistSysctl, sysctlValue } from './lib/sysctl.js';

export default defineCheck({
  meta: {
    id: 'host.sysctl.bridge-nf',
    layer: 'host',
    title: 'Bridged traffic passes iptables',
    looksAt: 'net.bridge.bridge-nf-call-iptables (and -ip6tables) when br_netfilter provides them.',
    remediation: '`sysctl -w net.bridge.bridge-nf-call-iptables=1` and persist it in /etc/sysctl.d/.',
    scope: 'node',
    failures: [],
    messages: {
      notCollected: '{problem}',
      absent: 'net.bridge.bridge-nf-call-iptables does not exist (br_netfilter not loaded, see host.kernel.modules); nothing to compare',
      on: 'net.bridge.bridge-nf-call-iptables = 1{v6}',
      off: "net.bridge.bridge-nf-call-iptables = {value} on {node}: traffic between containers on one bridge skips iptables, so Docker's isolation rules and hairpin NAT to published ports do not apply to it.",
    },
  },
  check({ node, report }) {
    const r = sysctlValue(node, 'net/bridge/bridge-nf-call-iptables');
    if ('problem' in r) return report('skip', 'notCollected', { problem: r.problem });
    if (r.value === null) return report('pass', 'absent');
    const v6 = node.host!.sysctls['net/bridge/bridge-nf-call-ip6tables'];
    if (r.value === '1') return report('pass', 'on', { v6: v6 ? `, -ip6tables = ${v6}` : '' });
    report('warn', 'off', { value: r.value, node: node.name }, { remediation: persistSysctl(node.name, 'net.bridge.bridge-nf-call-iptables', '1') });
  },
});
