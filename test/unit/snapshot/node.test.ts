import { describe, expect, it } from 'vitest';
import { buildClusterFacts } from '../../../src/collect/cluster.js';
import { buildNodeSnapshot } from '../../../src/snapshot/node.js';
import { classifySandbox } from '../../../src/snapshot/sandboxes.js';
import { recordedCluster, recordedNode } from '../../support/lab-fixtures.js';

const cluster = buildClusterFacts(recordedCluster('healthy'));
const snap = (node: string) =>
  buildNodeSnapshot(
    {
      name: node,
      id: null,
      target: { host: 'x', port: 22, user: 'root', via: [] },
      output: recordedNode('healthy', node),
      errors: [],
      timings: { connectMs: 1, execMs: 1, totalMs: 2 },
      receivedAt: 0,
    },
    cluster.networks,
  );

describe('cluster facts from the lab manager', () => {
  it('has the swarm, its overlays with VNIs, peers and the task ground truth', () => {
    expect(cluster.managerNode).toBe('nd1');
    expect(cluster.dataPathPort).toBe(4789);
    const ndnet = cluster.networks.find((n) => n.name === 'ndnet')!;
    expect(ndnet.vnis).toEqual([4097]);
    expect(ndnet.peers.map((p) => p.ip).sort()).toEqual(['10.213.0.11', '10.213.0.12', '10.213.0.13']);
    expect(ndnet.endpoints.filter((e) => e.kind === 'task')).toHaveLength(3);
    expect(ndnet.serviceVips).toEqual({ web: '10.0.1.2' });
    const ingress = cluster.networks.find((n) => n.ingress)!;
    expect(ingress.serviceVips).toEqual({ web: '10.0.0.5' });
    expect(ingress.endpoints.filter((e) => e.kind === 'lb')).toHaveLength(3);
    const web = cluster.services.find((s) => s.name === 'web')!;
    expect(web.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }]);
    expect(web.runningTasks).toHaveLength(3);
  });
});

describe('node snapshot from a recorded lab node', () => {
  const nd2 = snap('nd2');

  it('parses host facts', () => {
    expect(nd2.status).toBe('ok');
    expect(nd2.host!.hostname).toBe('nd2');
    expect(nd2.host!.dockerd.running).toBe(true);
    expect(nd2.host!.dockerd.separateMountNs).toBe(false);
    expect(nd2.host!.mountFlagsSource).not.toBe('systemctl');
    expect(nd2.host!.sysctls['net/ipv4/ip_forward']).toBe('1');
    expect(nd2.host!.iptables.dockerRulesIn).toEqual(['nft']);
    const eth0 = nd2.host!.interfaces.find((i) => i.name === 'eth0')!;
    expect(eth0.addresses.map((a) => a.address)).toContain('10.213.0.12');
    expect(Array.isArray(nd2.host!.listening) && nd2.host!.listening.some((l) => l.port === 7946)).toBe(true);
    expect(nd2.sandboxAccess).toBe('direct');
  });

  it('classifies and maps sandboxes to their networks', () => {
    const kinds = Object.fromEntries(nd2.sandboxes.map((s) => [s.name, [s.kind, s.networkName]]));
    expect(kinds['ingress_sbox']).toEqual(['ingress', 'ingress']);
    const overlay = nd2.sandboxes.find((s) => s.kind === 'overlay' && s.networkName === 'ndnet')!;
    expect(overlay.name).toBe(`1-${overlay.networkId!.slice(0, 10)}`);
    expect(nd2.sandboxes.some((s) => s.kind === 'lb' && s.networkName === 'ndnet')).toBe(true);
    expect(nd2.sandboxes.some((s) => s.kind === 'container')).toBe(true);
  });

  it('reads vxlan0 with its VNI and port, and the FDB pointing at the nodes running each remote task', () => {
    const overlay = nd2.sandboxes.find((s) => s.kind === 'overlay' && s.networkName === 'ndnet')!;
    const vx = overlay.links.find((l) => l.kind === 'vxlan')!;
    expect(vx.vxlan).toMatchObject({ id: 4097, port: 4789 });
    const ndnet = cluster.networks.find((n) => n.name === 'ndnet')!;
    for (const ep of ndnet.endpoints.filter((e) => e.hostIp !== '10.213.0.12')) {
      const mac =
        '02:42:' +
        ep.ip
          .split('.')
          .map((o) => Number(o).toString(16).padStart(2, '0'))
          .join(':');
      const entry = overlay.fdb.find((f) => f.mac === mac && f.dst !== null);
      expect(entry, `fdb entry for ${ep.task}`).toBeDefined();
      expect(entry!.dst).toBe(ep.hostIp);
      expect(entry!.dev).toBe('vxlan0');
      expect(overlay.neighbours.some((n) => n.dst === ep.ip && n.mac === mac)).toBe(true);
    }
  });

  it("records IPVS as unavailable with the node's own reason", () => {
    const ipvs = nd2.raw['netns/ingress_sbox/ipvs']!;
    expect(ipvs.rc).toBe(3);
    expect(ipvs.stderr).toMatch(/IPVS is not available/);
  });
});

describe('classifySandbox', () => {
  it.each([
    ['1-aweos9uhri', 'overlay', 'aweos9uhri'],
    ['lb_aweos9uhr', 'lb', 'aweos9uhr'],
    ['ingress_sbox', 'ingress', null],
    ['57194a623e68', 'container', null],
    ['default', 'other', null],
  ])('%s', (name, kind, prefix) => {
    expect(classifySandbox(name)).toEqual({ kind, networkIdPrefix: prefix });
  });
});

describe('a node that could not be collected', () => {
  it('is unreachable with its error and no parsed facts', () => {
    const s = buildNodeSnapshot(
      {
        name: 'nd9',
        id: null,
        target: { host: '10.0.0.9', port: 22, user: 'root', via: [] },
        output: null,
        errors: [{ stage: 'connect', kind: 'timeout', message: 'timed out after 5000 ms' }],
        timings: { connectMs: null, execMs: null, totalMs: 5000 },
        receivedAt: 0,
      },
      [],
    );
    expect(s).toMatchObject({ status: 'unreachable', host: null, sandboxes: [], sandboxAccess: 'none' });
  });
});

describe('parseTimes', () => {
  it('adds shell and children CPU from POSIX times', async () => {
    const { parseTimes } = await import('../../../src/parse/host.js');
    expect(parseTimes('0m0.010000s 0m0.020000s\n0m0.150000s 0m0.070000s\n')).toBe(250);
    expect(parseTimes('1m1.5s 0m0s\n0m0s 0m0s')).toBe(61_500);
    expect(parseTimes('garbage')).toBeNull();
  });
});

describe('secrets never enter the snapshot', () => {
  it('drops join tokens and redacts environment values, keeping names', async () => {
    const { redactClusterRaw } = await import('../../../src/collect/cluster.js');
    const raw = {
      info: {},
      swarm: { ID: 's', JoinTokens: { Worker: 'SWMTKN-1-secret', Manager: 'SWMTKN-1-secret2' } },
      nodes: [],
      networks: [],
      services: [{ ID: 'x', Spec: { TaskTemplate: { ContainerSpec: { Env: ['DB_PASSWORD=hunter2', 'MODE=prod'] } } } }],
      tasks: [{ ID: 't', Spec: { ContainerSpec: { Env: ['DB_PASSWORD=hunter2'] } } }],
    };
    const out = redactClusterRaw(raw);
    const text = JSON.stringify(out);
    expect(text).not.toContain('SWMTKN');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('DB_PASSWORD=<redacted>');
    expect(text).toContain('MODE=<redacted>');
    // The input is not modified.
    expect(JSON.stringify(raw)).toContain('hunter2');
  });
});
