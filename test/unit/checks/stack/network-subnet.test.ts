/**
 * stack.network.subnet against the nodes' own docker bridges (FAILURES.md
 * #19): docker_gwbridge (172.18.0.0/16 on the recorded lab nodes) is joined
 * by every task of the stack, docker0 (172.17.0.0/16) holds the node's
 * standalone containers; an overlay on top of either shadows them. Only the
 * nodes the stack can land on count.
 */
import { describe, expect, it } from 'vitest';
import subnet from '../../../../src/checks/stack/network-subnet.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { labSnapshot } from '../../../support/lab-fixtures.js';
import { stackPlanner } from '../../../support/stack-fixtures.js';

const live = () => labSnapshot();
/** The recording with nd1's docker_gwbridge on another /16 (a node where 172.18 was taken when the swarm was joined). */
const movedGwbridge = (): ClusterSnapshot => {
  const s = labSnapshot();
  for (const n of s.nodes.filter((x) => x.name !== 'nd1')) {
    const gw = n.host!.interfaces.find((i) => i.name === 'docker_gwbridge')!;
    gw.addresses = gw.addresses.map((a) => (a.family === 'inet' ? { ...a, address: '172.19.0.1' } : a));
    n.host!.routes = n.host!.routes.map((r) => (r.dev === 'docker_gwbridge' ? { ...r, dst: '172.19.0.0/16' } : r));
  }
  return s;
};

const plan = { docker: await stackPlanner('subnet-docker'), go: await stackPlanner('go') };

checkTester(subnet, {
  valid: [
    {
      name: 'a /24 outside the docker bridges',
      snapshot: live,
      stack: plan.go,
      passes: [{ status: 'pass', messageId: 'clear', network: 'app_back' }],
    },
  ],
  invalid: [
    {
      name: "inside docker_gwbridge's 172.18.0.0/16 and docker0's 172.17.0.0/16, live",
      snapshot: live,
      stack: plan.docker,
      errors: [
        { status: 'fail', messageId: 'overlap', network: 'app_gw' },
        { status: 'fail', messageId: 'overlap', network: 'app_local' },
      ],
    },
  ],
});

describe("the nodes' docker bridges", () => {
  const fails = (snap: () => ClusterSnapshot) =>
    Object.fromEntries(
      runCheck(subnet, { name: 'x', snapshot: snap, stack: plan.docker })
        .filter((f) => f.status === 'fail')
        .map((f) => [f.network, f.detail]),
    );

  it('name the node and the bridge', () => {
    const f = fails(live);
    expect(f.app_gw).toMatch(/nd\d's docker_gwbridge \(172\.18\.0\.0\/16\)/);
    expect(f.app_local).toMatch(/nd\d's docker0 \(172\.17\.0\.0\/16\)/);
  });

  it("compare with each candidate node's own docker_gwbridge, not one node's", () => {
    const f = fails(movedGwbridge);
    // Only nd1 still has 172.18.0.0/16; the stack can land on it (no constraint).
    expect(f.app_gw).toMatch(/nd1's docker_gwbridge \(172\.18\.0\.0\/16\)/);
  });

  it('ignore the bridges of nodes the stack cannot land on', async () => {
    const workers = await stackPlanner('subnet-docker-workers');
    const snap = (): ClusterSnapshot => movedGwbridge();
    const found = runCheck(subnet, { name: 'x', snapshot: snap, stack: workers }).filter((f) => f.status === 'fail');
    expect(found.map((f) => f.network)).toEqual(['app_local']);
  });

  it('are not visible without a live run (--no-live): the manager lists no node-local network', () => {
    const found = runCheck(subnet, { name: 'x', snapshot: () => labSnapshot('healthy', []), stack: plan.docker });
    expect(found.filter((f) => f.status === 'fail')).toEqual([]);
  });
});
