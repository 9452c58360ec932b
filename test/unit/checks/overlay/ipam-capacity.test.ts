import { describe, expect, it } from 'vitest';
import check from '../../../../src/checks/overlay/ipam-capacity.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';
import { recording } from '../ctlplane/support.js';

type J = Record<string, any>;
const taskJson = (s: ClusterSnapshot, id: string): J => (s.cluster.raw.tasks as J[]).find((t) => String(t.ID).startsWith(id))!;
const detailOn = (s: ClusterSnapshot, network: string): string =>
  runCheck(check, { name: network, snapshot: () => s }).find((f) => f.network === network)!.detail;

/** ndnet of the lab (10.0.1.0/24: 3 web tasks, web's VIP, lb endpoints) grown to `n` task endpoints, as a /24 under load shows it. */
function crowd(s: ClusterSnapshot, n: number, subnet = '10.0.1.0/24'): void {
  const net = s.cluster.networks.find((x) => x.name === 'ndnet')!;
  net.subnets = [{ subnet, gateway: '10.0.1.1' }];
  const host = net.endpoints[0]!.hostIp;
  for (let i = 0; net.endpoints.filter((e) => e.kind === 'task').length < n; i++) {
    net.endpoints.push({ service: 'web', task: `web.${100 + i}.x`, ip: `10.0.1.${100 + i}`, hostIp: host, kind: 'task' });
  }
}

checkTester(check, {
  valid: [
    {
      name: 'the lab: a handful of addresses on two /24s',
      snapshot: lab,
      passes: [
        { status: 'pass', messageId: 'room', network: 'ndnet' },
        { status: 'pass', messageId: 'room', network: 'ingress' },
      ],
    },
    { name: '150 tasks fit a /24', snapshot: () => labWith((s) => crowd(s, 150)) },
  ],
  invalid: [
    {
      name: '210 task endpoints on a /24 (over 80 %)',
      snapshot: () => labWith((s) => crowd(s, 210)),
      errors: [{ status: 'warn', messageId: 'nearlyFull', network: 'ndnet' }],
    },
    {
      name: 'a /28 with the lab service on it is full',
      snapshot: () => labWith((s) => crowd(s, 12, '10.0.1.0/28')),
      errors: [{ status: 'fail', messageId: 'full', network: 'ndnet' }],
    },
    {
      name: 'a /29 and 8 replicas (recorded): 4 tasks preparing hold .3-.6 and the VIP .2, so it is full although no task runs yet (4 more wait in NEW without an address)',
      snapshot: () => recording('ctlplane-ipam'),
      errors: [{ status: 'fail', messageId: 'full', network: 'tiny' }],
    },
  ],
});

describe('overlay.ipam.capacity counts addresses as swarmkit holds them', () => {
  it('on the /29: the preparing tasks, from their NetworksAttachments (the NEW ones have none)', () => {
    expect(detailOn(recording('ctlplane-ipam'), 'tiny')).toBe(
      '10.99.0.0/29 is exhausted: 5 of 5 addresses in use (4 task endpoints, 4 of them held by tasks not running yet or being shut down, 1 VIPs, 0 load-balancer endpoints); new tasks stay in NEW with "could not find an available IP"',
    );
  });

  it('mid-rollout (recorded): the old roll.2 (desired shutdown, running) and its replacement (desired ready, ready) both count, each once', () => {
    // web 3 + roll 4 (roll.1, roll.3, the old and the new roll.2) + 2 VIPs; the running tasks are also in NetworkDB and count once.
    expect(detailOn(recording('ctlplane-rollout'), 'ndnet')).toBe('9 of 253 addresses in use on 10.0.1.0/24 (4 %)');
  });

  it('a task past running has given its address back, even while a NetworkDB view still lists it', () => {
    const s = recording('ctlplane-rollout');
    Object.assign(taskJson(s, 'bgyszkh0').Status, { State: 'shutdown' });
    expect(s.cluster.networks.find((n) => n.name === 'ndnet')!.endpoints.some((e) => e.task.startsWith('roll.2.bgyszkh0'))).toBe(true);
    expect(detailOn(s, 'ndnet')).toBe('8 of 253 addresses in use on 10.0.1.0/24 (3 %)');
  });

  it('the rollout on a /28 of 13 addresses with 2 more containers attached: over 80 %, and the detail says how many are held by tasks not running', () => {
    const s = recording('ctlplane-rollout');
    const net = s.cluster.networks.find((n) => n.name === 'ndnet')!;
    net.subnets = [{ subnet: '10.0.1.0/28', gateway: '10.0.1.1' }];
    for (const ip of ['10.0.1.6', '10.0.1.7']) net.endpoints.push({ service: 'web', task: `web.9.x${ip}`, ip, hostIp: '10.213.0.11', kind: 'task' });
    const f = runCheck(check, { name: '/28', snapshot: () => s }).find((x) => x.network === 'ndnet')!;
    expect(f.status).toBe('warn');
    expect(f.detail).toContain(
      '11 of 13 addresses of 10.0.1.0/28 are in use (85 %: 9 task endpoints, 2 of them held by tasks not running yet or being shut down, 2 VIPs',
    );
  });
});
