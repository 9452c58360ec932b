import { prose } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { balancerNetwork, balancerSandboxes, unreadEverywhere } from './lib/netns.js';

/** The kernel's default IPVS idle timeout for established TCP (s): Docker keeps it. */
const TCP_DEFAULT = 900;

const KEEPALIVE =
  "keep idle connections through a VIP alive below it (TCP keepalive under the timeout: net.ipv4.tcp_keepalive_time=600 in the client container, or the client library's keepalive/idle-ping), or use --endpoint-mode dnsrr for long-lived idle connections";

export default defineCheck({
  meta: {
    id: 'service.ipvs.timeout',
    layer: 'service',
    title: 'IPVS idle timeouts inside the load-balancer sandboxes',
    looksAt:
      'ipvsadm -L --timeout inside each lb_<network> and ingress_sbox namespace where IPVS exists: an established TCP connection idle longer than the tcp timeout (900 s by default) loses its IPVS entry, and its next packets are dropped (idle DB/AMQP connections through a VIP hang after 15 minutes)',
    remediation: `Keep idle connections under the IPVS tcp timeout: ${KEEPALIVE}`,
    scope: 'node',
    failures: [11],
    needs: ['sandbox-list', 'ipvs'],
    messages: {
      shorter:
        '{sandbox} on {node}: IPVS drops TCP connections idle for {tcp} s, shorter than the {default} s default ({network}): something lowered it; idle connections through the VIP hang after {tcp} s',
      idle: '{node}: IPVS idle timeout tcp {tcp} s (tcpfin {tcpfin} s, udp {udp} s) in {count} sandbox(es): connections idle longer hang; {advice}',
      unreadable: '{problem}',
      none: '{node} has no load-balancer sandbox with IPVS',
    },
  },
  check({ model, node, report }) {
    const seen: { tcp: number; tcpfin: number; udp: number }[] = [];
    const sbs = balancerSandboxes(node);
    const unread = unreadEverywhere(sbs, (sb) => (sb.ipvsTimeout.state === 'unreadable' ? sb.ipvsTimeout.reason : null));
    if (unread !== null) return report('skip', 'unreadable', { problem: unread });
    for (const sb of sbs) {
      const t = sb.ipvsTimeout;
      const network = balancerNetwork(model, sb);
      if (t.state === 'unavailable') continue;
      if (t.state === 'unreadable') {
        report('skip', 'unreadable', { problem: t.reason }, { network });
        continue;
      }
      seen.push(t.value);
      if (t.value.tcp > 0 && t.value.tcp < TCP_DEFAULT) {
        const remediation = `on ${prose(node.name)}: find what set it (ipvsadm --set, a tuning script) and remove it, or ${KEEPALIVE}`;
        report(
          'warn',
          'shorter',
          { sandbox: sb.name, node: node.name, tcp: t.value.tcp, default: TCP_DEFAULT, network: network ?? sb.name },
          { remediation, network },
        );
      }
    }
    if (seen.length === 0) return report('pass', 'none', { node: node.name });
    const max = seen.reduce((a, b) => (b.tcp > a.tcp ? b : a));
    report('pass', 'idle', { node: node.name, tcp: max.tcp, tcpfin: max.tcpfin, udp: max.udp, count: seen.length, advice: KEEPALIVE });
  },
});
