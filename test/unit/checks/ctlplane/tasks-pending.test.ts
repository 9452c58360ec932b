import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/cluster/tasks-pending.js';
import { allocationFailures, type AllocationFailure } from '../../../../src/model/ctlplane.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { recording } from './support.js';

type J = Record<string, any>;

/** The recorded crowd tasks left in NEW, given the error swarmkit's scheduler sets when no node fits (its wording). */
function noSuitableNode() {
  const s = recording('ctlplane-ipam');
  // Two minutes later: past the grace a task gets to be scheduled.
  const later = new Date(Date.parse(s.startedAt) + 120_000).toISOString();
  s.startedAt = later;
  for (const t of s.cluster.raw.tasks as J[]) {
    if (t.Status?.State !== 'new') continue;
    t.Status = {
      ...t.Status,
      State: 'pending',
      Message: 'pending task scheduling',
      Err: 'no suitable node (scheduling constraints not satisfied on 3 nodes)',
    };
  }
  // Not an address problem: the managers' log says nothing about these tasks.
  for (const n of s.nodes) delete n.raw['host/docker-log'];
  return s;
}

checkTester(check, {
  valid: [
    { name: 'the healthy lab: nothing stuck', snapshot: () => recording('ctlplane'), passes: [{ status: 'pass', messageId: 'none' }] },
    { name: 'the split lab: late runs off nd3, nothing stuck', snapshot: () => recording('ctlplane-diverged') },
  ],
  invalid: [
    {
      name: "a /29 with 8 replicas (recorded): the tasks in NEW, named with the manager's 'could not find an available IP'",
      snapshot: () => recording('ctlplane-ipam'),
      errors: [{ status: 'fail', messageId: 'ipam', network: 'tiny' }],
    },
    {
      name: 'tasks pending with no suitable node',
      snapshot: noSuitableNode,
      errors: [{ status: 'warn', messageId: 'stuck', network: 'tiny' }],
    },
  ],
});

describe('cluster.tasks.pending wording', () => {
  it("quotes docker's own reason and the fix for the exhausted network", () => {
    const f = runCheck(check, { name: 'ipam', snapshot: () => recording('ctlplane-ipam') }).find((x) => x.status === 'fail')!;
    expect(f.detail).toMatch(/^\d tasks of crowd stuck in NEW for \d+ s on tiny: "could not find an available IP/);
    expect(f.remediation).toContain('`docker service update --network-add tiny-large --network-rm tiny crowd`');
  });

  it("reads the allocator's line as dockerd 20.10 logged it in the lab, and leaves other lines alone", () => {
    const out = new Map<string, AllocationFailure>();
    allocationFailures(
      [
        'time="2026-11-29T18:06:16.747899027Z" level=error msg="task allocation failure" error="failed to allocate network IP for task ocp9038kljzid4q1crwo8nbyy network plftaj10l1gyrw8q1u2jeu7tn: could not find an available IP" module=node node.id=y7b2fys91g5pw40xuem5z1xcb',
        'time="2026-11-29T18:06:16.801956344Z" level=error msg="Failed to allocate network resources for node y7b2fys91g5pw40xuem5z1xcb" error="could not find an available IP" module=node node.id=y7b2fys91g5pw40xuem5z1xcb',
      ].join('\n'),
      'nd1',
      out,
    );
    expect([...out.values()]).toEqual([
      { taskId: 'ocp9038kljzid4q1crwo8nbyy', networkId: 'plftaj10l1gyrw8q1u2jeu7tn', error: 'could not find an available IP', node: 'nd1' },
    ]);
  });
});
