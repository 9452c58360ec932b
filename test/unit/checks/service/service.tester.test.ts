/**
 * The service layer, one check at a time through the shared check tester.
 *
 * The lab kernel has no IPVS, so docker programmed no routing mesh there: the
 * recording itself is the "no IPVS" case. For everything else nd1 gets the
 * real-host text of test/fixtures/{ipvs,iptables} (rc 0), matched to the
 * lab's service: web publishes 8080/tcp (fwmark 0x100 = 256 in ingress_sbox),
 * its tasks are 10.0.0.6/7/8 on ingress and 10.0.1.3/4/5 on ndnet (VIP
 * 10.0.1.2, fwmark 0x101 = 257 in lb_aweos9uhr). nd2 and nd3 keep the lab's
 * state, so the IPVS-based checks skip them through the framework's 'ipvs' need.
 */
import { expect, it } from 'vitest';
import ingressBackends from '../../../../src/checks/service/ingress-backends.js';
import ingressDnat from '../../../../src/checks/service/ingress-dnat.js';
import ingressIpvsAvailable from '../../../../src/checks/service/ingress-ipvs-available.js';
import ingressMark from '../../../../src/checks/service/ingress-mark.js';
import ingressSandbox from '../../../../src/checks/service/ingress-sandbox.js';
import vipBackends from '../../../../src/checks/service/vip-backends.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck, type Reported } from '../../../support/check-tester.js';
import { fixture, HOST_NAT_OK, INGRESS_IPVS_OK, ipvsText, labWithIpvs, real, type LbSections } from '../../../support/lb-fixtures.js';
import { failed, lab, labWith, makeUnreachable, NDNET_LB as LB, nodeOf, ok, sandboxOf } from '../../../support/lab-mutate.js';

const LAB_HOST_DUMP = lab().nodes[0]!.raw['host/iptables-save']!.stdout;
const LAB_INGRESS_MANGLE = lab().nodes[0]!.raw['netns/ingress_sbox/iptables-mangle']!.stdout;
const NO_IPVSADM = { stdout: '', stderr: 'nsenter: failed to execute ipvsadm: No such file or directory', rc: 127 };

/** The lab with nd1 given a working IPVS and the given load-balancer state, as a case's snapshot factory. */
const withIpvs =
  (sections: LbSections = {}, more?: (s: ClusterSnapshot) => void) =>
  (): ClusterSnapshot =>
    labWithIpvs(sections, more);

const noPorts = (s: ClusterSnapshot) => {
  for (const svc of s.cluster.services) svc.ports = [];
};
const noIngressNetwork = (s: ClusterSnapshot) => {
  s.cluster.networks = s.cluster.networks.filter((n) => !n.ingress);
};
const dropSandbox = (node: string, name: string) => (s: ClusterSnapshot) => {
  const n = nodeOf(s, node);
  n.sandboxes = n.sandboxes.filter((x) => x.name !== name);
};
const notEntered = (node: string, name: string) => (s: ClusterSnapshot) => {
  sandboxOf(s, node, name).enterError = 'setns(/var/run/docker/netns/x): Operation not permitted';
};
/** The framework's skip of nd2 and nd3, whose kernel has no IPVS. */
const NO_IPVS_ON_WORKERS = (network?: string): Reported[] =>
  ['nd2', 'nd3'].map((node) => ({ status: 'skip', messageId: 'skip.no-ipvs', node, ...(network ? { network } : { network: null }) }));

checkTester(ingressSandbox, {
  valid: [
    {
      name: 'the lab: ingress_sbox on every node',
      snapshot: lab,
      passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass', messageId: 'present', node, network: 'ingress' })),
    },
    {
      name: 'no ingress network and nothing published',
      snapshot: () => labWith((s) => (noPorts(s), noIngressNetwork(s))),
      passes: [{ status: 'pass', messageId: 'noIngressNoPorts', node: null }],
    },
    {
      name: 'ingress_sbox that cannot be entered is a skip',
      snapshot: () => labWith(notEntered('nd3', 'ingress_sbox')),
      skips: [{ status: 'skip', messageId: 'notEntered', node: 'nd3', network: 'ingress' }],
    },
    {
      name: 'a node not collected',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd2')),
      skips: [{ status: 'skip', messageId: 'skip.not-collected', node: 'nd2' }],
    },
  ],
  invalid: [
    {
      name: 'ingress_sbox missing on nd2 while 8080/tcp is published',
      snapshot: () => labWith(dropSandbox('nd2', 'ingress_sbox')),
      errors: [{ status: 'fail', messageId: 'missing', node: 'nd2', network: 'ingress' }],
    },
    {
      name: 'ingress_sbox missing with nothing published: a warning',
      snapshot: () => labWith((s) => (noPorts(s), dropSandbox('nd2', 'ingress_sbox')(s))),
      errors: [{ status: 'warn', messageId: 'missing', node: 'nd2', network: 'ingress' }],
    },
    {
      name: 'ingress network removed while web publishes 8080/tcp',
      snapshot: () => labWith(noIngressNetwork),
      errors: [{ status: 'fail', messageId: 'noIngressNetwork', node: null, network: null }],
    },
  ],
});

checkTester(ingressIpvsAvailable, {
  valid: [
    {
      name: 'IPVS tables on every node',
      snapshot: () => labWith((s) => s.nodes.forEach((n) => (n.raw['netns/ingress_sbox/ipvs'] = ok(INGRESS_IPVS_OK)))),
      passes: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'pass', messageId: 'available', node })),
    },
  ],
  invalid: [
    {
      name: 'the lab kernel has no IPVS: published 8080/tcp and the web VIP are broken on every node',
      snapshot: lab,
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail', messageId: 'missingUsed', node })),
    },
    {
      name: "real-host text (ipvsadm: Can't initialize ipvs) on nd1, ipvsadm missing on nd2",
      snapshot: () =>
        labWith((s) => {
          nodeOf(s, 'nd1').raw['netns/ingress_sbox/ipvs'] = { stdout: '', stderr: fixture('ipvs', 'unavailable.txt'), rc: 2 };
          for (const sb of ['ingress_sbox', LB]) nodeOf(s, 'nd2').raw[`netns/${sb}/ipvs`] = NO_IPVSADM;
        }),
      errors: [
        { status: 'fail', messageId: 'missingUsed', node: 'nd1' },
        { status: 'fail', messageId: 'missingUsed', node: 'nd3' },
      ],
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd2' }],
    },
    {
      name: 'nothing published and no VIP service: a warning, and a node without load-balancer sandboxes is a skip',
      snapshot: () =>
        labWith((s) => {
          noPorts(s);
          for (const svc of s.cluster.services) svc.endpointMode = 'dnsrr';
          const nd3 = nodeOf(s, 'nd3');
          nd3.sandboxes = nd3.sandboxes.filter((x) => x.kind !== 'ingress' && x.kind !== 'lb');
        }),
      errors: ['nd1', 'nd2'].map((node) => ({ status: 'warn', messageId: 'missingUnused', node })),
      skips: [{ status: 'skip', messageId: 'noSandbox', node: 'nd3' }],
    },
  ],
});

checkTester(ingressDnat, {
  valid: [
    {
      name: 'nothing published: one pass for the run',
      snapshot: () => labWith(noPorts),
      passes: [{ status: 'pass', messageId: 'noPorts', node: null }],
    },
    {
      name: 'docker 24 host dump with the DNAT to ingress_sbox',
      snapshot: withIpvs(),
      passes: [{ status: 'pass', messageId: 'present', node: 'nd1', network: 'ingress' }],
      skips: NO_IPVS_ON_WORKERS(),
    },
    {
      name: 'the DNAT found in the other backend (docker 28 iptables-nft-save)',
      snapshot: withIpvs(
        { hostIptables: LAB_HOST_DUMP },
        (s) => (nodeOf(s, 'nd1').raw['host/iptables-nft-save'] = ok(fixture('iptables', 'swarm-node-docker28-nft.txt'))),
      ),
      passes: [{ status: 'pass', messageId: 'present', node: 'nd1' }],
    },
    {
      name: 'no host dump could be read',
      snapshot: withIpvs({}, (s) => {
        const raw = nodeOf(s, 'nd1').raw;
        raw['host/iptables-save'] = failed('iptables-save: command not found', 127);
        delete raw['host/iptables-nft-save'];
        delete raw['host/iptables-legacy-save'];
      }),
      skips: [{ status: 'skip', messageId: 'noDump', node: 'nd1' }, ...NO_IPVS_ON_WORKERS()],
    },
  ],
  invalid: [
    {
      name: 'no DOCKER-INGRESS chain (the lab host dump)',
      snapshot: withIpvs({ hostIptables: LAB_HOST_DUMP }),
      errors: [{ status: 'fail', messageId: 'noChain', node: 'nd1', network: 'ingress' }],
    },
    {
      name: 'DNAT rule for 8080 missing',
      snapshot: withIpvs({
        hostIptables: HOST_NAT_OK.split('\n')
          .filter((l) => !/DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT/.test(l))
          .join('\n'),
      }),
      errors: [{ status: 'fail', messageId: 'broken', node: 'nd1' }],
    },
    {
      name: 'DNAT to another address than ingress_sbox',
      snapshot: withIpvs({ hostIptables: HOST_NAT_OK.replace('172.18.0.2:8080', '172.18.0.9:8080') }),
      errors: [{ status: 'fail', messageId: 'broken', node: 'nd1' }],
    },
    {
      name: 'PREROUTING does not jump to DOCKER-INGRESS',
      snapshot: withIpvs({ hostIptables: HOST_NAT_OK.replace('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS\n', '') }),
      errors: [{ status: 'fail', messageId: 'broken', node: 'nd1' }],
    },
    {
      name: 'leftover DNAT for 5353/udp, which no service publishes',
      snapshot: withIpvs({ hostIptables: fixture('iptables', 'swarm-node-docker24-legacy.txt') }),
      errors: [{ status: 'warn', messageId: 'leftover', node: 'nd1', network: 'ingress' }],
    },
  ],
});

checkTester(ingressMark, {
  valid: [
    { name: 'nothing published', snapshot: () => labWith(noPorts), passes: [{ status: 'pass', messageId: 'noPorts', node: null }] },
    {
      name: 'ingress_sbox marks 8080/tcp with 0x100',
      snapshot: withIpvs(),
      passes: [{ status: 'pass', messageId: 'marked', node: 'nd1', network: 'ingress' }],
      skips: NO_IPVS_ON_WORKERS(),
    },
    {
      name: 'mangle table not readable',
      snapshot: withIpvs(
        {},
        (s) => (nodeOf(s, 'nd1').raw['netns/ingress_sbox/iptables-mangle'] = failed('iptables-save: unable to initialize table mangle')),
      ),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd1', network: 'ingress' }, ...NO_IPVS_ON_WORKERS()],
    },
    {
      name: 'ingress_sbox not entered',
      snapshot: withIpvs({}, notEntered('nd1', 'ingress_sbox')),
      skips: [{ status: 'skip', messageId: 'notEntered', node: 'nd1' }, ...NO_IPVS_ON_WORKERS()],
    },
    {
      name: 'ingress_sbox missing (IPVS known from the lb_ sandbox)',
      snapshot: withIpvs({}, dropSandbox('nd1', 'ingress_sbox')),
      skips: [{ status: 'skip', messageId: 'noSandbox', node: 'nd1' }, ...NO_IPVS_ON_WORKERS()],
    },
  ],
  invalid: [
    {
      name: 'no MARK rule (the lab mangle table)',
      snapshot: withIpvs({ ingressMangle: LAB_INGRESS_MANGLE }),
      errors: [{ status: 'fail', messageId: 'unmarked', node: 'nd1', network: 'ingress' }],
    },
  ],
});

checkTester(ingressBackends, {
  valid: [
    {
      name: 'IPVS balances over the three running tasks',
      snapshot: withIpvs(),
      passes: [{ status: 'pass', messageId: 'balanced', node: 'nd1', network: 'ingress' }],
      skips: NO_IPVS_ON_WORKERS(),
    },
    {
      name: 'published port without an ingress network',
      snapshot: () => labWith(noIngressNetwork),
      skips: [{ status: 'skip', messageId: 'noIngressNetwork', node: null }],
    },
    {
      name: 'ipvsadm missing on nd1: nothing guessed',
      snapshot: withIpvs({}, (s) => (nodeOf(s, 'nd1').raw['netns/ingress_sbox/ipvs'] = NO_IPVSADM)),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd1' }, ...NO_IPVS_ON_WORKERS()],
    },
    {
      name: 'no fwmark for web',
      snapshot: withIpvs({ ingressMangle: LAB_INGRESS_MANGLE }),
      skips: [{ status: 'skip', messageId: 'noMark', node: 'nd1', network: 'ingress' }, ...NO_IPVS_ON_WORKERS()],
    },
  ],
  invalid: [
    {
      name: 'missing and stale backends (fixture ingress-sbox.txt)',
      snapshot: withIpvs({ ingressIpvs: fixture('ipvs', 'ingress-sbox.txt') }),
      errors: [{ status: 'fail', messageId: 'wrongBackends', node: 'nd1', network: 'ingress' }],
    },
    {
      name: 'a running task drained to weight 0',
      snapshot: withIpvs({ ingressIpvs: ipvsText('FWM  256 rr', real('10.0.0.6', 0), real('10.0.0.7'), real('10.0.0.8')) }),
      errors: [{ status: 'warn', messageId: 'drainedBackends', node: 'nd1', network: 'ingress' }],
    },
    {
      name: 'no IPVS service for the mark (fixture empty.txt)',
      snapshot: withIpvs({ ingressIpvs: fixture('ipvs', 'empty.txt') }),
      errors: [{ status: 'fail', messageId: 'noIpvsService', node: 'nd1', network: 'ingress' }],
    },
  ],
});

checkTester(vipBackends, {
  valid: [
    {
      name: 'VIP 10.0.1.2 marked 0x101 and balanced',
      snapshot: withIpvs(),
      passes: [{ status: 'pass', messageId: 'balanced', node: 'nd1', network: 'ndnet' }],
      skips: NO_IPVS_ON_WORKERS('ndnet'),
    },
    {
      name: 'no VIP service',
      snapshot: () => labWith((s) => s.cluster.services.forEach((x) => (x.endpointMode = 'dnsrr'))),
      passes: [{ status: 'pass', messageId: 'noVips', node: null }],
    },
    {
      name: 'lb sandbox not entered',
      snapshot: withIpvs({}, notEntered('nd1', LB)),
      skips: [{ status: 'skip', messageId: 'skip.sandbox-not-entered', node: 'nd1', network: 'ndnet' }, ...NO_IPVS_ON_WORKERS('ndnet')],
    },
    {
      name: 'ipvsadm missing in the lb sandbox',
      snapshot: withIpvs({}, (s) => (nodeOf(s, 'nd1').raw[`netns/${LB}/ipvs`] = NO_IPVSADM)),
      skips: [{ status: 'skip', messageId: 'ipvsUnreadable', node: 'nd1', network: 'ndnet' }, ...NO_IPVS_ON_WORKERS('ndnet')],
    },
  ],
  invalid: [
    {
      name: 'missing and stale backends (fixture lb-sandbox.txt)',
      snapshot: withIpvs({ lbIpvs: fixture('ipvs', 'lb-sandbox.txt') }),
      errors: [{ status: 'fail', messageId: 'wrongBackends', node: 'nd1', network: 'ndnet' }],
    },
    {
      name: 'VIP mark missing in the lb sandbox',
      snapshot: withIpvs({ lbMangle: fixture('iptables', 'lb-sandbox.txt').replace(/^-A INPUT -d 10\.0\.1\.2\/32.*\n/m, '') }),
      errors: [{ status: 'fail', messageId: 'unmarked', node: 'nd1', network: 'ndnet' }],
    },
    {
      name: 'no lb sandbox on a node running a task of ndnet (even without IPVS)',
      snapshot: () => labWith(dropSandbox('nd2', LB)),
      errors: [{ status: 'fail', messageId: 'noLbSandbox', node: 'nd2', network: 'ndnet' }],
    },
  ],
});

it('remediations quote what comes from the cluster and the nodes', () => {
  const s = withIpvs({ ingressIpvs: fixture('ipvs', 'ingress-sbox.txt') }, (x) => {
    x.cluster.services[0]!.name = "web; echo it's";
    nodeOf(x, 'nd1').host!.dockerd.execRoot = '/run/my docker';
  });
  const f = runCheck(ingressBackends, { name: 'quoting', snapshot: s }).find((x) => x.node === 'nd1' && x.status === 'fail')!;
  expect(f.remediation).toContain(`docker service update --force 'web; echo it'\\''s'`);
  expect(f.remediation).toContain(`nsenter --net='/run/my docker/netns/ingress_sbox' ipvsadm -d -f 256 -r 10.0.0.5:0`);
});

it('a missing rule read from a truncated dump says the dump may be incomplete', () => {
  const mangle = fixture('iptables', 'ingress-sbox-mangle.txt');
  const cut = mangle.slice(0, mangle.indexOf('-A PREROUTING -p tcp -m tcp --dport 8080') + '-A PREROUTING -p tcp -m tcp --dport'.length);
  const fs = runCheck(ingressMark, { name: 'truncated', snapshot: withIpvs({ ingressMangle: cut }) });
  const f = fs.find((x) => x.node === 'nd1')!;
  expect([f.status, f.messageId]).toEqual(['fail', 'unmarked']);
  expect(f.detail).toMatch(/the dump may be incomplete: line \d+: --dport without a value \(truncated\?\)/);
});
