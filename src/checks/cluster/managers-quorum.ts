import type { NodeSummary } from '../../cluster/nodes.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

const names = (l: NodeSummary[]): string => listText(l.map((m) => prose(m.name)));
const up = (m: NodeSummary): boolean => m.managerStatus === 'leader' || m.managerStatus === 'reachable';

export default defineCheck({
  meta: {
    id: 'cluster.managers.quorum',
    layer: 'cluster',
    title: 'Manager quorum',
    looksAt:
      'ManagerStatus of every manager: how many are reachable against the raft majority, whether there is a leader, and whether the manager count is odd.',
    remediation:
      'Bring unreachable managers back (start dockerd, fix 2377/tcp between managers) or replace them (`docker node demote`/`docker node rm`, then promote a healthy node); keep an odd number of managers.',
    scope: 'cluster',
    failures: [],
    needs: ['swarm'],
    // A manager that is down shows in cluster.nodes.state first: quorum loss is its consequence.
    causedBy: ['cluster.nodes.state'],
    messages: {
      noManagers: 'the manager reported no managers',
      quorumLost:
        'quorum lost: {reachable} of {total} managers reachable, raft needs {majority}{unreachable}; the swarm cannot change state (no scheduling, no updates, no new networks).',
      noLeader: 'no leader among {total} managers ({reachable} reachable): raft is electing or split.',
      managerDown: 'manager {name} is {state} ({reachable}/{total} reachable, quorum needs {majority}{margin}).',
      evenCount: '{total} managers: an even count tolerates no more failures than {odd} ({tolerance}) and adds raft traffic.',
      tooMany: '{total} managers: more than 7 slows raft down without useful extra fault tolerance.',
      single:
        'single manager {name} (leader): no fault tolerance — losing it stops the control plane; promote two more nodes for 3 managers when this matters',
      healthy: '{reachable}/{total} managers reachable ({names}), leader {leader}, tolerates {tolerance}',
    },
  },
  check({ model, report }) {
    const managers = model.cluster.nodes.filter((n) => n.role === 'manager');
    const total = managers.length;
    if (total === 0) {
      report('skip', 'noManagers');
      return;
    }
    const reachable = managers.filter(up);
    const down = managers.filter((m) => !up(m));
    const majority = Math.floor(total / 2) + 1;
    const tolerance = Math.floor((total - 1) / 2);
    const lost = reachable.length < majority;
    const counts = { reachable: reachable.length, total, majority };
    let problems = 0;
    const problem: typeof report = (...args) => {
      problems++;
      report(...args);
    };

    if (lost) {
      const survivor = reachable[0];
      problem(
        'fail',
        'quorumLost',
        { ...counts, unreachable: down.length ? ` (unreachable: ${names(down)})` : '' },
        {
          remediation: `Bring ${down.length ? names(down) : 'the managers'} back first; if they are gone for good, on ${
            survivor ? `the surviving manager ${survivor.name}` : 'a surviving manager'
          } ${code(`docker swarm init --force-new-cluster --advertise-addr ${survivor?.advertiseAddress ? shq(survivor.advertiseAddress) : '<its IP>'}`)} and promote new managers.`,
        },
      );
    } else if (!managers.some((m) => m.leader)) {
      problem('fail', 'noLeader', counts, { remediation: 'Check 2377/tcp between the managers and their clocks; `docker node ls` on each manager.' });
    }
    for (const m of down) {
      const margin = lost
        ? ''
        : `; ${reachable.length - 1 >= majority ? 'one more loss is still tolerated' : 'one more loss and the swarm loses quorum'}`;
      problem(
        lost ? 'fail' : 'warn',
        'managerDown',
        { ...counts, name: m.name, state: m.managerStatus ?? 'unknown', margin },
        {
          node: m.name,
          remediation: `On ${prose(m.name)}: \`systemctl status docker\`, check 2377/tcp from the other managers (${code(`nc -zv ${shq(m.advertiseAddress ?? m.name)} 2377`)}); if it is gone for good: ${code(`docker node demote ${shq(m.name)} && docker node rm --force ${shq(m.name)}`)} on a manager and promote a replacement.`,
        },
      );
    }
    if (total % 2 === 0) {
      const worker = model.cluster.nodes.find((n) => n.role === 'worker' && n.state === 'ready');
      problem(
        'warn',
        'evenCount',
        { total, odd: total - 1, tolerance },
        {
          remediation: `Promote one more node (${code(`docker node promote ${worker ? shq(worker.name) : '<node>'}`)}) or demote one (${code(`docker node demote ${shq(managers[total - 1]!.name)}`)}) to get an odd count.`,
        },
      );
    }
    if (total > 7) problem('warn', 'tooMany', { total }, { remediation: 'Demote managers down to 3, 5 or 7 (`docker node demote <node>`).' });
    if (problems > 0) return;
    if (total === 1) report('pass', 'single', { name: managers[0]!.name });
    else
      report('pass', 'healthy', {
        ...counts,
        names: names(managers),
        leader: managers.find((m) => m.leader)?.name ?? '?',
        tolerance: plural(tolerance, 'manager failure'),
      });
  },
});
