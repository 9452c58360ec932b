/**
 * host.kernel.modules on the recorded lab (its kernel has vxlan but no IPVS,
 * XFRM or br_netfilter module entries) and, for what that kernel lacks,
 * real-host text from test/fixtures (ipvsadm and iptables-save of a working
 * ingress_sbox) and `ip xfrm state` as iproute2 prints it.
 */
import { readFileSync } from 'node:fs';
import check from '../../../../src/checks/host/kernel-modules.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith, NDNET_SANDBOX, nodeOf, ok, setSection } from '../../../support/lab-mutate.js';

const fixture = (p: string) => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');
const NODES = ['nd1', 'nd2', 'nd3'];

/** The node's /sys/module probe (`<module> present|absent` per line), with some modules changed. */
function modules(s: ClusterSnapshot, node: string, change: Record<string, 'present' | 'absent'>): void {
  const text = nodeOf(s, node).raw['host/modules']!.stdout;
  setSection(
    s,
    node,
    'host/modules',
    ok(text.replace(/^(\S+) (present|absent)$/gm, (line, mod: string) => (Object.hasOwn(change, mod) ? `${mod} ${change[mod]}` : line))),
  );
}

/** IPVS working in ingress_sbox (as on a real host), whatever /sys/module says. */
function ipvsWorks(s: ClusterSnapshot): void {
  for (const n of NODES) {
    nodeOf(s, n).raw['netns/ingress_sbox/ipvs'] = ok(fixture('ipvs/ingress-sbox.txt'));
    nodeOf(s, n).raw['netns/ingress_sbox/iptables-mangle'] = ok(fixture('iptables/ingress-sbox-mangle.txt'));
  }
}

const encrypt = (s: ClusterSnapshot) => {
  s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
};
const SA =
  'src 10.213.0.12 dst 10.213.0.11\n\tproto esp spi 0x0000c0de reqid 0 mode transport\n\treplay-window 0\n\taead rfc4106(gcm(aes)) <redacted> 64\n';

checkTester(check, {
  valid: [
    {
      name: 'no service needs IPVS, no encrypted overlay',
      snapshot: () =>
        labWith((s) => {
          s.cluster.services = [];
        }),
      passes: NODES.map((node) => ({ status: 'pass' as const, messageId: 'present', node })),
    },
    {
      name: 'IPVS built in: ingress_sbox has rr services and MARK rules',
      snapshot: () => labWith(ipvsWorks),
      passes: [{ status: 'pass', messageId: 'present', node: 'nd2' }],
    },
    {
      name: 'encrypted ndnet with ESP SAs in its sandboxes (esp4/xfrm_user built in)',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          encrypt(s);
          for (const n of NODES) nodeOf(s, n).raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = ok(SA);
        }),
    },
    {
      name: 'module list not collected',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          setSection(s, 'nd3', 'host/modules', undefined);
        }),
      skips: [{ status: 'skip', messageId: 'notCollected', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'the lab kernel: no IPVS for the ingress-published web service',
      snapshot: lab,
      errors: NODES.map((node) => ({ status: 'fail' as const, messageId: 'ipvs', node })),
    },
    {
      name: 'vxlan missing and no vxlan device in any sandbox',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          modules(s, 'nd2', { vxlan: 'absent' });
          for (const sb of nodeOf(s, 'nd2').sandboxes) sb.links = sb.links.filter((l) => l.kind !== 'vxlan');
        }),
      errors: [{ status: 'fail', messageId: 'vxlan', node: 'nd2' }],
    },
    {
      name: 'ip_vs loaded, ip_vs_rr and xt_mark not, no rr service or MARK rule yet',
      snapshot: () => labWith((s) => modules(s, 'nd1', { ip_vs: 'present' })),
      errors: [
        { status: 'warn', messageId: 'ipvsRr', node: 'nd1' },
        { status: 'warn', messageId: 'xtMark', node: 'nd1' },
        { status: 'fail', messageId: 'ipvs', node: 'nd2' },
        { status: 'fail', messageId: 'ipvs', node: 'nd3' },
      ],
    },
    {
      name: 'encrypted ndnet, tasks on every node, no esp4/xfrm_user',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          encrypt(s);
        }),
      errors: NODES.map((node) => ({ status: 'fail' as const, messageId: 'ipsecInUse', node, network: 'ndnet' })),
    },
    {
      name: 'encrypted ndnet not joined by nd3 yet',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          encrypt(s);
          for (const n of ['nd1', 'nd2']) nodeOf(s, n).raw[`netns/${NDNET_SANDBOX}/xfrm-state`] = ok(SA);
          const nd3 = nodeOf(s, 'nd3');
          nd3.sandboxes = nd3.sandboxes.filter((sb) => sb.name !== NDNET_SANDBOX);
        }),
      errors: [{ status: 'warn', messageId: 'ipsec', node: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'no br_netfilter and no bridge-nf sysctls',
      snapshot: () =>
        labWith((s) => {
          ipvsWorks(s);
          delete nodeOf(s, 'nd1').host!.sysctls['net/bridge/bridge-nf-call-iptables'];
        }),
      errors: [{ status: 'warn', messageId: 'brNetfilter', node: 'nd1' }],
    },
  ],
});
