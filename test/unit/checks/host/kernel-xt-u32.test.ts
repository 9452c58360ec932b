import check from '../../../../src/checks/host/kernel-xt-u32.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const NODES = ['nd1', 'nd2', 'nd3'];
const encrypt = (s: ClusterSnapshot) => {
  s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
};
/** The recorded module list with the xt_u32 line the collection script now prints. */
const u32 = (s: ClusterSnapshot, node: string, state: 'present' | 'absent') =>
  setSection(s, node, 'host/modules', ok(`${nodeOf(s, node).raw['host/modules']!.stdout.trimEnd()}\nxt_u32 ${state}`));
/** Docker's guard for an encrypted VNI, as iptables-save prints it on the host. */
const GUARD = '-A INPUT -p udp -m policy --dir in --pol none -m udp --dport 4789 -m u32 --u32 "0x0>>0x16&0x3c@0xc&0xffffff00=0x100100" -j DROP';
const withGuard = (s: ClusterSnapshot, node: string) => {
  const text = nodeOf(s, node).raw['host/iptables-save']!.stdout;
  setSection(s, node, 'host/iptables-save', ok(text.replace('-A FORWARD -j DOCKER-USER', `${GUARD}\n-A FORWARD -j DOCKER-USER`)));
};

checkTester(check, {
  valid: [
    { name: 'the lab: no encrypted overlay', snapshot: lab, passes: [{ status: 'pass', messageId: 'noEncryption' }] },
    {
      name: 'encrypted ndnet, module list without xt_u32 (older collection)',
      snapshot: () => labWith(encrypt),
      skips: NODES.map((node) => ({ status: 'skip' as const, messageId: 'notListed', node })),
    },
    {
      name: 'encrypted ndnet: loaded on nd1, built in (guard rule present) on nd2 and nd3',
      snapshot: () =>
        labWith((s) => {
          encrypt(s);
          u32(s, 'nd1', 'present');
          for (const n of ['nd2', 'nd3']) {
            u32(s, n, 'absent');
            withGuard(s, n);
          }
        }),
      passes: NODES.map((node) => ({ status: 'pass' as const, messageId: 'present', node })),
    },
  ],
  invalid: [
    {
      name: 'encrypted ndnet, xt_u32 absent on nd2 (RHEL 8/9 without kernel-modules-extra)',
      snapshot: () =>
        labWith((s) => {
          encrypt(s);
          for (const n of NODES) u32(s, n, n === 'nd2' ? 'absent' : 'present');
        }),
      errors: [{ status: 'fail', messageId: 'missing', node: 'nd2', network: 'ndnet' }],
    },
  ],
});
