import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCaptureScript, buildSenderScript, parseCaptures, parseProbeLines } from '../../../src/probe/script.js';
import { dataPathTargets, planNode } from '../../../src/probe/run.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const snapshot = labSnapshot('healthy');
const peers = [
  { name: 'nd1', ip: '10.213.0.11', manager: true },
  { name: 'nd3', ip: '10.213.0.13', manager: false },
];

describe('probe planning from a lab snapshot', () => {
  const nd2 = snapshot.nodes.find((n) => n.name === 'nd2')!;
  it('probes gossip on every peer, 2377 on managers, UDP on gossip and data-path ports, MTU = overlay + 50', () => {
    const p = planNode(snapshot, nd2, peers, { timeoutSec: 2 });
    expect(p.tcp).toEqual([
      { ip: '10.213.0.11', port: 7946 },
      { ip: '10.213.0.11', port: 2377 },
      { ip: '10.213.0.13', port: 7946 },
    ]);
    expect(p.udp).toContainEqual({ ip: '10.213.0.13', port: 4789 });
    expect(p.mtu).toContainEqual({ ip: '10.213.0.11', payload: 1450 + 50 - 28 });
    expect(p.netnsDir).toBe('/var/run/docker/netns');
    expect(p.viaDockerdMountNs).toBe(false);
  });

  it('pings a task on each peer from the lb sandbox (overlays) and ingress_sbox (ingress)', () => {
    const t = dataPathTargets(snapshot, nd2, peers);
    const ndnet = t.filter((x) => x.network === 'ndnet');
    expect(ndnet.map((x) => x.peer).sort()).toEqual(['nd1', 'nd3']);
    expect(ndnet.every((x) => x.sandbox.startsWith('lb_'))).toBe(true);
    expect(ndnet.find((x) => x.peer === 'nd3')!.ip).toBe('10.0.1.4');
    expect(t.filter((x) => x.network === 'ingress').every((x) => x.sandbox === 'ingress_sbox')).toBe(true);
    expect(ndnet[0]!.payload).toBe(1450 - 28);
  });

  it('refuses to put anything but addresses and sandbox names into the script', () => {
    expect(() => buildSenderScript({ tcp: [{ ip: '1.2.3.4; rm -rf /', port: 1 }], udp: [], mtu: [], dataPath: [], netnsDir: '/x', viaDockerdMountNs: false, timeoutSec: 1 })).toThrow(/not an IP/);
  });
});

describe('probe scripts under a real sh', () => {
  it('the sender reports every planned probe and ends with DONE (loopback: tcp refused, udp sent, ping ok)', () => {
    const script = buildSenderScript({
      tcp: [{ ip: '127.0.0.1', port: 1 }],
      udp: [{ ip: '127.0.0.1', port: 9 }],
      mtu: [{ ip: '127.0.0.1', payload: 1000 }],
      dataPath: [],
      netnsDir: '/var/run/docker/netns',
      viaDockerdMountNs: false,
      timeoutSec: 1,
    });
    const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
    const parsed = parseProbeLines(r.stdout);
    expect(parsed.done).toBe(true);
    const kinds = parsed.lines.map((l) => l.kind).sort();
    expect(kinds).toEqual(['B', 'P', 'T', 'U']);
    expect(parsed.lines.find((l) => l.kind === 'T')!.fields).toEqual(['127.0.0.1', '1', '1']);
    expect(parsed.lines.find((l) => l.kind === 'P')!.fields.slice(0, 3)).toEqual(['127.0.0.1', '1000', '0']);
  });

  it('the capture filter matches only our magic payload and names source, destination and port', () => {
    expect(buildCaptureScript([7946, 4789, 7946], 3)).toContain("'udp and (dst port 7946 or dst port 4789) and udp[8:4] = 0x4e445052'");
    expect(parseCaptures('C 10.213.0.11 10.213.0.12 4789\nnoise\nC 10.213.0.13 10.213.0.12 7946\n')).toEqual([
      { src: '10.213.0.11', dst: '10.213.0.12', port: 4789 },
      { src: '10.213.0.13', dst: '10.213.0.12', port: 7946 },
    ]);
    expect(parseProbeLines('NOTCPDUMP\n').noTcpdump).toBe(true);
  });
});
