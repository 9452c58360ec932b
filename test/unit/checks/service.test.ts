import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import { REGISTRY } from '../../../src/checks/registry.js';

const serviceChecks = REGISTRY.filter((c) => c.meta.layer === 'service' && !c.meta.id.startsWith('host.gwbridge'));
import type { Finding } from '../../../src/checks/types.js';
import type { ClusterSnapshot, NodeSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { fixture, HOST_NAT_OK, ipvsText, labWithIpvs, real } from '../../support/lb-fixtures.js';

// The lab kernel has no IPVS, so docker programmed no routing mesh there. To
// test the IPVS/iptables comparisons, nd1's sections are replaced with the
// real-host forms of test/fixtures/{ipvs,iptables} (rc 0), matched to the lab's
// service: web publishes 8080/tcp (fwmark 0x100 = 256 in ingress_sbox), its
// tasks are 10.0.0.6/7/8 on ingress and 10.0.1.3/4/5 on ndnet (VIP 10.0.1.2,
// fwmark 0x101 = 257 in lb_aweos9uhr).
const HEALTHY = labSnapshot('healthy');
const LB = 'lb_aweos9uhr';

type Brief = Pick<Finding, 'id' | 'status' | 'node' | 'peer' | 'network'>;
const brief = (f: Finding): Brief => ({ id: f.id, status: f.status, node: f.node, peer: f.peer, network: f.network });
const order = (a: Brief, b: Brief) => JSON.stringify(a).localeCompare(JSON.stringify(b));
const f = (id: string, status: Finding['status'], node: string | null, network: string | null): Brief => ({ id, status, node, peer: null, network });

const run = (s: ClusterSnapshot) => runChecks({ snapshot: s, probes: null }, {}, serviceChecks);
const node = (s: ClusterSnapshot, name: string): NodeSnapshot => s.nodes.find((n) => n.name === name)!;

const withIpvs = labWithIpvs;

/** nd2 and nd3 keep the lab's real state: no IPVS, reported once each; their other checks skip. */
const LAB_NO_IPVS = [f('service.ingress.ipvs-available', 'fail', 'nd2', null), f('service.ingress.ipvs-available', 'fail', 'nd3', null)];
/** Findings about nd1 that are not pass or skip. */
const nd1Problems = (fs: Finding[]) =>
  fs
    .filter((x) => x.node === 'nd1' && x.status !== 'pass' && x.status !== 'skip')
    .map(brief)
    .sort(order);

describe('service checks on the healthy lab (kernel without IPVS)', () => {
  const findings = run(HEALTHY);

  it('fails service.ingress.ipvs-available on every node, naming the published port', () => {
    const fails = findings.filter((x) => x.status === 'fail');
    expect(fails.map(brief).sort(order)).toEqual(['nd1', 'nd2', 'nd3'].map((n) => f('service.ingress.ipvs-available', 'fail', n, null)));
    for (const x of fails) {
      expect(x.detail).toContain('8080/tcp (web)');
      expect(x.detail).toContain('IPVS is not available in this kernel');
      expect(x.detail).toContain('web on ndnet (VIP 10.0.1.2)');
      expect(x.remediation).toContain(`on ${x.node}: modprobe ip_vs && modprobe ip_vs_rr`);
    }
  });

  it('reports nothing else as a problem: the other load-balancer checks skip the nodes, pointing at the root cause', () => {
    expect(findings.filter((x) => x.status === 'warn' || x.status === 'error')).toEqual([]);
    for (const id of ['service.ingress.dnat', 'service.ingress.mark', 'service.ingress.backends', 'service.vip.backends']) {
      const mine = findings.filter((x) => x.id === id);
      expect(mine.map((x) => `${x.status} ${x.node}`)).toEqual(['skip nd1', 'skip nd2', 'skip nd3']);
      expect(mine[0]!.detail).toContain('see service.ingress.ipvs-available');
    }
  });

  it('passes the ingress sandbox on every node', () => {
    expect(findings.filter((x) => x.id === 'service.ingress.sandbox').map((x) => `${x.status} ${x.node} ${x.network}`)).toEqual([
      'pass nd1 ingress',
      'pass nd2 ingress',
      'pass nd3 ingress',
    ]);
  });

  it('every check has a layer.topic.name id, a title, looksAt and a remediation', () => {
    for (const c of serviceChecks) {
      expect(c.meta.id).toMatch(/^service\.[a-z-]+\.[a-z-]+$/);
      expect(c.meta.layer).toBe('service');
      expect(c.meta.title && c.meta.looksAt && c.meta.remediation).toBeTruthy();
    }
  });
});

interface Case {
  name: string;
  snapshot: ClusterSnapshot;
  /** Problems on nd1 (nd2/nd3 keep the lab's IPVS failure). */
  expected: Brief[];
  says?: Record<string, string[]>;
}

const cases: Case[] = [
  { name: 'working routing mesh and VIP load balancer', snapshot: withIpvs(), expected: [] },
  {
    name: 'ingress IPVS backends missing and stale (fixture ingress-sbox.txt)',
    snapshot: withIpvs({ ingressIpvs: fixture('ipvs', 'ingress-sbox.txt') }),
    expected: [f('service.ingress.backends', 'fail', 'nd1', 'ingress')],
    says: {
      'service.ingress.backends': [
        'fwmark 256 of web',
        'missing backends 10.0.0.7 (web.2.5obth16ai47mdryin2x18vie3) and 10.0.0.8 (web.3.l20kkh66ygfnsw4qb2jtscl4m)',
        'stale backends 10.0.0.5 (weight 1)',
        'docker service update --force web',
        'nsenter --net=/var/run/docker/netns/ingress_sbox ipvsadm -d -f 256 -r 10.0.0.5:0',
      ],
    },
  },
  {
    name: 'VIP IPVS backends missing and stale (fixture lb-sandbox.txt)',
    snapshot: withIpvs({ lbIpvs: fixture('ipvs', 'lb-sandbox.txt') }),
    expected: [f('service.vip.backends', 'fail', 'nd1', 'ndnet')],
    says: {
      'service.vip.backends': [
        'lb_aweos9uhr on nd1',
        'fwmark 257 of web',
        'missing backends 10.0.1.4',
        '10.0.1.5',
        'stale backends 10.0.1.8 (weight 1) and 10.0.1.9 (weight 1)',
      ],
    },
  },
  {
    name: 'a running task drained to weight 0',
    snapshot: withIpvs({ ingressIpvs: ipvsText('FWM  256 rr', real('10.0.0.6', 0), real('10.0.0.7'), real('10.0.0.8')) }),
    expected: [f('service.ingress.backends', 'warn', 'nd1', 'ingress')],
    says: { 'service.ingress.backends': ['weight 0', '10.0.0.6 (web.1.'] },
  },
  {
    name: 'a removed task still present with weight 0 (being removed) is a warning, not a failure',
    snapshot: withIpvs({ ingressIpvs: ipvsText('FWM  256 rr', real('10.0.0.5', 0), real('10.0.0.6'), real('10.0.0.7'), real('10.0.0.8')) }),
    expected: [f('service.ingress.backends', 'warn', 'nd1', 'ingress')],
  },
  {
    name: 'no IPVS service for the mark (fixture empty.txt)',
    snapshot: withIpvs({ ingressIpvs: fixture('ipvs', 'empty.txt'), lbIpvs: fixture('ipvs', 'empty.txt') }),
    expected: [f('service.ingress.backends', 'fail', 'nd1', 'ingress'), f('service.vip.backends', 'fail', 'nd1', 'ndnet')],
    says: { 'service.ingress.backends': ['no IPVS service for it'] },
  },
  {
    name: 'host nat has no DOCKER-INGRESS at all (the lab host dump)',
    snapshot: withIpvs({ hostIptables: HEALTHY.nodes[0]!.raw['host/iptables-save']!.stdout }),
    expected: [f('service.ingress.dnat', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.dnat': ['no DOCKER-INGRESS chain', '8080/tcp (web)'] },
  },
  {
    name: 'DNAT rule for the published port missing',
    snapshot: withIpvs({
      hostIptables: HOST_NAT_OK.split('\n')
        .filter((l) => !/DOCKER-INGRESS -p tcp -m tcp --dport 8080 -j DNAT/.test(l))
        .join('\n'),
    }),
    expected: [f('service.ingress.dnat', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.dnat': ['no DNAT for 8080/tcp (web)', 'docker service update --force web'] },
  },
  {
    name: 'DNAT to another address than ingress_sbox',
    snapshot: withIpvs({ hostIptables: HOST_NAT_OK.replace('172.18.0.2:8080', '172.18.0.9:8080') }),
    expected: [f('service.ingress.dnat', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.dnat': ['8080/tcp (web) → 172.18.0.9:8080 (ingress_sbox is 172.18.0.2)'] },
  },
  {
    name: 'PREROUTING does not jump to DOCKER-INGRESS',
    snapshot: withIpvs({ hostIptables: HOST_NAT_OK.replace('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER-INGRESS\n', '') }),
    expected: [f('service.ingress.dnat', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.dnat': ['PREROUTING does not jump to DOCKER-INGRESS'] },
  },
  {
    name: 'leftover DNAT for a port no service publishes (5353/udp in the fixture)',
    snapshot: withIpvs({ hostIptables: fixture('iptables', 'swarm-node-docker24-legacy.txt') }),
    expected: [f('service.ingress.dnat', 'warn', 'nd1', 'ingress')],
    says: {
      'service.ingress.dnat': [
        '5353/udp → 172.18.0.2:5353',
        'iptables -t nat -D DOCKER-INGRESS -p udp -m udp --dport 5353 -j DNAT --to-destination 172.18.0.2:5353',
      ],
    },
  },
  {
    name: 'ingress_sbox mark missing (the lab mangle table)',
    snapshot: withIpvs({ ingressMangle: HEALTHY.nodes[0]!.raw['netns/ingress_sbox/iptables-mangle']!.stdout }),
    expected: [f('service.ingress.mark', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.mark': ['no MARK rule for 8080/tcp (web)'] },
  },
  {
    name: 'VIP mark missing in the lb sandbox',
    snapshot: withIpvs({ lbMangle: fixture('iptables', 'lb-sandbox.txt').replace(/^-A INPUT -d 10\.0\.1\.2\/32.*\n/m, '') }),
    expected: [f('service.vip.backends', 'fail', 'nd1', 'ndnet')],
    says: { 'service.vip.backends': ["no MARK rule for web's VIP 10.0.1.2"] },
  },
  {
    name: 'ingress_sbox missing on a node',
    snapshot: withIpvs({}, (s) => {
      node(s, 'nd1').sandboxes = node(s, 'nd1').sandboxes.filter((x) => x.name !== 'ingress_sbox');
    }),
    expected: [f('service.ingress.sandbox', 'fail', 'nd1', 'ingress')],
    says: { 'service.ingress.sandbox': ['8080/tcp (web) cannot be reached through nd1'] },
  },
  {
    name: 'lb sandbox missing on a node that runs a task of the network',
    snapshot: withIpvs({}, (s) => {
      node(s, 'nd1').sandboxes = node(s, 'nd1').sandboxes.filter((x) => x.name !== LB);
    }),
    expected: [f('service.vip.backends', 'fail', 'nd1', 'ndnet')],
    says: { 'service.vip.backends': ['no load-balancer sandbox lb_aweos9uhr', 'web (10.0.1.2)'] },
  },
];

describe('service checks with a working IPVS on nd1', () => {
  it.each(cases)('$name', ({ snapshot, expected, says }) => {
    const findings = run(snapshot);
    expect(nd1Problems(findings)).toEqual([...expected].sort(order));
    expect(
      findings
        .filter((x) => x.node !== 'nd1' && (x.status === 'fail' || x.status === 'warn'))
        .map(brief)
        .sort(order),
    ).toEqual(LAB_NO_IPVS);
    for (const [id, texts] of Object.entries(says ?? {})) {
      const x = findings.find((y) => y.id === id && y.node === 'nd1' && y.status !== 'pass')!;
      for (const t of texts) expect(`${x.detail} | ${x.remediation}`).toContain(t);
    }
  });

  it('passes each check on nd1 with what it verified', () => {
    const nd1 = run(withIpvs()).filter((x) => x.node === 'nd1');
    expect(nd1.map((x) => `${x.status} ${x.id} ${x.network}`)).toEqual([
      'pass service.ingress.sandbox ingress',
      'pass service.ingress.ipvs-available null',
      'pass service.ingress.dnat ingress',
      'pass service.ingress.mark ingress',
      'pass service.ingress.backends ingress',
      'pass service.vip.backends ndnet',
      // The recording predates the sandbox sysctl and timeout reads (test/unit/checks/service/lb-netns.test.ts has them).
      'skip service.lb.ip-forward null',
      'skip service.ipvs.sysctls null',
      'skip service.ipvs.timeout null',
    ]);
    expect(nd1.find((x) => x.id === 'service.ingress.mark')!.detail).toContain('8080/tcp (web) with fwmark 256');
    expect(nd1.find((x) => x.id === 'service.vip.backends')!.detail).toContain('fwmark 257 of web balances over all 3 running task(s)');
  });

  it('skips a node whose ipvsadm is missing instead of guessing', () => {
    const s = withIpvs({}, (x) => {
      const raw = node(x, 'nd1').raw;
      raw['netns/ingress_sbox/ipvs'] = { stdout: '', stderr: 'ipvsadm: command not found', rc: 127 };
      raw[`netns/${LB}/ipvs`] = { stdout: '', stderr: 'ipvsadm: command not found', rc: 127 };
    });
    const findings = run(s).filter((x) => x.node === 'nd1');
    expect(findings.find((x) => x.id === 'service.ingress.ipvs-available')!.status).toBe('skip');
    expect(findings.find((x) => x.id === 'service.ingress.backends')!.status).toBe('skip');
    expect(findings.find((x) => x.id === 'service.ingress.mark')!.status).toBe('pass');
  });

  it('an unreachable node gives one skip per check', () => {
    const s = withIpvs({}, (x) => {
      // A published UDP port too, so that every service check applies (service.conntrack.stale-udp looks only at UDP ports).
      x.cluster.services[0]!.ports.push({ protocol: 'udp', targetPort: 514, publishedPort: 5514, publishMode: 'host' });
      Object.assign(node(x, 'nd3'), {
        status: 'unreachable',
        host: null,
        sandboxes: [],
        raw: {},
        errors: [{ stage: 'connect', kind: 'refused', message: 'connection refused' }],
      });
    });
    const nd3 = run(s).filter((x) => x.node === 'nd3');
    expect(nd3.map((x) => `${x.status} ${x.id}`)).toEqual(serviceChecks.map((c) => `skip ${c.meta.id}`));
  });

  it('without published ports, the ingress checks pass once', () => {
    const s = withIpvs({}, (x) => {
      for (const svc of x.cluster.services) svc.ports = [];
    });
    const findings = run(s);
    for (const id of ['service.ingress.dnat', 'service.ingress.mark', 'service.ingress.backends']) {
      expect(findings.filter((x) => x.id === id).map((x) => [x.status, x.node, x.detail])).toEqual([
        ['pass', null, 'no service publishes a port in ingress mode'],
      ]);
    }
  });
});
