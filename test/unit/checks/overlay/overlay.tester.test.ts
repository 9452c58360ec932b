/**
 * The overlay layer through the shared check tester: valid and invalid cases
 * on the recorded lab (nd1 10.213.0.11 manager, nd2 .12, nd3 .13; overlay
 * ndnet 1-aweos9uhri VNI 4097 with web.1 on nd2 10.0.1.3, web.2 on nd3
 * 10.0.1.4, web.3 on nd1 10.0.1.5; lb endpoints nd1 10.0.1.8, nd2 10.0.1.7,
 * nd3 10.0.1.6; ingress 1-w93b7nlk7a), mutated the way a real node shows each
 * fault, and the probes recorded in the example bundle. Asserts message ids
 * and places, not prose.
 */
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../../src/bundle/read.js';
import datapathMtu from '../../../../src/checks/overlay/datapath-mtu.js';
import datapathReachable from '../../../../src/checks/overlay/datapath-reachable.js';
import fdbMissing from '../../../../src/checks/overlay/fdb-missing.js';
import fdbStale from '../../../../src/checks/overlay/fdb-stale.js';
import fdbWrongDst from '../../../../src/checks/overlay/fdb-wrong-dst.js';
import mtuConsistent from '../../../../src/checks/overlay/mtu-consistent.js';
import neighConsistent from '../../../../src/checks/overlay/neigh-consistent.js';
import peersConsistent from '../../../../src/checks/overlay/peers-consistent.js';
import sandboxMissing from '../../../../src/checks/overlay/sandbox-missing.js';
import vxlanConfig from '../../../../src/checks/overlay/vxlan-config.js';
import { runChecks } from '../../../../src/checks/runner.js';
import { buildModel } from '../../../../src/model/build.js';
import type { ProbeResults } from '../../../../src/probe/types.js';
import type { ClusterSnapshot, FdbEntry, SandboxSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { failed, lab, labWith, makeUnreachable, NDNET_LB, NDNET_SANDBOX, nodeOf, sandboxOf, setSection } from '../../../support/lab-mutate.js';

const INGRESS_SANDBOX = `1-${lab()
  .cluster.networks.find((n) => n.name === 'ingress')!
  .id.slice(0, 10)}`;
/** What nsenter prints for a netns file whose namespace is gone (the bind mount was lost). */
const EINVAL = "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument";

const ndnet = (s: ClusterSnapshot) => s.cluster.networks.find((n) => n.name === 'ndnet')!;
const ndnetOn = (s: ClusterSnapshot, node: string): SandboxSnapshot => sandboxOf(s, node, NDNET_SANDBOX);
const vxlan0 = (sb: SandboxSnapshot) => sb.links.find((l) => l.name === 'vxlan0')!;
const fdbEntry = (mac: string, dst: string): FdbEntry => ({ mac, dev: 'vxlan0', dst, vlan: null, flags: ['self'], state: 'permanent' });
const withoutRemoteFdb = (sb: SandboxSnapshot, mac: string) => {
  sb.fdb = sb.fdb.filter((e) => !(e.mac === mac && e.dst !== null));
};

// ---------------------------------------------------------------------------
// overlay.sandbox.missing

checkTester(sandboxMissing, {
  valid: [
    {
      name: 'healthy lab: every node has its ndnet and ingress sandboxes',
      snapshot: lab,
      passes: [{ status: 'pass', messageId: 'present', node: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'a node not collected, another whose namespaces cannot be listed: one framework skip each',
      snapshot: () =>
        labWith((s) => {
          makeUnreachable(s, 'nd3');
          setSection(s, 'nd2', 'netns/list', failed('ls: cannot open directory /var/run/docker/netns: Permission denied', 2));
        }),
      skips: [
        { status: 'skip', messageId: 'skip.not-collected', node: 'nd3' },
        { status: 'skip', messageId: 'skip.no-sandbox-list', node: 'nd2' },
      ],
    },
    {
      name: 'a sandbox that cannot be entered for another reason than a dead namespace is a skip, not a failure',
      snapshot: () => labWith((s) => (ndnetOn(s, 'nd2').enterError = 'nsenter: cannot open /var/run/docker/netns/1-aweos9uhri: Permission denied')),
      skips: [{ status: 'skip', messageId: 'notEntered', node: 'nd2', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'overlay sandbox missing on a node that runs a task',
      snapshot: () => labWith((s) => (nodeOf(s, 'nd3').sandboxes = nodeOf(s, 'nd3').sandboxes.filter((x) => x.name !== NDNET_SANDBOX))),
      errors: [{ status: 'fail', messageId: 'missing', node: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'dead netns file (EINVAL) for a network the node hosts',
      snapshot: () => labWith((s) => Object.assign(ndnetOn(s, 'nd2'), { enterError: EINVAL, links: [], fdb: [], neighbours: [], addresses: [] })),
      errors: [{ status: 'fail', messageId: 'dead', node: 'nd2', network: 'ndnet' }],
    },
    {
      name: 'a second, older epoch of the same network sandbox',
      snapshot: () => labWith((s) => nodeOf(s, 'nd1').sandboxes.push({ ...structuredClone(ndnetOn(s, 'nd1')), name: '2-aweos9uhri' })),
      errors: [{ status: 'warn', messageId: 'severalEpochs', node: 'nd1', network: 'ndnet' }],
    },
    {
      name: 'sandboxes of a removed network, and a dead lb sandbox of an existing one',
      snapshot: () =>
        labWith((s) => {
          const empty = { links: [], addresses: [], fdb: [], neighbours: [], networkId: null, networkName: null };
          nodeOf(s, 'nd2').sandboxes.push(
            { ...empty, name: '1-deadbeef00', kind: 'overlay', networkIdPrefix: 'deadbeef00', enterError: null },
            { ...empty, name: 'lb_deadbeef0', kind: 'lb', networkIdPrefix: 'deadbeef0', enterError: EINVAL },
          );
          sandboxOf(s, 'nd3', NDNET_LB).enterError = EINVAL;
        }),
      errors: [
        { status: 'warn', messageId: 'orphan', node: 'nd2', network: null },
        { status: 'warn', messageId: 'orphan', node: 'nd2', network: null },
        { status: 'warn', messageId: 'deadLb', node: 'nd3', network: 'ndnet' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.vxlan.config

checkTester(vxlanConfig, {
  valid: [
    {
      name: 'healthy lab: VNI and port as the swarm says',
      snapshot: lab,
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd1', network: 'ingress' }],
    },
    {
      name: 'a failed `ip -d link` in the sandbox skips that network on that node',
      snapshot: () =>
        labWith((s) => (nodeOf(s, 'nd2').raw[`netns/${NDNET_SANDBOX}/link`] = failed('Cannot open netlink socket: Operation not permitted'))),
      skips: [{ status: 'skip', messageId: 'skip.section-missing', node: 'nd2', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'wrong VNI on vxlan0, another UDP port on the ingress vxlan, a vxlan link DOWN',
      snapshot: () =>
        labWith((s) => {
          vxlan0(ndnetOn(s, 'nd2')).vxlan!.id = 4098;
          vxlan0(sandboxOf(s, 'nd3', INGRESS_SANDBOX)).vxlan!.port = 8472;
          vxlan0(ndnetOn(s, 'nd1')).state = 'DOWN';
        }),
      errors: [
        { status: 'fail', messageId: 'wrong', node: 'nd2', network: 'ndnet' },
        { status: 'fail', messageId: 'wrong', node: 'nd3', network: 'ingress' },
        { status: 'fail', messageId: 'wrong', node: 'nd1', network: 'ndnet' },
      ],
    },
    {
      name: 'no vxlan interface at all; vxlan details missing from ip -d link',
      snapshot: () =>
        labWith((s) => {
          ndnetOn(s, 'nd3').links = ndnetOn(s, 'nd3').links.filter((l) => l.kind !== 'vxlan');
          delete vxlan0(ndnetOn(s, 'nd1')).vxlan;
        }),
      errors: [
        { status: 'fail', messageId: 'noVxlan', node: 'nd3', network: 'ndnet' },
        { status: 'warn', messageId: 'unknown', node: 'nd1', network: 'ndnet' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.mtu.consistent

checkTester(mtuConsistent, {
  valid: [
    { name: 'healthy lab: 1450 on a 1500 underlay', snapshot: lab, passes: [{ status: 'pass', messageId: 'fits', node: 'nd2', network: 'ndnet' }] },
    {
      name: 'a node without an advertise address is skipped by the framework; no interface with the address: the check skips',
      snapshot: () =>
        labWith((s) => {
          s.cluster.nodes.find((n) => n.name === 'nd2')!.advertiseAddress = null;
          for (const i of nodeOf(s, 'nd3').host!.interfaces) i.addresses = i.addresses.filter((a) => a.address !== '10.213.0.13');
        }),
      skips: [
        { status: 'skip', messageId: 'skip.no-advertise-address', node: 'nd2' },
        { status: 'skip', messageId: 'noUnderlay', node: 'nd3', network: 'ndnet' },
        { status: 'skip', messageId: 'noUnderlay', node: 'nd3', network: 'ingress' },
      ],
    },
  ],
  invalid: [
    {
      name: 'underlay MTU lowered to 1400 on nd1',
      snapshot: () => labWith((s) => (nodeOf(s, 'nd1').host!.interfaces.find((i) => i.name === 'eth0')!.mtu = 1400)),
      errors: [
        { status: 'fail', messageId: 'tooLarge', node: 'nd1', network: 'ingress' },
        { status: 'fail', messageId: 'tooLarge', node: 'nd1', network: 'ndnet' },
      ],
    },
    {
      name: 'network option mtu above what the underlay allows',
      snapshot: () => labWith((s) => (ndnet(s).mtu = 1500)),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'fail' as const, messageId: 'optionTooLarge', node, network: 'ndnet' })),
    },
    {
      name: 'network option mtu differs from the sandbox',
      snapshot: () => labWith((s) => (ndnet(s).mtu = 1400)),
      errors: ['nd1', 'nd2', 'nd3'].map((node) => ({ status: 'warn' as const, messageId: 'optionDiffers', node, network: 'ndnet' })),
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.fdb.*

checkTester(fdbMissing, {
  valid: [
    { name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'complete', node: 'nd1', network: 'ndnet' }] },
    {
      name: 'a failed `bridge fdb` skips instead of calling every entry missing',
      snapshot: () =>
        labWith((s) => {
          nodeOf(s, 'nd2').raw[`netns/${NDNET_SANDBOX}/fdb`] = failed('bridge: command not found', 127);
          ndnetOn(s, 'nd2').fdb = [];
        }),
      skips: [{ status: 'skip', messageId: 'skip.section-missing', node: 'nd2', network: 'ndnet' }],
    },
    {
      name: 'nd3 down: one skip, and no entry toward it is called missing on the others',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')),
      skips: [{ status: 'skip', messageId: 'skip.not-collected', node: 'nd3' }],
    },
  ],
  invalid: [
    {
      name: "FDB entry of web.1 (on nd2) deleted on nd1; nd1's lb endpoint deleted on nd3",
      snapshot: () =>
        labWith((s) => {
          withoutRemoteFdb(ndnetOn(s, 'nd1'), '02:42:0a:00:01:03');
          withoutRemoteFdb(ndnetOn(s, 'nd3'), '02:42:0a:00:01:08');
        }),
      errors: [
        { status: 'fail', messageId: 'missing', node: 'nd1', peer: 'nd2', network: 'ndnet' },
        { status: 'fail', messageId: 'missing', node: 'nd3', peer: 'nd1', network: 'ndnet' },
      ],
    },
  ],
});

checkTester(fdbWrongDst, {
  valid: [{ name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'right', node: 'nd2', network: 'ingress' }] }],
  invalid: [
    {
      name: 'web.1 pointed at nd3 instead of nd2 on nd1; an extra copy toward nd1 besides the right one on nd3',
      snapshot: () =>
        labWith((s) => {
          ndnetOn(s, 'nd1').fdb.find((x) => x.mac === '02:42:0a:00:01:03' && x.dst !== null)!.dst = '10.213.0.13';
          ndnetOn(s, 'nd3').fdb.push(fdbEntry('02:42:0a:00:01:03', '10.213.0.11'));
        }),
      errors: [
        { status: 'fail', messageId: 'wrong', node: 'nd1', peer: 'nd2', network: 'ndnet' },
        { status: 'warn', messageId: 'extra', node: 'nd3', peer: 'nd2', network: 'ndnet' },
      ],
    },
  ],
});

checkTester(fdbStale, {
  valid: [
    { name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'none', node: 'nd3', network: 'ndnet' }] },
    {
      name: 'nd3 down: the entry for its lb endpoint (unseen) is not called stale',
      snapshot: () => labWith((s) => makeUnreachable(s, 'nd3')),
      passes: [{ status: 'pass', messageId: 'none', node: 'nd1', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'unknown MAC toward a node, toward no node, a flood entry toward no node, and an endpoint that now runs locally',
      snapshot: () =>
        labWith((s) => {
          const sb = ndnetOn(s, 'nd1');
          sb.fdb.push(fdbEntry('02:42:0a:00:01:09', '10.213.0.12'), fdbEntry('02:42:0a:00:01:0a', '10.213.0.99'));
          sb.fdb.push(fdbEntry('00:00:00:00:00:00', '10.213.0.98'));
          ndnetOn(s, 'nd2').fdb.push(fdbEntry('02:42:0a:00:01:07', '10.213.0.13'));
        }),
      errors: [
        { status: 'warn', messageId: 'stale', node: 'nd1', peer: 'nd2', network: 'ndnet' },
        { status: 'warn', messageId: 'stale', node: 'nd1', peer: '10.213.0.99', network: 'ndnet' },
        { status: 'warn', messageId: 'stale', node: 'nd1', peer: '10.213.0.98', network: 'ndnet' },
        { status: 'warn', messageId: 'stale', node: 'nd2', peer: 'nd3', network: 'ndnet' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.neigh.consistent

checkTester(neighConsistent, {
  valid: [
    { name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'consistent', node: 'nd2', network: 'ndnet' }] },
    {
      name: "MACs not derived from IPs: the hosting node's interface is the truth",
      snapshot: () =>
        labWith((s) => {
          const mac = 'aa:bb:cc:00:01:03';
          nodeOf(s, 'nd2')
            .sandboxes.find((x) => x.kind === 'container')!
            .links.find((l) => l.name === 'eth1')!.mac = mac;
          for (const n of ['nd1', 'nd3']) for (const e of ndnetOn(s, n).neighbours) if (e.dst === '10.0.1.3') e.mac = mac;
        }),
    },
    {
      name: 'a failed `ip neigh` skips that network on that node',
      snapshot: () =>
        labWith((s) => (nodeOf(s, 'nd3').raw[`netns/${NDNET_SANDBOX}/neigh`] = failed('Cannot open netlink socket: Operation not permitted'))),
      skips: [{ status: 'skip', messageId: 'skip.section-missing', node: 'nd3', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: "web.1 resolved to web.2's MAC, and no neighbour for nd3's lb endpoint, on nd1",
      snapshot: () =>
        labWith((s) => {
          const sb = ndnetOn(s, 'nd1');
          sb.neighbours.find((n) => n.dst === '10.0.1.3')!.mac = '02:42:0a:00:01:04';
          sb.neighbours = sb.neighbours.filter((n) => n.dst !== '10.0.1.6');
        }),
      errors: [
        { status: 'fail', messageId: 'wrongMac', node: 'nd1', peer: 'nd2', network: 'ndnet' },
        { status: 'warn', messageId: 'missing', node: 'nd1', peer: 'nd3', network: 'ndnet' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.peers.consistent

checkTester(peersConsistent, {
  valid: [
    { name: 'healthy lab', snapshot: lab, passes: [{ status: 'pass', messageId: 'listed', node: 'nd3', network: 'ndnet' }] },
    {
      name: 'a network the manager takes no part in: it cannot list the peers',
      snapshot: () =>
        labWith((s) => {
          s.cluster.networks.push({
            ...structuredClone(ndnet(s)),
            id: 'q1w2e3r4t5y6u7i8o9p0a1s2d',
            name: 'elsewhere',
            endpoints: [],
            peers: [],
            serviceVips: {},
          });
        }),
      skips: [{ status: 'skip', messageId: 'managerOutside', node: null, network: 'elsewhere' }],
    },
  ],
  invalid: [
    {
      name: 'nd3 runs web.2 but is missing from the peers; a peer that is no swarm node',
      snapshot: () =>
        labWith((s) => {
          const net = ndnet(s);
          net.peers = net.peers.filter((p) => p.ip !== '10.213.0.13');
          net.peers.push({ name: 'gone', ip: '10.213.0.99' });
        }),
      errors: [
        { status: 'fail', messageId: 'notListed', node: 'nd3', network: 'ndnet' },
        { status: 'warn', messageId: 'unknownPeer', node: null, peer: '10.213.0.99', network: 'ndnet' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// overlay.datapath.* on the probes recorded in the example bundle (nd2 → nd3 on ndnet blocked)

const recorded = (await readBundle(new URL('../../../../examples/netdoctor-lab-fdb-wrong-dst.tar.gz', import.meta.url).pathname)).snapshot.probes!;
const probes = (fn: (p: ProbeResults) => void = () => {}): ProbeResults => {
  const p = structuredClone(recorded);
  fn(p);
  return p;
};
const unblocked = (p: ProbeResults) => {
  for (const d of p.dataPath) if (d.state === 'blocked') Object.assign(d, { state: 'ok', dfState: 'ok', detail: '' });
};

checkTester(datapathReachable, {
  valid: [
    { name: 'no probes run: one framework skip', snapshot: lab, probes: null, skips: [{ status: 'skip', messageId: 'skip.no-probes', node: null }] },
    {
      name: 'every recorded path answered',
      snapshot: lab,
      probes: probes(unblocked),
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd2', peer: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'probes that could not run on a node, and none recorded',
      snapshot: lab,
      probes: probes((p) => {
        p.dataPath = [];
        p.errors.push({ node: 'nd3', message: 'no ping in the sandbox' });
      }),
      skips: [
        { status: 'skip', messageId: 'probeError', node: 'nd3' },
        { status: 'skip', messageId: 'noProbes', node: null },
      ],
    },
  ],
  invalid: [
    {
      name: 'as recorded: nd2 → nd3 on ndnet blocked',
      snapshot: lab,
      probes: probes(),
      errors: [{ status: 'fail', messageId: 'blocked', node: 'nd2', peer: 'nd3', network: 'ndnet' }],
    },
    {
      name: 'a path that could not be confirmed',
      snapshot: lab,
      probes: probes((p) => {
        unblocked(p);
        Object.assign(
          p.dataPath.find((d) => d.from === 'nd1' && d.to === 'nd3' && d.network === 'ndnet')!,
          { state: 'unconfirmed', detail: 'no task address to ping' },
        );
      }),
      errors: [{ status: 'warn', messageId: 'unconfirmed', node: 'nd1', peer: 'nd3', network: 'ndnet' }],
    },
  ],
});

checkTester(datapathMtu, {
  valid: [
    { name: 'no probes run: one framework skip', snapshot: lab, probes: null, skips: [{ status: 'skip', messageId: 'skip.no-probes', node: null }] },
    {
      name: 'as recorded: full-size passes, the blocked path is left to overlay.datapath.reachable',
      snapshot: lab,
      probes: probes(),
      skips: [{ status: 'skip', messageId: 'pathUnconfirmed', node: 'nd2', peer: 'nd3', network: 'ndnet' }],
      passes: [{ status: 'pass', messageId: 'ok', node: 'nd1', peer: 'nd2', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: "small packets cross nd3 → nd1 but don't-fragment full-size ones do not; one full-size probe unconfirmed",
      snapshot: lab,
      probes: probes((p) => {
        unblocked(p);
        p.dataPath.find((d) => d.from === 'nd3' && d.to === 'nd1' && d.network === 'ndnet')!.dfState = 'blocked';
        p.dataPath.find((d) => d.from === 'nd1' && d.to === 'nd2' && d.network === 'ingress')!.dfState = 'unconfirmed';
      }),
      errors: [
        { status: 'fail', messageId: 'blocked', node: 'nd3', peer: 'nd1', network: 'ndnet' },
        { status: 'warn', messageId: 'unconfirmed', node: 'nd1', peer: 'nd2', network: 'ingress' },
      ],
    },
  ],
});

// ---------------------------------------------------------------------------
// The FDB/neighbour analysis is part of the model: once per (node, network)

describe('model.overlay', () => {
  it('analyses each sandbox once, shared by the fdb and neigh checks', () => {
    const model = buildModel(lab());
    const nd1 = model.node('nd1')!;
    const net = model.network('ndnet')!;
    const sb = nd1.sandboxes.find((x) => x.name === NDNET_SANDBOX)!;
    const first = model.overlay.at(nd1, net, sb);
    runChecks(model, {}, [fdbMissing, fdbWrongDst, fdbStale, neighConsistent]);
    expect(model.overlay.at(nd1, net, sb)).toBe(first);
    expect(model.overlay.members(net)).toBe(first.members);
    // web.1..3 and the three lb endpoints; two of each are remote from nd1.
    expect(first.members.map((m) => m.ip).sort()).toEqual(['10.0.1.3', '10.0.1.4', '10.0.1.5', '10.0.1.6', '10.0.1.7', '10.0.1.8']);
    expect(first.fdb.remoteCount).toBe(4);
    expect(first.neigh.checked).toBe(4);
  });

  it('a node name with shell metacharacters never reaches a command unquoted', () => {
    const s = labWith((x) => {
      withoutRemoteFdb(ndnetOn(x, 'nd1'), '02:42:0a:00:01:03');
      nodeOf(x, 'nd1').host!.dockerd.execRoot = '/run/docker $(reboot)';
    });
    const f = runCheck(fdbMissing, { name: '', snapshot: () => s }).find((x) => x.status === 'fail')!;
    expect(f.remediation).toContain(
      "nsenter --net='/run/docker $(reboot)/netns/1-aweos9uhri' bridge fdb replace 02:42:0a:00:01:03 dev vxlan0 dst 10.213.0.12",
    );
  });
});
