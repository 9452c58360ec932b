import check from '../../../../src/checks/host/listen-ports.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const listen = (s: Parameters<typeof nodeOf>[0], node: string, edit: (text: string) => string) =>
  setSection(s, node, 'host/listen', ok(edit(nodeOf(s, node).raw['host/listen']!.stdout)));

checkTester(check, {
  valid: [
    {
      name: 'the lab: managers on 2377, everyone on 7946 and 4789',
      snapshot: lab,
      passes: [
        { status: 'pass', messageId: 'listening', node: 'nd1' },
        { status: 'pass', messageId: 'listening', node: 'nd2' },
      ],
    },
    {
      name: 'ss missing on nd3, dockerd stopped on nd2',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd3', 'host/listen', failed('sh: 1: ss: not found', 127));
          setSection(s, 'nd2', 'host/dockerd-pid', failed('', 1));
        }),
      skips: [
        { status: 'skip', messageId: 'notCollected', node: 'nd3' },
        { status: 'skip', messageId: 'dockerdStopped', node: 'nd2' },
      ],
    },
  ],
  invalid: [
    {
      name: 'the manager does not listen on 2377, its gossip TCP is bound to loopback, its VXLAN socket to another address',
      snapshot: () =>
        labWith((s) =>
          listen(s, 'nd1', (t) =>
            t
              .split('\n')
              .filter((l) => !/:2377 /.test(l))
              .map((l) => (/^tcp .*:7946 /.test(l) ? l.replace('*:7946', '127.0.0.1:7946') : l))
              .map((l) => l.replace('0.0.0.0:4789', '192.168.50.1:4789'))
              .join('\n'),
          ),
        ),
      errors: [
        { status: 'fail', messageId: 'nothing', node: 'nd1' },
        { status: 'fail', messageId: 'loopback', node: 'nd1' },
        { status: 'warn', messageId: 'elsewhere', node: 'nd1' },
      ],
    },
  ],
});
