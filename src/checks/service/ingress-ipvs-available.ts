import { portText } from '../../model/lb.js';
import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { vipUsers } from './lib/lb.js';
import { prose } from '../../text/shell.js';

const REMEDY =
  "modprobe ip_vs && modprobe ip_vs_rr (persist: printf 'ip_vs\\nip_vs_rr\\n' > /etc/modules-load.d/ipvs.conf), then systemctl restart docker; if the kernel has no IPVS at all, use one built with CONFIG_IP_VS, or publish with --publish mode=host and --endpoint-mode dnsrr";

export default defineCheck({
  meta: {
    id: 'service.ingress.ipvs-available',
    layer: 'service',
    title: 'IPVS is available for the routing mesh and service VIPs',
    looksAt:
      'ipvsadm -Ln in ingress_sbox (or an lb_ sandbox) on each node: whether the kernel has IPVS at all; which ingress-published ports and VIP services depend on it there',
    remediation:
      'Load IPVS on the node (modprobe ip_vs ip_vs_rr; persist in /etc/modules-load.d/), then systemctl restart docker there; on a kernel built without IPVS, use a kernel with CONFIG_IP_VS or publish with mode=host and endpoint-mode dnsrr',
    scope: 'node',
    failures: [32],
    needs: ['sandbox-list'],
    causedBy: ['host.kernel.modules'],
    messages: {
      noSandbox: '{node} has no ingress_sbox or lb_ sandbox to read IPVS from (see service.ingress.sandbox)',
      unreadable: '{reason}',
      available: 'IPVS available on {node} ({sandbox}: {count} service(s))',
      missingUsed: '{node} has no IPVS ({sandbox}: {reason}{moduleNote}): {broken}',
      missingUnused:
        '{node} has no IPVS ({sandbox}: {reason}{moduleNote}): nothing uses it yet, but publishing a port or creating a VIP service will not work',
    },
  },
  check({ model, node, report }) {
    const r = node.ipvs;
    if (r === null) {
      report('skip', 'noSandbox', { node: node.name });
      return;
    }
    if (r.state === 'unreadable') {
      report('skip', 'unreadable', { reason: r.reason });
      return;
    }
    if (r.state === 'ok') {
      report('pass', 'available', { node: node.name, sandbox: r.sandbox, count: r.table.services.length });
      return;
    }
    const ports = model.ingressPorts;
    const vips = vipUsers(model, node);
    const broken = [
      ports.length > 0 ? `published ports ${listText(ports.map(portText))} do not answer on ${prose(node.name)}` : null,
      vips.length > 0 ? `VIP load balancing of ${listText(vips)} does not work from ${prose(node.name)}` : null,
    ].filter((x): x is string => x !== null);
    const data = {
      node: node.name,
      sandbox: r.sandbox,
      reason: r.reason,
      moduleNote: node.host!.modules.ip_vs === false ? '; kernel module ip_vs is not loaded' : '',
    };
    const remediation = `on ${prose(node.name)}: ${REMEDY}`;
    if (broken.length > 0) report('fail', 'missingUsed', { ...data, broken: broken.join('; ') }, { remediation });
    else report('warn', 'missingUnused', data, { remediation });
  },
});
