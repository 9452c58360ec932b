import check from '../../../../src/checks/host/sysctl-rp-filter.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith, nodeOf } from '../../../support/lab-mutate.js';
import { withSysctl } from './sysctl.js';

checkTester(check, {
  valid: [
    { name: 'the lab: rp_filter 0', snapshot: lab, passes: [{ status: 'pass', messageId: 'notStrict', node: 'nd1' }] },
    {
      name: 'loose mode (2)',
      snapshot: () => labWith((s) => withSysctl(s, 'nd1', 'net/ipv4/conf/all/rp_filter', '2')),
      passes: [{ status: 'pass', messageId: 'notStrict', node: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'strict on nd3 with its one underlay interface',
      snapshot: () => labWith((s) => withSysctl(s, 'nd3', 'net/ipv4/conf/all/rp_filter', '1')),
      errors: [{ status: 'warn', messageId: 'strictSingle', node: 'nd3' }],
    },
    {
      name: 'strict on nd2 with a second addressed NIC',
      snapshot: () =>
        labWith((s) => {
          withSysctl(s, 'nd2', 'net/ipv4/conf/all/rp_filter', '1');
          nodeOf(s, 'nd2').host!.interfaces.push({
            ...nodeOf(s, 'nd2').host!.interfaces.find((i) => i.name === 'eth0')!,
            name: 'eth1',
            addresses: [{ family: 'inet', address: '192.168.50.2', prefixLen: 24 }],
          });
        }),
      errors: [{ status: 'warn', messageId: 'strictMulti', node: 'nd2' }],
    },
  ],
});
