import { listText } from '../../text/list.js';
import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { balancerNetwork, balancerSandboxes, nsSysctl, unreadEverywhere } from './lib/netns.js';

/** What current engines set in every balancer sandbox (libnetwork's load-balancer OS tweaks), and why. */
const WANT = [
  ['net/ipv4/vs/conn_reuse_mode', '0', 'a reused client port is not held back 1 s to expire the old connection'],
  ['net/ipv4/vs/expire_nodest_conn', '1', 'connections to a removed task are dropped at once instead of hanging'],
] as const;

export default defineCheck({
  meta: {
    id: 'service.ipvs.sysctls',
    layer: 'service',
    title: 'IPVS connection-reuse sysctls inside the load-balancer sandboxes',
    looksAt:
      'net.ipv4.vs.conn_reuse_mode and net.ipv4.vs.expire_nodest_conn read inside each lb_<network> and ingress_sbox namespace where IPVS exists: with conn_reuse_mode=1 and expire_nodest_conn=0 (kernel defaults, kept by older engines) busy services see 1 s stalls and 502s during rolling updates',
    remediation:
      'Inside the sandbox: nsenter --net=/var/run/docker/netns/<sandbox> sysctl -w net.ipv4.vs.conn_reuse_mode=0 net.ipv4.vs.expire_nodest_conn=1; engines that set these themselves rebuild the sandbox with them (upgrade an older engine)',
    scope: 'node',
    failures: [12],
    needs: ['sandbox-list', 'ipvs'],
    messages: {
      kernelDefaults: '{sandbox} on {node}: {settings}: {effects} ({network})',
      tuned: '{node}: IPVS connection reuse tuned in {count} load-balancer sandbox(es)',
      none: '{node} has no load-balancer sandbox with IPVS sysctls',
      unreadable: '{problem}',
    },
  },
  check({ model, node, report }) {
    let tuned = 0;
    let warned = 0;
    const sbs = balancerSandboxes(node);
    const unread = unreadEverywhere(sbs, (sb) => (sb.sysctls.ok ? null : sb.sysctls.problem));
    if (unread !== null) return report('skip', 'unreadable', { problem: unread });
    for (const sb of sbs) {
      const network = balancerNetwork(model, sb);
      if (!sb.sysctls.ok) {
        report('skip', 'unreadable', { problem: sb.sysctls.problem }, { network });
        continue;
      }
      const values = sb.sysctls.value;
      // Absent keys: no IPVS in this namespace (service.ingress.ipvs-available says so).
      const off = WANT.filter(([k, want]) => {
        const v = values.get(k);
        return v !== undefined && v !== null && v !== want;
      });
      if (WANT.every(([k]) => values.get(k) == null)) continue;
      if (off.length === 0) {
        tuned++;
        continue;
      }
      const settings = off.map(([k]) => `${k.replaceAll('/', '.')} = ${values.get(k)}`);
      const remediation = `on ${prose(node.name)}: ${nsSysctl(
        node,
        sb,
        off.map(([k, want]) => [k.replaceAll('/', '.'), want] as const),
      )} (until the sandbox is rebuilt; engines that set these do so when they create it: upgrade an older engine)`;
      warned++;
      report(
        'warn',
        'kernelDefaults',
        {
          sandbox: sb.name,
          node: node.name,
          settings: listText(settings),
          effects: off.map(([, , why]) => `without it ${why}`).join('; '),
          network: network ?? sb.name,
        },
        { remediation, network },
      );
    }
    if (tuned > 0) report('pass', 'tuned', { node: node.name, count: tuned });
    else if (warned === 0) report('pass', 'none', { node: node.name });
  },
});
