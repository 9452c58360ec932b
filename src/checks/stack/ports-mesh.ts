import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { at, collected, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.ports.mesh',
    layer: 'stack',
    title: 'The routing mesh and VIPs the stack uses work',
    looksAt:
      "Ingress-mode published ports (the routing mesh listens on every node, through IPVS) and VIP services (IPVS in each node's load-balancer sandbox); dnsrr services cannot publish in ingress mode.",
    remediation:
      'Load ip_vs on the nodes (`modprobe ip_vs ip_vs_rr`), or publish in host mode (`mode: host`) and use `endpoint_mode: dnsrr` where IPVS cannot be had.',
    causedBy: ['host.kernel.modules'],
    scope: 'cluster',
    failures: [32],
    needs: ['stack'],
    messages: {
      ok: '{service}: {what} can be balanced on {nodes}',
      dnsrrIngress:
        '{service}: endpoint_mode dnsrr with ingress-published ports {ports}; docker refuses it ("port published with ingress mode can\'t be used with dnsrr mode")',
      noMesh: '{service}: ingress ports {ports} need IPVS on every node, and {nodes} have none: the port does not answer there',
      noVip: '{service}: VIP load balancing needs IPVS where its tasks run, and {nodes} have none: connections to the service name fail there',
      unknown: '{service}: {what} needs IPVS; not verified without a live run (--no-live)',
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    const noIpvs = (names: Iterable<string>) =>
      collected(model, names)
        .filter((n) => n.ipvs?.state === 'unavailable')
        .map((n) => n.name);
    const live = model.nodes.some((n) => n.host !== null);
    for (const p of st.services) {
      const s = p.svc;
      const ingress = s.ports.filter((x) => x.mode === 'ingress' && x.published !== null).map((x) => `${x.published}/${x.protocol}`);
      const where = at(model, ['services', s.key, ingress.length > 0 ? 'ports' : 'deploy'], { service: s.name });
      if (s.endpointMode === 'dnsrr' && ingress.length > 0) {
        report('fail', 'dnsrrIngress', { service: s.name, ports: listText(ingress) }, where);
        continue;
      }
      const what = [ingress.length > 0 ? `ingress ${listText(ingress)}` : null, s.endpointMode === 'vip' ? 'its VIP' : null]
        .filter(Boolean)
        .join(' and ');
      if (what === '') continue;
      if (!live) {
        report('skip', 'unknown', { service: s.name, what }, where);
        continue;
      }
      const meshless = ingress.length > 0 ? noIpvs(model.nodes.map((n) => n.name)) : [];
      if (meshless.length > 0) {
        report('fail', 'noMesh', { service: s.name, ports: listText(ingress), nodes: listText(meshless) }, where);
        continue;
      }
      const vipless = s.endpointMode === 'vip' ? noIpvs(p.candidates) : [];
      if (vipless.length > 0) report('fail', 'noVip', { service: s.name, nodes: listText(vipless) }, where);
      else report('pass', 'ok', { service: s.name, what, nodes: listText(p.candidates) }, where);
    }
  },
});
