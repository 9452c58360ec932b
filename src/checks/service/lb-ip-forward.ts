import type { SandboxModel } from '../../model/types.js';
import { listText } from '../../text/list.js';
import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { balancerNetwork, balancerSandboxes, nsSysctl, unreadEverywhere } from './lib/netns.js';

const KEY = 'net/ipv4/ip_forward';

export default defineCheck({
  meta: {
    id: 'service.lb.ip-forward',
    layer: 'service',
    title: 'IPv4 forwarding is on inside the load-balancer sandboxes',
    looksAt:
      "/proc/sys/net/ipv4/ip_forward read inside each lb_<network> and ingress_sbox namespace: new namespaces copy it from the host's initial namespace, which is 0 on nested nodes (LXC/Proxmox containers, sysbox), and a balancer that cannot forward leaves the VIPs and the routing mesh unreachable (a warning while the node has no IPVS, the failure service.ingress.ipvs-available names)",
    remediation:
      'Inside the sandbox: nsenter --net=/var/run/docker/netns/<sandbox> sysctl -w net.ipv4.ip_forward=1 (until it is rebuilt); for good, set net.ipv4.ip_forward=1 where the namespaces inherit it from (the LXC/Proxmox or sysbox host), then systemctl restart docker on the node',
    scope: 'node',
    failures: [33],
    needs: ['sandbox-list'],
    causedBy: ['service.ingress.ipvs-available'],
    messages: {
      off: '{node}: net.ipv4.ip_forward off inside {sandboxes}: {what} unreachable from {node} (namespaces created with forwarding off, as nested LXC/sysbox nodes give)',
      offNoIpvs:
        '{node}: net.ipv4.ip_forward off inside {sandboxes} (namespaces created with forwarding off, as nested LXC/sysbox nodes give): once IPVS is loaded, {what} still unreachable from {node}',
      on: '{node}: forwarding on in {count} load-balancer sandbox(es)',
      none: '{node} has no load-balancer sandbox to read',
      unreadable: '{problem}',
    },
  },
  check({ model, node, report }) {
    const sbs = balancerSandboxes(node);
    if (sbs.length === 0) return report('pass', 'none', { node: node.name });
    const unread = unreadEverywhere(sbs, (sb) => (sb.sysctls.ok ? null : sb.sysctls.problem));
    if (unread !== null) return report('skip', 'unreadable', { problem: unread });
    let on = 0;
    const off: { sb: SandboxModel; value: string; network: string }[] = [];
    for (const sb of sbs) {
      const network = balancerNetwork(model, sb);
      const value = sb.sysctls.ok ? sb.sysctls.value.get(KEY) : undefined;
      if (!sb.sysctls.ok || value === undefined || value === null) {
        const problem = sb.sysctls.ok ? `${sb.name} on ${node.name}: ${KEY} absent` : sb.sysctls.problem;
        report('skip', 'unreadable', { problem }, { network });
      } else if (value === '1') on++;
      else off.push({ sb, value, network: network ?? sb.name });
    }
    if (off.length > 0) {
      const what = listText([
        ...(off.some((o) => o.sb.kind === 'ingress') ? ['ports published through the routing mesh'] : []),
        ...off.filter((o) => o.sb.kind !== 'ingress').map((o) => `service VIPs of ${prose(o.network)}`),
      ]);
      const fixes = off.map((o) => nsSysctl(node, o.sb, [['net.ipv4.ip_forward', '1']])).join('; ');
      const remediation = `on ${prose(node.name)}: ${fixes} (lost when a sandbox is rebuilt); for good, set net.ipv4.ip_forward=1 on the host the node's namespaces inherit it from (LXC/Proxmox or sysbox host), then systemctl restart docker on ${prose(node.name)}`;
      const sandboxes = listText(off.map((o) => `${o.sb.name} (${o.network}) = ${o.value}`));
      // Without IPVS nothing balances here yet (service.ingress.ipvs-available fails): forwarding is the next blocker.
      const noIpvs = node.ipvs?.state === 'unavailable';
      report(noIpvs ? 'warn' : 'fail', noIpvs ? 'offNoIpvs' : 'off', { node: node.name, sandboxes, what }, { remediation });
    }
    if (on > 0) report('pass', 'on', { node: node.name, count: on });
  },
});
