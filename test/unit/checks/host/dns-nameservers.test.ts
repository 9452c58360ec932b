import check from '../../../../src/checks/host/dns-nameservers.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, ok, setSection } from '../../../support/lab-mutate.js';

/** host/resolv as the collection script prints it: `# <file>` then that file's nameserver lines. */
const resolv = (nd1: string) =>
  labWith((s) => {
    for (const n of ['nd1', 'nd2', 'nd3']) setSection(s, n, 'host/resolv', ok(n === 'nd1' ? nd1 : '# /etc/resolv.conf\nnameserver 10.255.255.53'));
  });

checkTester(check, {
  valid: [
    {
      name: "the lab's resolver (10.255.255.53)",
      snapshot: () => resolv('# /etc/resolv.conf\nnameserver 10.255.255.53'),
      passes: [{ status: 'pass', messageId: 'clear', node: 'nd1' }],
    },
    {
      name: 'systemd-resolved: the stub is skipped, its upstream is clear',
      snapshot: () =>
        resolv('# /etc/resolv.conf\nnameserver 127.0.0.53\n# /run/systemd/resolve/resolv.conf\nnameserver 192.168.1.1\nnameserver fe80::1%eth0'),
      passes: [{ status: 'pass', messageId: 'clear', node: 'nd1' }],
    },
    { name: 'no nameserver line', snapshot: () => resolv('# /etc/resolv.conf'), passes: [{ status: 'pass', messageId: 'none', node: 'nd1' }] },
    {
      name: 'the recording predates the section',
      snapshot: lab,
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'unreadable', node })),
    },
    {
      name: 'resolv.conf unreadable on nd1',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd1', 'host/resolv', failed('sh: 1: cannot open /etc/resolv.conf: Permission denied', 2));
          for (const n of ['nd2', 'nd3']) setSection(s, n, 'host/resolv', ok('# /etc/resolv.conf\nnameserver 1.1.1.1'));
        }),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'the VPC resolver 10.0.0.2 inside ingress 10.0.0.0/24 (#27399)',
      snapshot: () => resolv('# /etc/resolv.conf\nnameserver 10.0.0.2'),
      errors: [{ status: 'fail', messageId: 'inside', node: 'nd1', network: 'ingress' }],
    },
    {
      name: 'a resolver inside ndnet and one inside docker_gwbridge 172.18.0.0/16',
      snapshot: () => resolv('# /etc/resolv.conf\nnameserver 10.0.1.53\n  nameserver 172.18.200.1'),
      errors: [
        { status: 'fail', messageId: 'inside', node: 'nd1', network: 'ndnet' },
        { status: 'fail', messageId: 'inside', node: 'nd1', network: null },
      ],
    },
  ],
});
