import check from '../../../../src/checks/host/sysctl-bridge-nf.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';
import { withSysctl } from './sysctl.js';

checkTester(check, {
  valid: [
    { name: 'the lab: bridge-nf on', snapshot: lab, passes: [{ status: 'pass', messageId: 'on', node: 'nd2' }] },
    {
      name: 'br_netfilter not loaded: the key does not exist',
      snapshot: () => labWith((s) => withSysctl(s, 'nd2', 'net/bridge/bridge-nf-call-iptables', '<absent>')),
      passes: [{ status: 'pass', messageId: 'absent', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'bridge-nf-call-iptables = 0 on nd3',
      snapshot: () => labWith((s) => withSysctl(s, 'nd3', 'net/bridge/bridge-nf-call-iptables', '0')),
      errors: [{ status: 'warn', messageId: 'off', node: 'nd3' }],
    },
  ],
});
