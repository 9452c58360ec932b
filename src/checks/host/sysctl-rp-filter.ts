import { isDockerInterface } from '../../model/nodes.js';
import { isLoopback } from '../../net/ip.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { sysctlValue } from './lib/sysctl.js';
import { prose } from '../../text/shell.js';

export default defineCheck({
  meta: {
    id: 'host.sysctl.rp-filter',
    layer: 'host',
    title: 'Reverse-path filtering not strict',
    looksAt: "net.ipv4.conf.all.rp_filter and conf.default.rp_filter (the kernel uses the larger of `all` and the interface's own value).",
    remediation: 'Use loose mode: `sysctl -w net.ipv4.conf.all.rp_filter=2` (and default), persisted in /etc/sysctl.d/.',
    scope: 'node',
    failures: [],
    messages: {
      notCollected: '{problem}',
      unreadable: 'net.ipv4.conf.all.rp_filter could not be read',
      notStrict: 'rp_filter: all = {all}, default = {default} (not strict everywhere)',
      strictMulti:
        'net.ipv4.conf.all.rp_filter = 1 (strict) on {node}{defaultNote}: every interface drops packets whose source it would not route back through the same interface; {node} has {count} addressed interfaces ({interfaces}), so VXLAN or published-port traffic arriving on one and answered via another is dropped silently.',
      strictSingle:
        'net.ipv4.conf.all.rp_filter = 1 (strict) on {node}{defaultNote}: every interface drops packets whose source it would not route back through the same interface; harmless while the node has a single underlay interface, but it drops overlay and routing-mesh traffic as soon as routes become asymmetric (a second NIC, a VPN, policy routing).',
    },
  },
  check({ node, report }) {
    const all = sysctlValue(node, 'net/ipv4/conf/all/rp_filter');
    if ('problem' in all) return report('skip', 'notCollected', { problem: all.problem });
    if (all.value === null) return report('skip', 'unreadable');
    const def = node.host!.sysctls['net/ipv4/conf/default/rp_filter'] ?? null;
    if (all.value !== '1') return report('pass', 'notStrict', { all: all.value, default: def ?? '?' });
    const underlay = node.host!.interfaces.filter(
      (i) => i.name !== 'lo' && !isDockerInterface(i.name) && i.addresses.some((a) => a.family === 'inet' && !isLoopback(a.address)),
    );
    const data = { node: node.name, defaultNote: def !== null ? `, default = ${def}` : '' };
    const remediation = `On ${prose(node.name)}: \`sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2\` (loose) and persist both in /etc/sysctl.d/90-swarm.conf.`;
    if (underlay.length > 1) {
      report('warn', 'strictMulti', { ...data, count: underlay.length, interfaces: listText(underlay.map((i) => i.name)) }, { remediation });
    } else report('warn', 'strictSingle', data, { remediation });
  },
});
