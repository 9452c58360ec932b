import { portMarks, taskIps } from '../../model/lb.js';
import { findFwmarkService } from '../../parse/ipvs.js';
import { defineCheck } from '../types.js';
import { BACKEND_MESSAGES, reportBackends } from './lib/backends.js';
import { ingressSandbox, NO_PORTS, servicesOf } from './lib/lb.js';

export default defineCheck({
  meta: {
    id: 'service.ingress.backends',
    layer: 'service',
    title: 'Routing-mesh IPVS backends are the running tasks',
    looksAt:
      "ipvsadm -Ln in ingress_sbox: the fwmark service of each published service must list exactly the running tasks' addresses on the ingress network (weight 0 = draining)",
    remediation:
      'docker service update --force <service> (re-programs the backends); by hand: nsenter --net=/var/run/docker/netns/ingress_sbox ipvsadm -d -f <mark> -r <stale ip>:0',
    scope: 'node',
    failures: [],
    needs: ['sandbox-list', 'ipvs'],
    causedBy: ['service.ingress.sandbox', 'service.ingress.mark', 'service.ingress.ipvs-available', 'host.kernel.modules'],
    messages: {
      ...BACKEND_MESSAGES,
      noPorts: NO_PORTS,
      noIngressNetwork: 'the swarm has no ingress network (see service.ingress.sandbox)',
      noSandbox: 'no ingress_sbox on {node} (see service.ingress.sandbox)',
      unreadable: '{problem}',
      noMark: 'no fwmark for {service} in ingress_sbox on {node} (see service.ingress.mark)',
    },
  },
  applies({ model, report }) {
    if (model.ingressPorts.length === 0) report('pass', 'noPorts');
    else if (!model.ingress) report('skip', 'noIngressNetwork');
    return model.ingressPorts.length > 0 && model.ingress !== undefined;
  },
  check({ model, node, report }) {
    const ingress = model.ingress!;
    const at = { network: ingress.name };
    const sb = ingressSandbox(node);
    if (!sb) return report('skip', 'noSandbox', { node: node.name }, at);
    if (sb.ipvs.state !== 'ok') return report('skip', 'unreadable', { problem: sb.ipvs.reason }, at);
    if (!sb.mangle.ok) return report('skip', 'unreadable', { problem: sb.mangle.problem }, at);
    const [table, mangle] = [sb.ipvs.table, sb.mangle.value];
    const ports = model.ingressPorts;
    for (const svc of servicesOf(ports)) {
      const marks = ports.filter((p) => p.service.id === svc.id).flatMap((p) => portMarks(mangle, p.protocol, p.port));
      const mark = marks[0];
      if (mark === undefined) {
        report('skip', 'noMark', { service: svc.name, node: node.name }, at);
        continue;
      }
      const expected = taskIps(svc, ingress);
      reportBackends((status, id, data, extra) => report(status, id, data, { ...at, ...extra }), {
        node,
        sandbox: sb.name,
        service: svc.name,
        mark,
        ipvs: findFwmarkService(table, mark),
        expected,
      });
    }
  },
});
