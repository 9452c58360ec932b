import { describe, expect, it } from 'vitest';
import { ALL_PAIRS_MAX, coveringOffsets, espGroups, planEsp, planNode, planPairs } from '../../../src/probe/plan.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(3, '0')}`);
const SIZES = [1, 2, 3, 5, ALL_PAIRS_MAX, ALL_PAIRS_MAX + 1, 30, 60, 64, 65, 100, 300];

/** Which probes of a plan see traffic from `a` to `b` dropped: the pair's UDP datagrams, and its per-pair probes if planned. */
function probesOfPair(plan: ReturnType<typeof planPairs>, a: string, b: string): string[] {
  return [
    ...(plan.udp.get(a)!.includes(b) ? ['udp/7946', 'udp/data-path'] : []),
    ...(plan.full.get(a)!.includes(b) ? ['tcp/7946', 'mtu', 'overlay ping'] : []),
  ];
}

describe('probe pair plan', () => {
  it('up to ALL_PAIRS_MAX nodes, and always with --probe-pairs all: every probe on every ordered pair', () => {
    for (const n of [2, 3, ALL_PAIRS_MAX]) expect(planPairs(names(n), 'auto').mode).toBe('all');
    for (const n of SIZES) {
      const p = planPairs(names(n), 'all');
      expect(p.mode).toBe('all');
      for (const a of names(n)) expect(p.full.get(a)).toEqual(p.udp.get(a));
    }
  });

  it('a single blocked pair, on any of the 300 × 299 ordered pairs, is always probed, so always found', () => {
    for (const n of SIZES) {
      const all = names(n);
      const plan = planPairs(all, 'auto');
      const missed: string[] = [];
      let pairs = 0;
      for (const a of all) {
        for (const b of all) {
          if (a === b) continue;
          pairs++;
          // The data-path and gossip datagrams of every ordered pair are sent and confirmed on the receiver.
          const found = probesOfPair(plan, a, b);
          if (!found.includes('udp/7946') || !found.includes('udp/data-path')) missed.push(`${a} -> ${b}`);
        }
      }
      expect(missed, `${n} nodes`).toEqual([]);
      expect(pairs).toBe(n * (n - 1));
    }
  });

  it('above ALL_PAIRS_MAX, each node sends and receives the per-pair probes on log2(N) distinct peers, never itself', () => {
    for (const n of SIZES.filter((x) => x > ALL_PAIRS_MAX)) {
      const all = names(n);
      const plan = planPairs(all, 'auto');
      expect(plan.mode).toBe('covering');
      const k = Math.ceil(Math.log2(n));
      expect(coveringOffsets(n)).toHaveLength(k);
      const inbound = new Map(all.map((x) => [x, 0]));
      for (const a of all) {
        const peers = plan.full.get(a)!;
        expect(new Set(peers).size).toBe(k);
        expect(peers).not.toContain(a);
        for (const b of peers) inbound.set(b, inbound.get(b)! + 1);
      }
      // A node whose firewall drops a port inbound (or outbound) fails on k pairs.
      for (const x of all) expect(inbound.get(x), x).toBe(k);
    }
  });

  it('per-pair work per node stays logarithmic: 300 nodes → 9 peers instead of 299', () => {
    const plan = planPairs(names(300), 'auto');
    expect(plan.full.get('node-000')).toHaveLength(9);
    expect(plan.udp.get('node-000')).toHaveLength(299);
  });

  it('planNode: UDP to every peer, tcp/2377 to every manager, TCP 7946 and pings only to the full peers', () => {
    const snapshot = labSnapshot('healthy');
    const nd2 = snapshot.nodes.find((n) => n.name === 'nd2')!;
    const peers = [
      { name: 'nd1', ip: '10.213.0.11', manager: true },
      { name: 'nd3', ip: '10.213.0.13', manager: false },
    ];
    const p = planNode(snapshot, nd2, peers, { timeoutSec: 2 }, new Set(['nd3']));
    expect(p.udp).toHaveLength(4);
    expect(p.tcp).toEqual([
      { ip: '10.213.0.11', port: 2377 },
      { ip: '10.213.0.13', port: 7946 },
    ]);
    expect(p.mtu.map((m) => m.ip)).toEqual(['10.213.0.13']);
    expect(p.dataPath.every((d) => d.peer === 'nd3')).toBe(true);
  });
});

describe('ESP pair plan (encrypted overlays only)', () => {
  const snapshot = labSnapshot('healthy');

  it('no encrypted overlay on the recorded lab: no ESP group, so no ESP probe anywhere', () => {
    expect(espGroups(snapshot)).toEqual([]);
    expect(planEsp(espGroups(snapshot)).size).toBe(0);
  });

  it("an encrypted overlay: the nodes with a task or lb endpoint on it (the manager's view) or its sandbox (the node's)", () => {
    const s = structuredClone(snapshot);
    const net = s.cluster.networks.find((n) => n.name === 'ndnet')!;
    net.encrypted = true;
    const all = espGroups(s);
    expect(all).toHaveLength(1);
    expect(all[0]).toEqual(
      [...new Set(s.nodes.filter((n) => n.sandboxes.some((x) => x.kind === 'overlay' && x.networkId === net.id)).map((n) => n.name))].sort(),
    );
    // Only the manager's view left (endpoints on nd1 and nd3; no sandboxes, no peers): those two nodes.
    net.peers = [];
    net.endpoints = net.endpoints.filter((e) => e.hostIp === '10.213.0.11' || e.hostIp === '10.213.0.13');
    for (const n of s.nodes) n.sandboxes = n.sandboxes.filter((x) => x.networkId !== net.id);
    expect(espGroups(s)).toEqual([['nd1', 'nd3']]);
    // A network on one node has no pair.
    net.endpoints = net.endpoints.filter((e) => e.hostIp === '10.213.0.11');
    expect(espGroups(s)).toEqual([]);
  });

  it('every ordered pair within a group, groups merged; nothing between groups', () => {
    const p = planEsp([
      ['a', 'b'],
      ['b', 'c', 'd'],
    ]);
    expect(Object.fromEntries([...p].map(([k, v]) => [k, [...v].sort()]))).toEqual({ a: ['b'], b: ['a', 'c', 'd'], c: ['b', 'd'], d: ['b', 'c'] });
  });

  it("planNode sends ESP to the planned peers with IPv4 addresses only, with the run's SPI", () => {
    const nd2 = snapshot.nodes.find((n) => n.name === 'nd2')!;
    const peers = [
      { name: 'nd1', ip: '10.213.0.11', manager: true },
      { name: 'nd3', ip: '10.213.0.13', manager: false },
      { name: 'nd6', ip: 'fd00::6', manager: false },
    ];
    expect(planNode(snapshot, nd2, peers, { timeoutSec: 2 }).esp).toBeUndefined();
    const p = planNode(snapshot, nd2, peers, { timeoutSec: 2 }, null, { spi: 42, to: new Set(['nd3', 'nd6']) });
    expect(p.esp).toEqual({ spi: 42, ips: ['10.213.0.13'] });
    expect(planNode(snapshot, nd2, peers, { timeoutSec: 2 }, null, { spi: 42, to: new Set(['nd6']) }).esp).toBeUndefined();
  });
});
