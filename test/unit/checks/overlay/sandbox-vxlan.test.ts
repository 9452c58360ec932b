/**
 * overlay.vxlan.source, overlay.vxlan.stray and overlay.fdb.learned on the
 * recorded lab (nd1 10.213.0.11, nd2 .12, nd3 .13; ndnet 1-aweos9uhri VNI
 * 4097, web.2 on nd3 10.0.1.4), given the sections a current collection
 * reads as recorded from the lab (withSandboxReads), each fault written the
 * way a real node shows it: recorded `ip -j route get` / `ip -j -d link` /
 * `bridge -j fdb` output edited to the fault.
 */
import fdbLearned from '../../../../src/checks/overlay/fdb-learned.js';
import vxlanSource from '../../../../src/checks/overlay/vxlan-source.js';
import vxlanStray from '../../../../src/checks/overlay/vxlan-stray.js';
import type { ClusterSnapshot, SandboxSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester } from '../../../support/check-tester.js';
import { lab, labWith, makeUnreachable, NDNET_SANDBOX, nodeOf, ok, sandboxOf, setSection } from '../../../support/lab-mutate.js';
import { withSandboxReads } from '../../../support/sandbox-reads.js';

const reads = (fn?: (s: ClusterSnapshot) => void) => () => labWith((s) => (withSandboxReads(s), fn?.(s)));

/** nd's recorded `ip -j route get` with the source toward `dst` changed, as a more specific route with `src` gives it. */
const routeSource = (s: ClusterSnapshot, node: string, dst: string, src: string) => {
  const sec = nodeOf(s, node).raw['host/route-get']!;
  sec.stdout = sec.stdout
    .split('\n')
    .map((l) => (l.includes(`"dst":"${dst}"`) ? l.replace(/"prefsrc":"[^"]*"/, `"prefsrc":"${src}"`) : l))
    .join('\n');
};

/** `ip -j -d link show` of a device made by `ip link add vx-0010ff-ndtst type vxlan id 4351 dstport 4789`, as recorded on the lab machine. */
const STRAY =
  '{"ifindex":2,"ifname":"vx-0010ff-ndtst","flags":["BROADCAST","MULTICAST"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"ea:d7:d8:aa:94:73","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"vxlan","info_data":{"id":4351,"port_range":{"low":0,"high":0},"port":4789,"learning":true,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"udp_zero_csum6_tx":false,"udp_zero_csum6_rx":false}},"inet6_addr_gen_mode":"eui64","num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"tso_max_size":65536,"tso_max_segs":65535,"gro_max_size":65536}';
const vxlanJson = (name: string, vni: number): Record<string, unknown> => {
  const l = JSON.parse(STRAY) as { ifname: string; linkinfo: { info_data: { id: number } } };
  l.ifname = name;
  l.linkinfo.info_data.id = vni;
  return l;
};

/** A vxlan device added to nd's host namespace (host/link), as `ip link add NAME type vxlan id VNI dstport 4789` leaves it. */
const hostVxlan = (s: ClusterSnapshot, node: string, name: string, vni: number) => {
  const links = JSON.parse(nodeOf(s, node).raw['host/link']!.stdout) as unknown[];
  links.push(vxlanJson(name, vni));
  setSection(s, node, 'host/link', ok(JSON.stringify(links)));
};

/** A sandbox of a removed network still holding its vxlan device. */
const orphan = (s: ClusterSnapshot, node: string, vni: number) => {
  const sb: SandboxSnapshot = {
    ...structuredClone(sandboxOf(s, node, NDNET_SANDBOX)),
    name: '1-deadbeef00',
    networkIdPrefix: 'deadbeef00',
    networkId: null,
    networkName: null,
  };
  sb.links.find((l) => l.name === 'vxlan0')!.vxlan!.id = vni;
  nodeOf(s, node).sandboxes.push(sb);
};

checkTester(vxlanSource, {
  valid: [
    {
      name: 'the lab: every route toward the others picks the advertise address',
      snapshot: reads(),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd3' }],
    },
    {
      name: 'a recording without host/route-get: one skip a node',
      snapshot: lab,
      skips: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'skip' as const, messageId: 'unreadable', node })),
    },
    {
      name: 'vxlan0 with local = the data-path address (an engine that sets it)',
      snapshot: reads((s) => (sandboxOf(s, 'nd2', NDNET_SANDBOX).links.find((l) => l.name === 'vxlan0')!.vxlan!.local = '10.213.0.12')),
    },
  ],
  invalid: [
    {
      name: 'nd3 reaches nd1 through a route with src 10.213.0.113 (a second address, a /32 route)',
      snapshot: reads((s) => routeSource(s, 'nd3', '10.213.0.11', '10.213.0.113')),
      errors: [{ status: 'fail', messageId: 'wrongSource', node: 'nd3', peer: 'nd1' }],
    },
    {
      name: 'nd2 sends from another address to both peers (the primary of another interface wins)',
      snapshot: reads((s) => {
        routeSource(s, 'nd2', '10.213.0.11', '192.168.7.2');
        routeSource(s, 'nd2', '10.213.0.13', '192.168.7.2');
      }),
      errors: [{ status: 'fail', messageId: 'wrongSource', node: 'nd2', peer: null }],
    },
    {
      name: 'vxlan0 with a local that is not the data-path address',
      snapshot: reads((s) => (sandboxOf(s, 'nd2', NDNET_SANDBOX).links.find((l) => l.name === 'vxlan0')!.vxlan!.local = '172.31.0.2')),
      errors: [{ status: 'fail', messageId: 'wrongLocal', node: 'nd2' }],
    },
  ],
});

checkTester(vxlanStray, {
  valid: [
    { name: 'the lab: every vxlan device in its overlay sandbox', snapshot: reads(), passes: [{ status: 'pass', messageId: 'clean', node: 'nd1' }] },
    {
      name: "another tool's vxlan in the host namespace (flannel.1, VNI 1) is not Docker's",
      snapshot: reads((s) => hostVxlan(s, 'nd1', 'flannel.1', 1)),
    },
    {
      name: 'a node not collected is the framework skip',
      snapshot: reads((s) => makeUnreachable(s, 'nd3')),
      skips: [{ status: 'skip', messageId: 'skip.not-collected', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: 'a leftover vx-* device in the host namespace (VNI of no network)',
      snapshot: reads((s) => hostVxlan(s, 'nd2', 'vx-0010ff-ndtst', 4351)),
      errors: [{ status: 'warn', messageId: 'stray', node: 'nd2', network: null }],
    },
    {
      name: "a host-namespace device with ndnet's VNI: the next sandbox join fails with file exists",
      snapshot: reads((s) => hostVxlan(s, 'nd3', 'vx-001001-aweos', 4097)),
      errors: [{ status: 'fail', messageId: 'duplicate', node: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'the sandbox of a removed network still holds its vxlan device, one with a live VNI',
      snapshot: reads((s) => {
        orphan(s, 'nd1', 4200);
        orphan(s, 'nd2', 4097);
      }),
      errors: [
        { status: 'warn', messageId: 'stray', node: 'nd1', network: null },
        { status: 'fail', messageId: 'duplicate', node: 'nd2', network: 'ndnet' },
      ],
    },
  ],
});

/** nd2's entry for web.2 (10.0.1.4 on nd3) as the kernel shows a learned one: no `self`, no permanent state. */
const learned = (s: ClusterSnapshot, node = 'nd2', mac = '02:42:0a:00:01:04') => {
  for (const e of sandboxOf(s, node, NDNET_SANDBOX).fdb) {
    if (e.mac === mac && e.dst !== null) Object.assign(e, { flags: [], state: null });
  }
};

checkTester(fdbLearned, {
  valid: [
    {
      name: 'the lab: every remote endpoint programmed self permanent',
      snapshot: lab,
      passes: [{ status: 'pass', messageId: 'programmed', node: 'nd2', network: 'ndnet' }],
    },
    {
      name: 'a learned entry next to the permanent one is fine',
      snapshot: () =>
        labWith((s) => {
          const sb = sandboxOf(s, 'nd2', NDNET_SANDBOX);
          sb.fdb.push({ mac: '02:42:0a:00:01:04', dev: 'vxlan0', dst: '10.213.0.13', vlan: null, flags: [], state: null });
        }),
    },
  ],
  invalid: [
    {
      name: "web.2's MAC on nd2 known only by a learned entry (the permanent add failed with EEXIST)",
      snapshot: () => labWith((s) => learned(s)),
      errors: [{ status: 'fail', messageId: 'learned', node: 'nd2', peer: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'a learned entry gone stale',
      snapshot: () =>
        labWith(
          (s) => (
            learned(s),
            sandboxOf(s, 'nd2', NDNET_SANDBOX)
              .fdb.filter((e) => e.mac === '02:42:0a:00:01:04' && e.dst !== null)
              .forEach((e) => (e.state = 'stale'))
          ),
        ),
      errors: [{ status: 'fail', messageId: 'learned', node: 'nd2', peer: 'nd3', network: 'ndnet' }],
    },
  ],
});
