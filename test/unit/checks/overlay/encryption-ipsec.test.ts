/**
 * The IPsec checks of encrypted overlays on the recorded lab (nd1 10.213.0.11,
 * nd2 .12, nd3 .13; ndnet made encrypted). This kernel cannot hold Docker's
 * AEAD SAs, so the host sections carry text of the exact form iproute2 prints
 * for libnetwork's SAs (reqid 13681891) and policies (mark 0xd0c4e3, selector
 * udp/<port>), recorded for the policies in a scratch namespace here.
 */
import { expect, it } from 'vitest';
import policyPort from '../../../../src/checks/overlay/encryption-policy-port.js';
import saEndpoints from '../../../../src/checks/overlay/encryption-sa-endpoints.js';
import { buildModel } from '../../../../src/model/build.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { failed, lab, labWith, NDNET_SANDBOX, ok, setSection } from '../../../support/lab-mutate.js';

const IP: Record<string, string> = { nd1: '10.213.0.11', nd2: '10.213.0.12', nd3: '10.213.0.13' };
const spi = (from: string, to: string) => `0x${from.slice(2)}${to.slice(2)}c0de`.slice(0, 10);

const sa = (src: string, dst: string, s: string) =>
  `src ${src} dst ${dst}\n\tproto esp spi ${s} reqid 13681891 mode transport\n\treplay-window 0 \n\taead rfc4106(gcm(aes)) <redacted> 64\n\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n`;
const policy = (src: string, dst: string, port: number, s: string) =>
  `src ${src}/32 dst ${dst}/32 proto udp dport ${port} \n\tdir out priority 0 ptype main \n\tmark 0xd0c4e3/0xffffffff \n\ttmpl src ${src} dst ${dst}\n\t\tproto esp spi ${s} reqid 13681891 mode transport\n`;

/** Every node holds, for every peer, the forward SA, the reverse SA and the forward policy, as libnetwork programs them. */
function encrypted(s: ClusterSnapshot, port = 4789): void {
  s.cluster.networks.find((n) => n.name === 'ndnet')!.encrypted = true;
  for (const me of Object.keys(IP)) {
    const peers = Object.keys(IP).filter((p) => p !== me);
    setSection(s, me, 'host/xfrm-state', ok(peers.map((p) => sa(IP[me]!, IP[p]!, spi(me, p)) + sa(IP[p]!, IP[me]!, spi(p, me))).join('')));
    setSection(s, me, 'host/xfrm-policy', ok(peers.map((p) => policy(IP[me]!, IP[p]!, port, spi(me, p))).join('')));
  }
}

checkTester(policyPort, {
  valid: [
    { name: 'no encrypted overlay: nothing to look at', snapshot: lab, passes: [{ status: 'pass', messageId: 'noEncrypted' }] },
    {
      name: "policies select the swarm's port 4789",
      snapshot: () => labWith((s) => encrypted(s)),
      passes: [{ status: 'pass', messageId: 'match', node: 'nd1' }],
    },
    {
      name: 'a swarm on data-path port 7789 whose engine programs 7789',
      snapshot: () =>
        labWith((s) => {
          s.cluster.dataPathPort = 7789;
          encrypted(s, 7789);
        }),
    },
  ],
  invalid: [
    {
      name: 'data-path port 7789, policies still on 4789 (moby#45635)',
      snapshot: () =>
        labWith((s) => {
          s.cluster.dataPathPort = 7789;
          encrypted(s);
        }),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail' as const, messageId: 'mismatch', node })),
    },
  ],
});

checkTester(saEndpoints, {
  valid: [
    { name: 'no encrypted overlay', snapshot: lab, passes: [{ status: 'pass', messageId: 'noEncrypted' }] },
    {
      name: 'every pair holds the same SAs at both ends',
      snapshot: () => labWith((s) => encrypted(s)),
      passes: [{ status: 'pass', messageId: 'match', node: 'nd1', peer: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'nd3 behind 1:1 NAT keys its SAs on its private address 192.168.7.3',
      snapshot: () =>
        labWith((s) => {
          encrypted(s);
          const nat = (t: string) => t.replaceAll('src 10.213.0.13 ', 'src 192.168.7.3 ').replaceAll('dst 10.213.0.13\n', 'dst 192.168.7.3\n');
          const nd3 = s.nodes.find((n) => n.name === 'nd3')!;
          nd3.raw['host/xfrm-state'] = ok(nat(nd3.raw['host/xfrm-state']!.stdout));
        }),
      // nd3's own sends keep their destination (only the source is translated); what it receives is keyed on 192.168.7.3.
      errors: [
        { status: 'warn', messageId: 'differ', node: 'nd1', peer: 'nd3' },
        { status: 'warn', messageId: 'differ', node: 'nd2', peer: 'nd3' },
      ],
    },
    {
      name: 'nd2 lost its reverse SA from nd1 (one direction dropped)',
      snapshot: () =>
        labWith((s) => {
          encrypted(s);
          const nd2 = s.nodes.find((n) => n.name === 'nd2')!;
          nd2.raw['host/xfrm-state'] = ok(nd2.raw['host/xfrm-state']!.stdout.replace(sa(IP.nd1!, IP.nd2!, spi('nd1', 'nd2')), ''));
        }),
      errors: [{ status: 'warn', messageId: 'unmatched', node: 'nd1', peer: 'nd2' }],
    },
    {
      name: 'xfrm state unreadable on nd2: its pairs are skipped, not passed',
      snapshot: () =>
        labWith((s) => {
          encrypted(s);
          setSection(s, 'nd2', 'host/xfrm-state', failed('Error: Requested type not found.'));
        }),
      errors: [],
      skips: [
        { status: 'skip', messageId: 'unreadable', node: 'nd1', peer: 'nd2' },
        { status: 'skip', messageId: 'unreadable', node: 'nd2', peer: 'nd1' },
        { status: 'skip', messageId: 'unreadable', node: 'nd2', peer: 'nd3' },
        { status: 'skip', messageId: 'unreadable', node: 'nd3', peer: 'nd2' },
      ],
    },
  ],
});

it("the model reads Docker's SAs from the host namespace, and a sandbox's own section only in older bundles", () => {
  const s = labWith((x) => encrypted(x));
  setSection(s, 'nd1', `netns/${NDNET_SANDBOX}/xfrm-state`, ok(''));
  const nd1 = buildModel(s).node('nd1')!;
  const sb = nd1.sandboxes.find((x) => x.name === NDNET_SANDBOX)!;
  expect(sb.xfrm.ok && sb.xfrm.value.length).toBe(4);
  expect(nd1.xfrmPolicy.ok && nd1.xfrmPolicy.value.length).toBe(2);
  setSection(s, 'nd1', 'host/xfrm-state', undefined);
  const old = buildModel(s)
    .node('nd1')!
    .sandboxes.find((x) => x.name === NDNET_SANDBOX)!;
  expect(old.xfrm.ok && old.xfrm.value.length).toBe(0);
});
