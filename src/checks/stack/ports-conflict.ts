import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { at, collected, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.ports.conflict',
    layer: 'stack',
    title: 'Published ports are free',
    looksAt:
      'Each published port of the stack against the ports other services publish (ingress mode: cluster-wide; host mode: on the nodes the service can land on) and, in live runs, what listens on those nodes.',
    remediation: 'Publish another port, or remove or move the service that holds it (`docker service update --publish-rm PORT SERVICE`).',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      free: '{service}: {port} is free',
      ingressTaken: '{service}: ingress port {port} is already published by {other}; docker stack deploy fails ("port already in use")',
      hostTaken: '{service}: host port {port} is already published in host mode by {other}, which can run on the same nodes ({nodes})',
      listening: '{service}: host port {port} is in use on {nodes} ({process}); tasks placed there fail to start',
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    const mine = (name: string) => name.startsWith(`${st.stack.name}_`);
    for (const p of st.services) {
      for (const port of p.svc.ports) {
        if (port.published === null) continue;
        const text = `${port.published}/${port.protocol}`;
        const where = at(model, ['services', p.svc.key, 'ports'], { service: p.svc.name });
        const same = (o: { protocol: string; publishedPort: number | null; publishMode: string }) =>
          o.publishedPort === port.published && o.protocol === port.protocol && o.publishMode === port.mode;
        const others = model.cluster.services.filter((o) => !mine(o.name) && o.ports.some(same)).map((o) => o.name);
        const data = { service: p.svc.name, port: text };
        if (port.mode === 'ingress' && others.length > 0) {
          report('fail', 'ingressTaken', { ...data, other: listText(others) }, where);
          continue;
        }
        if (port.mode === 'host') {
          if (others.length > 0) {
            report('fail', 'hostTaken', { ...data, other: listText(others), nodes: listText(p.candidates) }, where);
            continue;
          }
          const busy = collected(model, p.candidates).flatMap((n) => {
            const l = n.host!.listening;
            if ('unavailable' in l) return [];
            const hit = l.find((x) => x.port === port.published && x.proto.startsWith(port.protocol));
            return hit ? [{ node: n.name, process: hit.process ?? 'a process' }] : [];
          });
          if (busy.length > 0) {
            report(
              'fail',
              'listening',
              { ...data, nodes: listText(busy.map((b) => b.node)), process: listText([...new Set(busy.map((b) => b.process))]) },
              where,
            );
            continue;
          }
        }
        report('pass', 'free', data, where);
      }
    }
  },
});
