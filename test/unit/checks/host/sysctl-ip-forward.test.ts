import check from '../../../../src/checks/host/sysctl-ip-forward.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, makeUnreachable, setSection } from '../../../support/lab-mutate.js';
import { withSysctl } from './sysctl.js';

checkTester(check, {
  valid: [
    { name: 'the lab: forwarding on', snapshot: lab, passes: [{ status: 'pass', messageId: 'on', node: 'nd1' }] },
    {
      name: 'sysctl not readable on nd2, nd3 not collected',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd2', 'host/sysctl', failed('sh: 1: sysctl: Permission denied', 2));
          makeUnreachable(s, 'nd3');
        }),
      skips: [
        { status: 'skip', messageId: 'notCollected', node: 'nd2' },
        { status: 'skip', messageId: 'skip.not-collected', node: 'nd3' },
      ],
    },
    {
      name: 'the key is absent',
      snapshot: () => labWith((s) => withSysctl(s, 'nd1', 'net/ipv4/ip_forward', '<absent>')),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'ip_forward reset to 0 on nd1 (sysctl --system after docker started)',
      snapshot: () => labWith((s) => withSysctl(s, 'nd1', 'net/ipv4/ip_forward', '0')),
      errors: [{ status: 'fail', messageId: 'off', node: 'nd1' }],
    },
  ],
});
