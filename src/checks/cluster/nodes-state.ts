import type { NodeSummary } from '../../cluster/nodes.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

const AVAILABILITY: Record<string, string> = {
  drain: 'it runs no service tasks (ingress still routes through it)',
  pause: 'no new tasks are scheduled on it',
};

const role = (n: NodeSummary, extra: string | null): string => `${n.role}${extra ? `, ${extra}` : ''}`;

export default defineCheck({
  meta: {
    id: 'cluster.nodes.state',
    layer: 'cluster',
    title: 'Nodes ready and active',
    looksAt: 'Status.State (ready/down/unknown/disconnected) and Spec.Availability (active/pause/drain) of every node.',
    remediation: 'On the node: `systemctl status docker` and its journal; `docker node inspect <node> --format "{{.Status.Message}}"` on a manager.',
    scope: 'cluster',
    failures: [30],
    needs: ['swarm'],
    messages: {
      notReady:
        '{name} ({role}) is {state}: the managers do not get its heartbeats, its tasks are rescheduled elsewhere and no overlay traffic reaches it.',
      notActive: '{name} availability is {availability}: {effect}.',
      ok: '{name} is ready and active ({role})',
    },
  },
  check({ model, report }) {
    for (const n of model.cluster.nodes) {
      const node = shq(n.name);
      let problems = 0;
      if (n.state !== 'ready') {
        problems++;
        report(
          n.state === 'down' ? 'fail' : 'warn',
          'notReady',
          { name: n.name, role: role(n, n.advertiseAddress), state: n.state },
          {
            node: n.name,
            remediation: `On ${prose(n.name)}: \`systemctl status docker\` and \`journalctl -u docker -n 100\`; on a manager ${code(`docker node inspect ${node} --format '{{.Status.Message}}'`)}, and check 2377/tcp and 7946 tcp+udp from ${prose(n.name)} to the managers. If it was removed for good: ${code(`docker node rm ${node}`)}.`,
          },
        );
      }
      if (n.availability !== 'active') {
        problems++;
        const effect = Object.hasOwn(AVAILABILITY, n.availability) ? AVAILABILITY[n.availability]! : 'the scheduler does not use it normally';
        report(
          'warn',
          'notActive',
          { name: n.name, availability: n.availability, effect },
          {
            node: n.name,
            remediation: `When the maintenance is over: ${code(`docker node update --availability active ${node}`)}.`,
          },
        );
      }
      if (problems === 0) report('pass', 'ok', { name: n.name, role: role(n, n.managerStatus) }, { node: n.name });
    }
  },
});
