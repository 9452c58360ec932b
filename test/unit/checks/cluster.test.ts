import { describe, expect, it } from 'vitest';
import { REGISTRY } from '../../../src/checks/registry.js';

const clusterChecks = REGISTRY.filter((c) => c.meta.layer === 'cluster' && !c.meta.id.startsWith('host.gwbridge'));
import { cidrContainsIp, cidrsOverlap, formatIp, networkOf, parseCidr, parseIp } from '../../../src/net/ip.js';
import { runChecks } from '../../../src/checks/runner.js';
import type { Finding } from '../../../src/checks/types.js';
import type { NodeSummary } from '../../../src/cluster/nodes.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { expectOne, type Expect } from '../../support/findings.js';

const HEALTHY = labSnapshot('healthy');
const lab = (): ClusterSnapshot => structuredClone(HEALTHY);
const run = (s: ClusterSnapshot): Finding[] => runChecks({ snapshot: s, probes: null }, {}, clusterChecks);
const summary = (s: ClusterSnapshot, name: string): NodeSummary => s.cluster.nodes.find((n) => n.name === name)!;
const of = (fs: Finding[], id: string, n?: string) => fs.filter((f) => f.id === id && (n === undefined || f.node === n));
const promote = (s: ClusterSnapshot, name: string, managerStatus = 'reachable') =>
  Object.assign(summary(s, name), { role: 'manager', managerStatus });

describe('cidr helpers', () => {
  it.each([
    ['10.0.1.0/24', '10.0.0.0/16', true],
    ['10.0.1.0/24', '10.0.0.0/24', false],
    ['10.213.0.0/24', '10.0.0.0/8', true],
    ['fd00:1::/64', 'fd00::/16', true],
    ['fd00:1::/64', '10.0.0.0/8', false],
    ['192.168.1.7', '192.168.1.0/24', true],
  ])('%s overlaps %s: %s', (a, b, want) => {
    expect(cidrsOverlap(parseCidr(a)!, parseCidr(b)!)).toBe(want);
  });

  it('reads and writes addresses', () => {
    expect(parseCidr('10.0.1.77/24')).toMatchObject({ family: 4, prefix: 24, base: 0x0a000100n });
    expect(parseCidr('10.0.1.0/33')).toBeNull();
    expect(parseIp('::ffff:10.0.0.1')).toEqual({ family: 6, value: 0xffff0a000001n });
    expect(formatIp(parseIp('fe80:0:0:0:d0b3:f5ff:fe0b:e6b1')!)).toBe('fe80::d0b3:f5ff:fe0b:e6b1');
    expect(networkOf('10.213.0.11', 24)?.text).toBe('10.213.0.0/24');
    expect(cidrContainsIp('10.213.0.0/24', '10.213.0.12')).toBe(true);
    expect(cidrContainsIp('10.213.0.0/24', 'nonsense')).toBeNull();
  });
});

describe('cluster checks on the healthy lab', () => {
  const fs = run(lab());

  it('has no failures; the only warnings are the default address pool over the lab underlay', () => {
    expect(fs.filter((f) => f.status === 'fail' || f.status === 'error')).toEqual([]);
    expect(fs.filter((f) => f.status === 'warn').map((f) => [f.id, f.node])).toEqual([
      ['cluster.subnets.overlap', 'nd1'],
      ['cluster.subnets.overlap', 'nd2'],
      ['cluster.subnets.overlap', 'nd3'],
    ]);
    expect(of(fs, 'cluster.subnets.overlap', 'nd1')[0]!.detail).toMatch(
      /default address pool 10\.0\.0\.0\/8 .* overlaps the underlay of nd1: 10\.213\.0\.0\/24 \(eth0 address 10\.213\.0\.11\/24\)/,
    );
  });

  it('passes name what was verified', () => {
    expect(of(fs, 'cluster.swarm.active')[0]!.detail).toContain('wn6sc0188zamlzxx3kgidpw07');
    expect(of(fs, 'cluster.managers.quorum')[0]).toMatchObject({ status: 'pass', detail: expect.stringContaining('single manager nd1') });
    expect(of(fs, 'cluster.advertise.address').map((f) => [f.status, f.node, f.detail])).toEqual([
      ['pass', 'nd1', 'nd1 advertises 10.213.0.11, on eth0'],
      ['pass', 'nd2', 'nd2 advertises 10.213.0.12, on eth0'],
      ['pass', 'nd3', 'nd3 advertises 10.213.0.13, on eth0'],
    ]);
    expect(of(fs, 'cluster.nodes.state').map((f) => [f.status, f.node])).toEqual([
      ['pass', 'nd1'],
      ['pass', 'nd2'],
      ['pass', 'nd3'],
    ]);
    expect(of(fs, 'cluster.engine.skew')[0]).toMatchObject({ status: 'pass', detail: 'all 3 nodes run Engine 20.10.24+dfsg1' });
    expect(of(fs, 'cluster.datapath.port')[0]).toMatchObject({ status: 'pass', detail: 'data-path port is the default udp/4789' });
  });

  it('with an explicit pool clear of the underlay, the subnets pass', () => {
    const s = lab();
    s.cluster.defaultAddrPool = ['10.10.0.0/16'];
    expect(of(run(s), 'cluster.subnets.overlap')).toMatchObject([
      { status: 'pass', detail: expect.stringContaining('ndnet 10.0.1.0/24, ingress 10.0.0.0/24') },
    ]);
  });
});

const cases: { name: string; mutate: (s: ClusterSnapshot) => void; expect: Expect[] }[] = [
  {
    name: 'no swarm',
    mutate: (s) => {
      s.cluster.swarmId = null;
    },
    expect: [
      { id: 'cluster.swarm.active', status: 'fail', node: null, remediation: /docker swarm init/ },
      { id: 'cluster.managers.quorum', status: 'skip', detail: /no active swarm/ },
      { id: 'cluster.subnets.overlap', status: 'skip' },
    ],
  },
  {
    name: 'one of three managers unreachable',
    mutate: (s) => {
      promote(s, 'nd2');
      promote(s, 'nd3', 'unreachable');
    },
    expect: [
      {
        id: 'cluster.managers.quorum',
        status: 'warn',
        node: 'nd3',
        detail: /manager nd3 is unreachable \(2\/3 reachable, quorum needs 2; one more loss and the swarm loses quorum\)/,
        remediation: /docker node demote nd3/,
      },
    ],
  },
  {
    name: 'quorum lost: two of three managers unreachable',
    mutate: (s) => {
      promote(s, 'nd2', 'unreachable');
      promote(s, 'nd3', 'unreachable');
    },
    expect: [
      {
        id: 'cluster.managers.quorum',
        status: 'fail',
        node: null,
        detail: /quorum lost: 1 of 3 managers reachable, raft needs 2 \(unreachable: nd2 and nd3\)/,
        remediation: /--force-new-cluster/,
      },
      { id: 'cluster.managers.quorum', status: 'fail', node: 'nd2' },
      { id: 'cluster.managers.quorum', status: 'fail', node: 'nd3' },
    ],
  },
  {
    name: 'even number of managers',
    mutate: (s) => {
      promote(s, 'nd2');
    },
    expect: [{ id: 'cluster.managers.quorum', status: 'warn', node: null, detail: /2 managers: an even count/ }],
  },
  {
    name: 'manager down and a drained worker',
    mutate: (s) => {
      summary(s, 'nd3').state = 'down';
      summary(s, 'nd2').availability = 'drain';
    },
    expect: [
      {
        id: 'cluster.nodes.state',
        status: 'fail',
        node: 'nd3',
        detail: /nd3 \(worker, 10\.213\.0\.13\) is down/,
        remediation: /docker node inspect nd3/,
      },
      { id: 'cluster.nodes.state', status: 'warn', node: 'nd2', detail: /availability is drain/, remediation: /--availability active nd2/ },
      { id: 'cluster.nodes.state', status: 'pass', node: 'nd1' },
    ],
  },
  {
    name: 'advertise address on no interface of the node',
    mutate: (s) => {
      summary(s, 'nd2').advertiseAddress = '10.213.0.99';
    },
    expect: [
      {
        id: 'cluster.advertise.address',
        status: 'fail',
        node: 'nd2',
        detail: /nd2 advertises 10\.213\.0\.99, but no interface on nd2 has that address \(it has 10\.213\.0\.12 \(eth0\)\)/,
        remediation: /docker swarm join --advertise-addr 10\.213\.0\.12/,
      },
      { id: 'cluster.advertise.address', status: 'pass', node: 'nd1' },
    ],
  },
  {
    name: 'loopback advertise address',
    mutate: (s) => {
      summary(s, 'nd3').advertiseAddress = '127.0.0.1';
    },
    expect: [{ id: 'cluster.advertise.address', status: 'fail', node: 'nd3', detail: /advertises 127\.0\.0\.1 \(loopback\)/ }],
  },
  {
    name: 'two nodes advertise the same address',
    mutate: (s) => {
      summary(s, 'nd3').advertiseAddress = '10.213.0.12';
    },
    expect: [
      { id: 'cluster.advertise.address', status: 'fail', node: 'nd2', peer: 'nd3', detail: /same address 10\.213\.0\.12/ },
      { id: 'cluster.advertise.address', status: 'fail', node: 'nd3', peer: 'nd2' },
    ],
  },
  {
    name: 'advertise address on a Docker bridge',
    mutate: (s) => {
      summary(s, 'nd2').advertiseAddress = '172.18.0.1';
    },
    expect: [{ id: 'cluster.advertise.address', status: 'fail', node: 'nd2', detail: /on docker_gwbridge, a Docker bridge/ }],
  },
  {
    name: 'node not collected: its interface check skips',
    mutate: (s) => {
      Object.assign(
        s.nodes.find((n) => n.name === 'nd3')!,
        { host: null, status: 'unreachable', errors: [{ stage: 'connect', kind: 'refused', message: 'connect ECONNREFUSED 10.213.0.13:22' }] },
      );
    },
    expect: [
      { id: 'cluster.advertise.address', status: 'skip', node: 'nd3', detail: /node not collected: connect ECONNREFUSED/ },
      { id: 'cluster.subnets.overlap', status: 'skip', node: 'nd3' },
    ],
  },
  {
    name: 'overlay subnet over the lab underlay',
    mutate: (s) => {
      s.cluster.networks.find((n) => n.name === 'ndnet')!.subnets = [{ subnet: '10.213.0.0/24', gateway: '10.213.0.1' }];
    },
    expect: ['nd1', 'nd2', 'nd3'].map((node) => ({
      id: 'cluster.subnets.overlap',
      status: 'fail' as const,
      node,
      network: 'ndnet',
      detail: new RegExp(`overlay ndnet 10\\.213\\.0\\.0/24 overlaps the underlay 10\\.213\\.0\\.0/24 on ${node} \\(eth0 address`),
      remediation: /docker network create -d overlay --subnet <free \/24> ndnet/,
    })),
  },
  {
    name: 'two overlays overlap',
    mutate: (s) => {
      s.cluster.defaultAddrPool = ['10.0.0.0/16'];
      s.cluster.networks.find((n) => n.name === 'ndnet')!.subnets = [{ subnet: '10.0.0.0/23', gateway: '10.0.0.1' }];
    },
    expect: [
      {
        id: 'cluster.subnets.overlap',
        status: 'fail',
        node: null,
        network: 'ndnet',
        detail: /overlay ndnet 10\.0\.0\.0\/23 overlaps ingress 10\.0\.0\.0\/24/,
      },
    ],
  },
  {
    name: 'overlay overlaps docker_gwbridge, and a routed range',
    mutate: (s) => {
      s.cluster.defaultAddrPool = ['10.10.0.0/16'];
      s.cluster.networks.find((n) => n.name === 'ndnet')!.subnets = [{ subnet: '172.18.0.0/24', gateway: '172.18.0.1' }];
      s.nodes.find((n) => n.name === 'nd2')!.host!.routes.push({ dst: '10.0.0.0/16', dev: 'eth0', gateway: '10.213.0.1', protocol: 'static' });
    },
    expect: [
      {
        id: 'cluster.subnets.overlap',
        status: 'fail',
        node: 'nd1',
        network: 'ndnet',
        detail: /overlaps docker_gwbridge address 172\.18\.0\.1\/16 on nd1/,
      },
      {
        id: 'cluster.subnets.overlap',
        status: 'warn',
        node: 'nd2',
        network: 'ingress',
        detail: /overlaps route 10\.0\.0\.0\/16 via 10\.213\.0\.1 dev eth0 on nd2/,
      },
    ],
  },
  {
    name: 'engine versions differ',
    mutate: (s) => {
      summary(s, 'nd3').engineVersion = '24.0.7';
    },
    expect: [
      {
        id: 'cluster.engine.skew',
        status: 'warn',
        node: null,
        detail: /20\.10\.24\+dfsg1 on nd1 and nd2; 24\.0\.7 on nd3.*major/,
        // The newest is the target: an Engine is never downgraded.
        remediation: /Upgrade nd1 and nd2 to 24\.0\.7, managers first/,
      },
    ],
  },
  {
    name: 'non-default data-path port',
    mutate: (s) => {
      s.cluster.dataPathPort = 4800;
    },
    expect: [{ id: 'cluster.datapath.port', status: 'pass', detail: /data-path port is 4800 \(not 4789\): firewalls .* must allow udp\/4800/ }],
  },
];

describe('cluster checks on faults', () => {
  it.each(cases)('$name', ({ mutate, expect: want }) => {
    const s = lab();
    mutate(s);
    const fs = run(s);
    expect(fs.filter((f) => f.status === 'error')).toEqual([]);
    for (const w of want) {
      expectOne(fs, w);
    }
  });
});

describe('one IP library (src/net/ip.ts, ipaddr.js)', () => {
  it('refuses what is not an address or prefix, the same way for every caller', () => {
    expect(parseCidr('10.0.1.0/')).toBeNull();
    expect(cidrContainsIp('10.0.1.0/', '10.0.1.5')).toBeNull();
    expect(parseIp('10.0.1')).toBeNull();
    expect(parseIp('10.0.1.256')).toBeNull();
    expect(parseIp('fe80::1%eth0')?.family).toBe(6);
    expect(formatIp(parseIp('fd00:0:0:0:0:0:0:1')!)).toBe('fd00::1');
    expect(cidrContainsIp('10.0.1.0/24', '10.0.1.5')).toBe(true);
  });
});
