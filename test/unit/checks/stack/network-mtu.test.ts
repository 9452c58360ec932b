/**
 * stack.network.mtu on the lab recording (underlay eth0 MTU 1500 on every
 * node, as recorded), with the underlay lowered on one node where a case
 * needs a smaller one (`ip link set eth0 mtu 1450`, an OpenStack-sized path).
 * Docker reads the MTU option as the VXLAN datagram size: tasks get it − 50.
 */
import { describe, expect, it } from 'vitest';
import mtu from '../../../../src/checks/stack/network-mtu.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { labSnapshot } from '../../../support/lab-fixtures.js';
import { stackFile, stackPlanner } from '../../../support/stack-fixtures.js';

const live = () => labSnapshot();
const noLive = () => labSnapshot('healthy', []);
/** The recording with one node's underlay interface at a smaller MTU. */
const lowered = (node: string, to: number) => (): ClusterSnapshot => {
  const s = labSnapshot();
  const eth0 = s.nodes.find((n) => n.name === node)!.host!.interfaces.find((i) => i.name === 'eth0')!;
  eth0.mtu = to;
  return s;
};

const plan = {
  go: await stackPlanner('go'),
  jumbo: await stackPlanner('mtu'),
  fits: await stackPlanner('mtu-fits'),
};

checkTester(mtu, {
  valid: [
    {
      name: 'no MTU option (docker sizes it for 1500) on 1500-byte underlays',
      snapshot: live,
      stack: plan.go,
      passes: [{ status: 'pass', messageId: 'fits', network: 'app_back' }],
      skips: [],
    },
    {
      name: 'an MTU option of 1460 (tasks get 1410) on 1500-byte underlays',
      snapshot: live,
      stack: plan.fits,
      passes: [{ status: 'pass', messageId: 'fits', network: 'app_small' }],
    },
    {
      name: 'a smaller underlay on the manager, which the worker-only stack cannot land on',
      snapshot: lowered('nd1', 1400),
      stack: plan.fits,
      passes: [{ status: 'pass', messageId: 'fits', network: 'app_small' }],
    },
    {
      name: '--no-live: the underlay is not known',
      snapshot: noLive,
      stack: plan.jumbo,
      skips: [{ status: 'skip', messageId: 'unknown', network: 'app_jumbo' }],
    },
  ],
  invalid: [
    {
      name: 'an MTU option of 1550 (tasks get 1500) on 1500-byte underlays',
      snapshot: live,
      stack: plan.jumbo,
      errors: [{ status: 'fail', messageId: 'tooLarge', network: 'app_jumbo' }],
    },
    {
      name: 'no MTU option on a node whose underlay is 1450 (FAILURES.md #2)',
      snapshot: lowered('nd2', 1450),
      stack: plan.go,
      errors: [{ status: 'fail', messageId: 'tooLarge', network: 'app_back' }],
    },
    {
      name: 'an MTU option of 1460 on a worker whose underlay is 1450',
      snapshot: lowered('nd3', 1450),
      stack: plan.fits,
      errors: [{ status: 'fail', messageId: 'tooLarge', network: 'app_small' }],
    },
  ],
});

describe('stack.network.mtu findings', () => {
  it('point at the MTU option in the file, name only the nodes too small, and suggest their MTU', () => {
    const [f] = runCheck(mtu, { name: 'x', snapshot: lowered('nd3', 1450), stack: plan.fits }).filter((x) => x.status === 'fail');
    expect(f).toMatchObject({ network: 'app_small', location: { file: stackFile('mtu-fits'), line: 18 } });
    expect(f!.detail).toContain('nd3 (eth0)');
    expect(f!.detail).not.toContain('nd2');
    expect(f!.remediation).toContain('com.docker.network.driver.mtu: "1450"');
  });

  it('say the datagram and task sizes docker derives from the option', () => {
    const [f] = runCheck(mtu, { name: 'x', snapshot: live, stack: plan.jumbo }).filter((x) => x.status === 'fail');
    expect(f!.detail).toMatch(/VXLAN datagrams of 1550 bytes \(task MTU 1500 \+ 50\).*underlay MTU of nd2 \(eth0\) and nd3 \(eth0\) \(1500\)/);
  });

  it("point at the network when the MTU comes from docker's default", () => {
    const [f] = runCheck(mtu, { name: 'x', snapshot: lowered('nd2', 1450), stack: plan.go }).filter((x) => x.status === 'fail');
    expect(f!.location).toEqual({ file: stackFile('go'), line: 13 });
    expect(f!.detail).toContain('no MTU option');
  });
});
