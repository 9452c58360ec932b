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
    messages: {
      off: '{sandbox} on {node}: net.ipv4.ip_forward = {value} inside the load balancer of {network}: {what} unreachable from {node} (a namespace created with forwarding off, as nested LXC/sysbox nodes give)',
      offNoIpvs:
        '{sandbox} on {node}: net.ipv4.ip_forward = {value} inside the load balancer of {network} (a namespace created with forwarding off, as nested LXC/sysbox nodes give): once IPVS is loaded, {what} still unreachable from {node}',
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
    for (const sb of sbs) {
      const network = balancerNetwork(model, sb);
      if (!sb.sysctls.ok) {
        report('skip', 'unreadable', { problem: sb.sysctls.problem }, { network });
        continue;
      }
      const value = sb.sysctls.value.get(KEY);
      if (value === undefined || value === null) {
        report('skip', 'unreadable', { problem: `${sb.name} on ${node.name}: ${KEY} absent` }, { network });
        continue;
      }
      if (value === '1') {
        on++;
        continue;
      }
      const what = sb.kind === 'ingress' ? 'ports published through the routing mesh are' : 'service VIPs of this network are';
      const remediation = `on ${prose(node.name)}: ${nsSysctl(node, sb, [['net.ipv4.ip_forward', '1']])} (lost when the sandbox is rebuilt); for good, set net.ipv4.ip_forward=1 on the host the node's namespaces inherit it from (LXC/Proxmox or sysbox host), then systemctl restart docker on ${prose(node.name)}`;
      // Without IPVS nothing balances here yet (service.ingress.ipvs-available fails): forwarding is the next blocker.
      const noIpvs = node.ipvs?.state === 'unavailable';
      report(noIpvs ? 'warn' : 'fail', noIpvs ? 'offNoIpvs' : 'off', { sandbox: sb.name, node: node.name, value, network: network ?? sb.name, what }, { remediation, network });
    }
    if (on > 0) report('pass', 'on', { node: node.name, count: on });
  },
});
