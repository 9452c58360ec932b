import check from '../../../../src/checks/host/gwbridge-egress.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, makeUnreachable, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const MASQ = /^-A POSTROUTING -s 172\.18\.0\.0\/16 ! -o docker_gwbridge -j MASQUERADE\n/m;
const gwbridge = (s: ClusterSnapshot, node: string) => nodeOf(s, node).host!.interfaces.find((i) => i.name === 'docker_gwbridge')!;

/** Docker's MASQUERADE rule gone from the ruleset: every dump of it loses the line. */
function dropMasquerade(s: ClusterSnapshot, node: string): void {
  for (const name of ['host/iptables-save', 'host/iptables-nft-save']) {
    const sec = nodeOf(s, node).raw[name]!;
    if (!MASQ.test(sec.stdout)) throw new Error(`${name} of ${node} has no MASQUERADE rule to drop`);
    sec.stdout = sec.stdout.replace(MASQ, '');
  }
}

checkTester(check, {
  valid: [
    { name: 'the lab', snapshot: lab, passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass' as const, messageId: 'ok', node })) },
    {
      name: 'the rule only in the nft backend dump (the kernel runs both)',
      snapshot: () =>
        labWith((s) => {
          const save = nodeOf(s, 'nd2').raw['host/iptables-save']!;
          save.stdout = save.stdout.replace(MASQ, '');
        }),
    },
    {
      name: 'no bridge on a node without tasks',
      snapshot: () =>
        labWith((s) => {
          const n = nodeOf(s, 'nd3');
          n.host!.interfaces = n.host!.interfaces.filter((i) => i.name !== 'docker_gwbridge');
          n.sandboxes = n.sandboxes.filter((sb) => sb.kind !== 'ingress' && sb.kind !== 'container');
        }),
      passes: [{ status: 'pass', messageId: 'notNeeded', node: 'nd3' }],
    },
    {
      name: 'a node not collected',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')),
      skips: [{ status: 'skip', messageId: 'skip.not-collected', node: 'nd3' }],
    },
    {
      name: 'no iptables dump could be read',
      snapshot: () =>
        labWith((s) => {
          for (const name of ['host/iptables-save', 'host/iptables-nft-save', 'host/iptables-legacy-save']) {
            nodeOf(s, 'nd1').raw[name] = failed('iptables-save: command not found', 127);
          }
        }),
      skips: [{ status: 'skip', messageId: 'noDump', node: 'nd1' }],
    },
  ],
  invalid: [
    {
      name: 'MASQUERADE gone on nd2',
      snapshot: () => labWith((s) => dropMasquerade(s, 'nd2')),
      errors: [{ status: 'fail', messageId: 'noMasquerade', node: 'nd2' }],
    },
    {
      name: 'bridge missing on nd1 (tasks there), DOWN on nd3',
      snapshot: () =>
        labWith((s) => {
          const n = nodeOf(s, 'nd1');
          n.host!.interfaces = n.host!.interfaces.filter((i) => i.name !== 'docker_gwbridge');
          gwbridge(s, 'nd3').state = 'DOWN';
        }),
      errors: [
        { status: 'fail', messageId: 'missing', node: 'nd1' },
        { status: 'fail', messageId: 'down', node: 'nd3' },
      ],
    },
    {
      name: 'bridge subnet on ndnet (10.0.1.1/24), no IPv4 on nd3',
      snapshot: () =>
        labWith((s) => {
          gwbridge(s, 'nd2').addresses = [{ family: 'inet', address: '10.0.1.1', prefixLen: 24 }];
          gwbridge(s, 'nd3').addresses = gwbridge(s, 'nd3').addresses.filter((a) => a.family !== 'inet');
        }),
      errors: [
        { status: 'fail', messageId: 'overlap', node: 'nd2', network: 'ndnet' },
        // The rule Docker installed is for 172.18.0.0/16, not for the subnet the bridge has now.
        { status: 'fail', messageId: 'noMasquerade', node: 'nd2' },
        { status: 'fail', messageId: 'noIpv4', node: 'nd3' },
      ],
    },
    {
      name: 'a LAN route for exactly the bridge subnet (172.18.0.0/16 via the underlay gateway) duplicates docker_gwbridge on nd2 (#27890)',
      snapshot: () =>
        labWith((s) => {
          const text = nodeOf(s, 'nd2').raw['host/route']!.stdout;
          const routes = JSON.parse(text) as object[];
          routes.push({ dst: '172.18.0.0/16', gateway: '10.213.0.1', dev: 'eth0', protocol: 'static', flags: [] });
          setSection(s, 'nd2', 'host/route', ok(JSON.stringify(routes)));
        }),
      errors: [{ status: 'fail', messageId: 'overlap', node: 'nd2' }],
    },
  ],
});
