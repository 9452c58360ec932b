import check from '../../../../src/checks/host/tables-conntrack.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith } from '../../../support/lab-mutate.js';
import { withSysctl } from './sysctl.js';

const NODES = ['nd1', 'nd2', 'nd3'];
/** What the lab nodes print (a network namespace: its own count, the host's max), with the count changed on nd2. */
const counts = (nd2: string, max = '262144') =>
  labWith((s: ClusterSnapshot) => {
    for (const n of NODES) {
      withSysctl(s, n, 'net/netfilter/nf_conntrack_count', n === 'nd2' ? nd2 : '0');
      withSysctl(s, n, 'net/netfilter/nf_conntrack_max', max);
    }
  });

checkTester(check, {
  valid: [
    { name: 'the lab: 0 of 262144', snapshot: () => counts('0'), passes: [{ status: 'pass', messageId: 'ok', node: 'nd2' }] },
    { name: 'the recording predates the keys', snapshot: lab, skips: NODES.map((node) => ({ status: 'skip' as const, messageId: 'absent', node })) },
    {
      name: 'nf_conntrack not loaded: both keys absent',
      snapshot: () => counts('<absent>', '<absent>'),
      skips: NODES.map((node) => ({ status: 'skip' as const, messageId: 'absent', node })),
    },
  ],
  invalid: [
    { name: '215000 of 262144 on nd2 (82 %)', snapshot: () => counts('215000'), errors: [{ status: 'warn', messageId: 'near', node: 'nd2' }] },
    { name: 'full on nd2', snapshot: () => counts('262144'), errors: [{ status: 'fail', messageId: 'full', node: 'nd2' }] },
  ],
});
