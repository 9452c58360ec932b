import check from '../../../../src/checks/host/iptables-backend-mixed.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const DOCKER_CHAIN = /^:DOCKER[^\n]*\n/gm;
const DOCKER_RULE = /^-A [^\n]*DOCKER[^\n]*\n/gm;

checkTester(check, {
  valid: [
    { name: 'the lab: Docker chains only in nft, iptables is nft', snapshot: lab, passes: [{ status: 'pass', messageId: 'one', node: 'nd3' }] },
  ],
  invalid: [
    {
      name: 'Docker chains in both backends on nd1 (a legacy dump left from before a switch to nft)',
      snapshot: () =>
        labWith((s) => {
          const legacy = nodeOf(s, 'nd1').raw['host/iptables-nft-save']!.stdout.replace(
            /iptables-nft-save v1\.8\.9 \(nf_tables\)/g,
            'iptables-legacy-save v1.8.9',
          );
          setSection(s, 'nd1', 'host/iptables-legacy-save', ok(legacy));
        }),
      errors: [{ status: 'fail', messageId: 'both', node: 'nd1' }],
    },
    {
      name: 'Docker chains only in legacy while iptables is nft (nd2)',
      snapshot: () =>
        labWith((s) => {
          const n = nodeOf(s, 'nd2');
          const legacy = n.raw['host/iptables-nft-save']!.stdout.replace(/iptables-nft-save v1\.8\.9 \(nf_tables\)/g, 'iptables-legacy-save v1.8.9');
          setSection(s, 'nd2', 'host/iptables-legacy-save', ok(legacy));
          setSection(
            s,
            'nd2',
            'host/iptables-nft-save',
            ok(n.raw['host/iptables-nft-save']!.stdout.replace(DOCKER_RULE, '').replace(DOCKER_CHAIN, '')),
          );
        }),
      errors: [{ status: 'warn', messageId: 'otherBackend', node: 'nd2' }],
    },
    {
      name: 'dockerd runs with --iptables=false: no Docker chain anywhere (nd3)',
      snapshot: () =>
        labWith((s) => {
          for (const sec of ['host/iptables-save', 'host/iptables-nft-save']) {
            setSection(s, 'nd3', sec, ok(nodeOf(s, 'nd3').raw[sec]!.stdout.replace(DOCKER_RULE, '').replace(DOCKER_CHAIN, '')));
          }
        }),
      errors: [{ status: 'warn', messageId: 'none', node: 'nd3' }],
    },
  ],
});

checkTester(check, {
  valid: [
    {
      name: 'iptables-save unreadable and no Docker chains seen',
      snapshot: () =>
        labWith((s) => {
          for (const sec of ['host/iptables-save', 'host/iptables-nft-save', 'host/iptables-legacy-save'])
            setSection(s, 'nd2', sec, failed('iptables-save: command not found', 127));
        }),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd2' }],
    },
  ],
});
