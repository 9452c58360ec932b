/**
 * The checks that read inside the load-balancer sandboxes (service.lb.ip-forward,
 * service.ipvs.sysctls, service.ipvs.timeout) on the recorded lab, given the
 * sections a current collection reads as recorded from the lab
 * (withSandboxReads), and the IPVS forms real hosts print where the lab
 * kernel has none: sysctl lines as the collection script prints them, and
 * ipvsadm's "Timeout (tcp tcpfin udp): 900 120 300".
 */
import ipvsSysctls from '../../../../src/checks/service/ipvs-sysctls.js';
import ipvsTimeout from '../../../../src/checks/service/ipvs-timeout.js';
import lbIpForward from '../../../../src/checks/service/lb-ip-forward.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { labWithIpvs } from '../../../support/lb-fixtures.js';
import { failed, lab, labWith, makeUnreachable, NDNET_LB, nodeOf, ok } from '../../../support/lab-mutate.js';
import { withSandboxReads } from '../../../support/sandbox-reads.js';

const reads = (fn?: (s: ClusterSnapshot) => void) => () => labWith((s) => (withSandboxReads(s), fn?.(s)));
/** The recorded sysctl section of nd's lb_ sandbox with one key's value changed. */
const sysctl = (s: ClusterSnapshot, node: string, sandbox: string, key: string, value: string) => {
  const raw = nodeOf(s, node).raw;
  const sec = raw[`netns/${sandbox}/sysctl`]!;
  sec.stdout = sec.stdout.replace(new RegExp(`^${key.replace(/[/.]/g, '\\$&')}=.*$`, 'm'), `${key}=${value}`);
};
/** nd1 with IPVS (lb-fixtures) and its lb_/ingress sandboxes' IPVS sysctls and timeouts as a host with IPVS prints them. */
const withIpvsReads =
  (vs: Record<string, string>, timeout = 'Timeout (tcp tcpfin udp): 900 120 300\n') =>
  () =>
    labWithIpvs({}, (s) => {
      withSandboxReads(s);
      for (const sb of ['ingress_sbox', NDNET_LB]) {
        for (const [k, v] of Object.entries(vs)) sysctl(s, 'nd1', sb, `net/ipv4/vs/${k}`, v);
        nodeOf(s, 'nd1').raw[`netns/${sb}/ipvs-timeout`] = ok(timeout);
      }
    });
const TUNED = { conn_reuse_mode: '0', expire_nodest_conn: '1', expire_quiescent_template: '1' };
const KERNEL_DEFAULTS = { conn_reuse_mode: '1', expire_nodest_conn: '0', expire_quiescent_template: '0' };

/** Forwarding on in every balancer sandbox of every node (the lab records 0: its nodes are nested namespaces). */
const forwarding = (s: ClusterSnapshot) => {
  for (const n of s.nodes) for (const sb of n.sandboxes) if (n.raw[`netns/${sb.name}/sysctl`]) sysctl(s, n.name, sb.name, 'net/ipv4/ip_forward', '1');
};

checkTester(lbIpForward, {
  valid: [
    {
      name: 'forwarding on in every lb_ and ingress sandbox',
      snapshot: reads(forwarding),
      passes: [{ status: 'pass', messageId: 'on', node: 'nd2' }],
    },
    {
      name: 'a recording from before the sandbox reads: one skip per node, not one per sandbox',
      snapshot: lab,
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'unreadable', node })),
    },
    {
      name: 'nsenter refused in one sandbox: that sandbox is skipped, the others read',
      snapshot: reads((s) => (forwarding(s), (nodeOf(s, 'nd2').raw[`netns/${NDNET_LB}/sysctl`] = failed('nsenter: Operation not permitted')))),
      skips: [{ status: 'skip', messageId: 'unreadable', node: 'nd2', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'the lab as recorded: a nested node, every lb_ and ingress namespace inherited ip_forward=0; no IPVS either, so warnings',
      snapshot: reads(),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'warn' as const, messageId: 'offNoIpvs', node, network: null })),
    },
    {
      name: 'with IPVS on nd1, ip_forward 0 inside its lb_ of ndnet is a failure',
      snapshot: () =>
        labWithIpvs({}, (s) => {
          withSandboxReads(s);
          forwarding(s);
          sysctl(s, 'nd1', NDNET_LB, 'net/ipv4/ip_forward', '0');
        }),
      errors: [{ status: 'fail', messageId: 'off', node: 'nd1', network: null }],
    },
  ],
});

checkTester(ipvsSysctls, {
  valid: [
    {
      name: 'nd1 with IPVS, tuned as current engines do',
      snapshot: withIpvsReads(TUNED),
      passes: [{ status: 'pass', messageId: 'tuned', node: 'nd1' }],
    },
    {
      name: 'the lab kernel has no IPVS: the framework skips nodes 2 and 3, nothing to read on them',
      snapshot: withIpvsReads(TUNED),
      skips: [
        { status: 'skip', messageId: 'skip.no-ipvs', node: 'nd2' },
        { status: 'skip', messageId: 'skip.no-ipvs', node: 'nd3' },
      ],
    },
  ],
  invalid: [
    {
      name: 'kernel defaults inside both balancers of nd1 (an engine that does not set them)',
      snapshot: withIpvsReads(KERNEL_DEFAULTS),
      errors: [
        { status: 'warn', messageId: 'kernelDefaults', node: 'nd1', network: 'ndnet' },
        { status: 'warn', messageId: 'kernelDefaults', node: 'nd1', network: 'ingress' },
      ],
    },
    {
      name: 'only expire_nodest_conn left at 0 in lb_',
      snapshot: () => {
        const s = withIpvsReads(TUNED)();
        sysctl(s, 'nd1', NDNET_LB, 'net/ipv4/vs/expire_nodest_conn', '0');
        return s;
      },
      errors: [{ status: 'warn', messageId: 'kernelDefaults', node: 'nd1', network: 'ndnet' }],
    },
  ],
});

checkTester(ipvsTimeout, {
  valid: [
    {
      name: 'default 900 s: a pass that carries the keepalive advice',
      snapshot: withIpvsReads(TUNED),
      passes: [{ status: 'pass', messageId: 'idle', node: 'nd1' }],
    },
    {
      name: 'a node not collected is the framework skip',
      snapshot: () => {
        const s = withIpvsReads(TUNED)();
        makeUnreachable(s, 'nd3');
        return s;
      },
      skips: [
        { status: 'skip', messageId: 'skip.no-ipvs', node: 'nd2' },
        { status: 'skip', messageId: 'skip.not-collected', node: 'nd3' },
      ],
    },
  ],
  invalid: [
    {
      name: 'tcp timeout lowered to 300 s (ipvsadm --set 300 120 300 on the node)',
      snapshot: withIpvsReads(TUNED, 'Timeout (tcp tcpfin udp): 300 120 300\n'),
      errors: [
        { status: 'warn', messageId: 'shorter', node: 'nd1', network: 'ndnet' },
        { status: 'warn', messageId: 'shorter', node: 'nd1', network: 'ingress' },
      ],
    },
  ],
});
