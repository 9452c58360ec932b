import check from '../../../../src/checks/host/clock-skew.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, makeUnreachable, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';

/** Move a node's recorded `date +%s.%N` by `seconds`. */
const shift = (s: ClusterSnapshot, node: string, seconds: number) => {
  const n = nodeOf(s, node);
  const received = n.host!.clock!.localReceived;
  setSection(s, node, 'host/clock', ok(String(Number.parseFloat(n.raw['host/clock']!.stdout) + seconds)));
  n.host!.clock!.localReceived = received;
};

checkTester(check, {
  valid: [
    { name: 'the lab: clocks in step', snapshot: lab, passes: [{ status: 'pass', messageId: 'inStep', node: 'nd3' }] },
    {
      name: '5.3 s off is within the measurement error',
      snapshot: () => labWith((s) => shift(s, 'nd3', 5.3)),
      passes: [{ status: 'pass', messageId: 'inStep', node: 'nd3' }],
    },
    {
      name: 'date failed on nd2; nd3 not collected',
      snapshot: () =>
        labWith((s) => {
          setSection(s, 'nd2', 'host/clock', failed('date: invalid date', 1));
          makeUnreachable(s, 'nd3');
        }),
      skips: [
        { status: 'skip', messageId: 'notCollected', node: 'nd2' },
        { status: 'skip', messageId: 'skip.not-collected', node: 'nd3' },
        { status: 'skip', messageId: 'alone', node: 'nd1' },
      ],
    },
  ],
  invalid: [
    {
      name: 'nd3 42 s ahead',
      snapshot: () => labWith((s) => shift(s, 'nd3', 42)),
      errors: [{ status: 'warn', messageId: 'drift', node: 'nd3', peer: 'nd1' }],
    },
    {
      name: 'nd2 2 h behind',
      snapshot: () => labWith((s) => shift(s, 'nd2', -7200)),
      errors: [{ status: 'fail', messageId: 'beyondTls', node: 'nd2', peer: 'nd1' }],
    },
  ],
});
