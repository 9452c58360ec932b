import check from '../../../../src/checks/host/underlay-ipv4.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';

checkTester(check, {
  valid: [{ name: 'the lab: IPv4 advertise addresses', snapshot: lab, passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] }],
  invalid: [
    {
      name: 'nd2 advertises an IPv6 address (#41691)',
      snapshot: () =>
        labWith((s) => {
          s.cluster.nodes.find((n) => n.name === 'nd2')!.advertiseAddress = 'fd00:213::12';
        }),
      errors: [{ status: 'fail', messageId: 'ipv6', node: 'nd2' }],
    },
  ],
});
