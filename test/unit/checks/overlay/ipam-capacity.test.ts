import check from '../../../../src/checks/overlay/ipam-capacity.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';

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
  ],
});
