import { parseCidr } from '../../net/ip.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.network.size',
    layer: 'stack',
    title: "The stack's subnets have room",
    looksAt:
      'Per network the stack creates: its tasks (replicas, or one per eligible node for global services), one VIP per VIP service and one load-balancer endpoint per node that hosts the network, against the subnet size minus network, broadcast and gateway (FAILURES.md #21).',
    remediation: 'Give the network a larger subnet (a /22 holds about 1000 addresses), or split the services over several networks.',
    scope: 'cluster',
    failures: [21],
    needs: ['stack'],
    messages: {
      room: '{network}: {needed} of {capacity} addresses of {subnet} needed',
      tooSmall:
        '{network}: {subnet} holds {capacity} addresses but the stack needs {needed} ({tasks} tasks, {vips} VIPs, {lbs} load-balancer endpoints); tasks beyond it stay in NEW ("could not find an available IP")',
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    const plans = new Map(st.services.map((p) => [p.svc.key, p]));
    for (const p of st.networks.filter((x) => !x.net.external && x.existing === undefined)) {
      const subnet = p.net.subnets[0] ?? `10.0.0.0/${model.cluster.subnetSize ?? 24}`;
      const c = parseCidr(subnet);
      if (c?.family !== 4) continue;
      const capacity = 2 ** (32 - c.prefix) - 3;
      const tasks = p.services.reduce((n, s) => n + (s.mode === 'global' ? (plans.get(s.key)?.candidates.length ?? 0) : s.replicas), 0);
      const vips = p.services.filter((s) => s.endpointMode === 'vip').length;
      const hosts = new Set(p.services.flatMap((s) => plans.get(s.key)?.candidates ?? []));
      const needed = tasks + vips + hosts.size;
      const data = {
        network: p.net.name,
        subnet: p.net.subnets[0] ?? `a /${c.prefix} from the default pool`,
        capacity,
        needed,
        tasks,
        vips,
        lbs: hosts.size,
      };
      const where = at(model, ['networks', p.net.key], { network: p.net.name });
      if (needed > capacity) report('fail', 'tooSmall', data, where);
      else report('pass', 'room', data, where);
    }
  },
});
