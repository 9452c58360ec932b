/**
 * A synthetic large swarm made from the lab recording: nd1..nd3 as recorded,
 * nd4..ndN copies of the recorded worker nd3 (own id and advertise address,
 * its host output carrying that address; no task of a service, so no overlay
 * sandbox, as docker leaves a node that runs no task of the network),
 * and port-probe results for every ordered pair in the form the prober
 * records them (src/probe/run.ts), with chosen pairs blocked.
 */
import type { PortProbe, ProbeResults } from '../../src/probe/types.js';
import type { ClusterSnapshot } from '../../src/snapshot/types.js';
import { buildHostFacts } from '../../src/parse/host.js';
import { lab, nodeOf } from './lab-mutate.js';

export function labAtScale(n: number): ClusterSnapshot {
  const s = lab();
  const worker = s.cluster.nodes.find((x) => x.name === 'nd3')!;
  const snap = nodeOf(s, 'nd3');
  for (let i = 4; i <= n; i++) {
    const name = `nd${i}`;
    const address = `10.213.${Math.floor(i / 250)}.${10 + (i % 250)}`;
    s.cluster.nodes.push({
      ...structuredClone(worker),
      name,
      id: `synthetic${String(i).padStart(17, '0')}`,
      advertiseAddress: address,
      sshAddress: address,
    });
    const raw = Object.fromEntries(
      Object.entries(snap.raw)
        .filter(([k]) => k.startsWith('host/'))
        .map(([k, v]) => [k, { ...v, stdout: v.stdout.split('10.213.0.13').join(address) }]),
    );
    raw['netns/list'] = { stdout: '', stderr: '', rc: 0 };
    s.nodes.push({
      ...structuredClone(snap),
      name,
      id: `synthetic${String(i).padStart(17, '0')}`,
      target: { ...snap.target, host: address },
      raw,
      host: buildHostFacts(raw, snap.host!.clock!.localReceived),
      sandboxes: [],
    });
  }
  return s;
}

/** Probe results for every ordered pair: tcp/7946, udp/7946 and udp/4789 everywhere, tcp/2377 toward managers; `blocked(p)` pairs fail. */
export function probesFor(s: ClusterSnapshot, blocked: (p: PortProbe) => boolean): ProbeResults {
  const ports: PortProbe[] = [];
  const managers = new Set(s.cluster.nodes.filter((x) => x.role === 'manager').map((x) => x.name));
  for (const a of s.nodes) {
    for (const b of s.nodes) {
      if (a === b) continue;
      const planned: Omit<PortProbe, 'state' | 'detail'>[] = [
        ...(managers.has(b.name) ? [{ from: a.name, to: b.name, proto: 'tcp' as const, port: 2377, purpose: 'manager' as const }] : []),
        { from: a.name, to: b.name, proto: 'tcp', port: 7946, purpose: 'gossip' },
        { from: a.name, to: b.name, proto: 'udp', port: 7946, purpose: 'gossip' },
        { from: a.name, to: b.name, proto: 'udp', port: 4789, purpose: 'data-path' },
      ];
      for (const p of planned) {
        const probe: PortProbe = {
          ...p,
          state: 'ok',
          detail: p.proto === 'tcp' ? 'TCP handshake completed' : `datagrams seen arriving on ${b.name}`,
        };
        if (blocked(probe)) {
          probe.state = 'blocked';
          probe.detail =
            p.proto === 'tcp'
              ? 'no answer within 3 s (dropped by a firewall or no route)'
              : `3 datagrams sent from ${a.name}, none arrived on ${b.name} within 3 s`;
        }
        ports.push(probe);
      }
    }
  }
  return { startedAt: '2026-11-25T15:12:01.000Z', durationMs: 4000, ports, mtu: [], dataPath: [], errors: [] };
}
