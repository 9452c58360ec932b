import type { AllocationFailure, PendingTask } from '../../model/ctlplane.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { groupBy } from '../overlay/lib/sandbox.js';
import { defineCheck } from '../types.js';

/** A task younger than this may just be on its way (scheduling takes a moment). */
export const GRACE_SEC = 30;

/**
 * Docker's own words when an overlay has no address left or its pool cannot
 * be had (swarmkit's allocator and libnetwork's IPAM): literal alternatives,
 * matched case-insensitively (linear).
 */
const IPAM_ERRORS =
  /no available ip|could not find an available ip|failed to allocate network ip|no available network|pool overlaps|invalid pool request/i;

/** Docker's reason: the task's own error, else the managers' log line about it, else its status message. */
const reasonOf = (t: PendingTask, log: ReadonlyMap<string, AllocationFailure>): string => {
  const a = log.get(t.id);
  return t.err || (a ? `${a.error} (${a.node}'s dockerd: failed to allocate network IP for task …)` : '') || t.message || 'no reason given';
};
const ageText = (t: PendingTask): string => (t.ageSec === null || t.ageSec < 0 ? 'for an unknown time' : `for ${t.ageSec} s`);

export default defineCheck({
  meta: {
    id: 'cluster.tasks.pending',
    layer: 'cluster',
    title: 'No task the swarm wants running is stuck before a node takes it',
    looksAt:
      "Tasks whose desired state is running but that are still NEW, ALLOCATED or PENDING in the manager's task list, with docker's reason: the task's status error (`no suitable node (…)`), or, for a task left in NEW (status `created`, no error), the managers' dockerd line `failed to allocate network IP for task <id> network <id>: could not find an available IP`; per service and network (FAILURES.md #21: an exhausted overlay leaves tasks in NEW; #20: a pool that cannot be allocated).",
    remediation:
      '`docker service ps --no-trunc SERVICE` shows the error in full. For address exhaustion, move the service to a larger overlay; for `no suitable node`, relax the placement constraints or free resources.',
    scope: 'cluster',
    failures: [20, 21],
    needs: ['swarm'],
    messages: {
      none: 'no task is stuck: every task the swarm wants running got past scheduling',
      young: '{count} of {service} {state} {age} (under {grace} s: still being scheduled)',
      ipam: '{count} of {service} stuck in {state} {age} on {networks}: "{reason}": the network has no address left to give it',
      stuck: '{count} of {service} stuck in {state} {age}: "{reason}"',
    },
  },
  check({ model, report }) {
    const pending = model.controlPlane.pendingTasks;
    const log = model.controlPlane.allocationFailures;
    const why = (t: PendingTask) => reasonOf(t, log);
    if (pending.length === 0) {
      report('pass', 'none');
      return;
    }
    for (const [, group] of groupBy(pending, (t) => `${t.serviceId} ${t.state} ${why(t)}`)) {
      const t = group[0]!;
      const oldest = group.reduce((a, b) => ((b.ageSec ?? Infinity) > (a.ageSec ?? Infinity) ? b : a));
      const data = {
        count: plural(group.length, 'task'),
        service: t.service,
        state: t.state.toUpperCase(),
        age: ageText(oldest),
        reason: why(t).slice(0, 300),
        networks: listText(t.networks.length ? t.networks : ['its networks']),
        grace: GRACE_SEC,
      };
      const at = { network: t.networks.length === 1 ? t.networks[0]! : null };
      const ipam = IPAM_ERRORS.test(why(t));
      if (!ipam && oldest.ageSec !== null && oldest.ageSec >= 0 && oldest.ageSec < GRACE_SEC) {
        report('pass', 'young', data, at);
        continue;
      }
      const ps = code(`docker service ps --no-trunc ${shq(t.service)}`);
      if (ipam) {
        const named = log.get(t.id)?.networkId;
        const net = (named !== undefined ? model.network(named)?.name : undefined) ?? t.networks[0] ?? 'NET';
        const big = `${net}-large`;
        report('fail', 'ipam', data, {
          ...at,
          remediation:
            `${prose(net)} is out of addresses: ${code(`docker network create -d overlay --subnet <a /22 or larger from your pool> ${shq(big)}`)}, then ` +
            `${code(`docker service update --network-add ${shq(big)} --network-rm ${shq(net)} ${shq(t.service)}`)}; or scale down (${code(`docker service scale ${shq(t.service)}=<fewer>`)}); ${ps} shows the full error`,
        });
        continue;
      }
      report('warn', 'stuck', data, {
        ...at,
        remediation: `${ps} shows the full error; for "no suitable node", check the constraints and resources (${code(`docker service inspect --format '{{json .Spec.TaskTemplate.Placement}}' ${shq(t.service)}`)}, ${code('docker node ls')})`,
      });
    }
  },
});
