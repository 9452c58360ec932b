import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import type { ProbeResults } from '../../../src/probe/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const snapshot = labSnapshot('healthy');

const probes = (over: Partial<ProbeResults> = {}): ProbeResults => ({
  startedAt: '2026-11-25T15:12:01.000Z',
  durationMs: 3000,
  ports: [
    { from: 'nd2', to: 'nd1', proto: 'tcp', port: 2377, purpose: 'manager', state: 'ok', detail: 'TCP handshake completed' },
    {
      from: 'nd2',
      to: 'nd1',
      proto: 'udp',
      port: 4789,
      purpose: 'data-path',
      state: 'blocked',
      detail: '3 datagrams sent from nd2, none arrived on nd1 within 3 s',
    },
    {
      from: 'nd3',
      to: 'nd1',
      proto: 'udp',
      port: 7946,
      purpose: 'gossip',
      state: 'unconfirmed',
      detail: 'sent; no tcpdump on nd1 to confirm receipt',
    },
    { from: 'nd1', to: 'nd3', proto: 'tcp', port: 7946, purpose: 'gossip', state: 'blocked', detail: 'connection refused' },
  ],
  mtu: [
    {
      from: 'nd1',
      to: 'nd2',
      payload: 1472,
      required: 1500,
      state: 'blocked',
      detail: '1500-byte packets with DF do not pass though small pings do',
    },
  ],
  dataPath: [],
  errors: [{ node: 'nd3', message: 'no probes from nd3: timed out' }],
  ...over,
});

const run = (p: ProbeResults | null) => runChecks({ snapshot, probes: p }, { only: ['underlay'] });

describe('underlay checks', () => {
  it('ESP: nothing needed without encrypted overlays; with one and no probes, a skip that points at the xfrm and firewall checks', () => {
    expect(
      run(null)
        .filter((f) => f.id === 'underlay.esp.reachable')
        .map((f) => f.status),
    ).toEqual(['pass']);
    const enc = structuredClone(snapshot);
    enc.cluster.networks[0]!.encrypted = true;
    const f = runChecks({ snapshot: enc, probes: null }, { only: ['underlay.esp'] });
    expect(f.map((x) => x.status)).toEqual(['skip']);
    expect(f[0]!.detail).toContain('overlay.encryption.xfrm');
    // Probes without an ESP pair (none planned, or recorded before ESP was probed): said so, not passed.
    const g = runChecks({ snapshot: enc, probes: probes() }, { only: ['underlay.esp'] });
    expect(g.map((x) => [x.status, x.messageId])).toEqual([['skip', 'noPairs']]);
  });

  it('ESP: blocked by the sender (its OUTPUT refused it) is fixed on the sender; not seen on the receiver, on the receiver', () => {
    const esp = (from: string, to: string, state: 'ok' | 'blocked', detail: string, senderRefused?: true) =>
      ({ from, to, proto: 'esp', port: null, purpose: 'esp', state, detail, ...(senderRefused ? { senderRefused } : {}) }) as const;
    const p = probes({
      ports: [
        esp(
          'nd1',
          'nd2',
          'blocked',
          'nd1 could not send ESP to nd2 (Operation not permitted): netfilter on nd1 refused it (an OUTPUT rule drops ESP)',
          true,
        ),
        esp('nd2', 'nd3', 'blocked', '3 ESP packets (IP protocol 50) sent from nd2, none arrived on nd3 while every sender ran'),
        esp('nd3', 'nd2', 'ok', 'ESP packets (IP protocol 50) seen arriving on nd2'),
      ],
      errors: [],
    });
    const f = runChecks({ snapshot, probes: p }, { only: ['underlay.esp'] });
    expect(f.map((x) => [x.status, x.node, x.peer])).toEqual([
      ['fail', 'nd1', 'nd2'],
      ['fail', 'nd2', 'nd3'],
      ['pass', 'nd3', 'nd2'],
    ]);
    expect(f[0]!.detail).toBe(
      'ESP nd1 → nd2: blocked; nd1 could not send ESP to nd2 (Operation not permitted): netfilter on nd1 refused it (an OUTPUT rule drops ESP)',
    );
    expect(f[0]!.remediation).toBe(
      'on nd1: iptables -I OUTPUT -p esp -d 10.213.0.12 -j ACCEPT, ahead of the rule that drops it (see host.firewall.ports)',
    );
    expect(f[1]!.remediation).toBe(
      'on nd3: iptables -I INPUT -p esp -s 10.213.0.12 -j ACCEPT (and IP protocol 50 in any cloud firewall or security group between nd2 and nd3)',
    );
  });

  it('report each pair and port with ok → pass, blocked → fail, unconfirmed → warn', () => {
    const fs = run(probes()).map((f) => [f.id, f.status, f.node, f.peer]);
    expect(fs).toContainEqual(['underlay.manager.tcp-2377', 'pass', 'nd2', 'nd1']);
    expect(fs).toContainEqual(['underlay.datapath.udp', 'fail', 'nd2', 'nd1']);
    expect(fs).toContainEqual(['underlay.gossip.udp-7946', 'warn', 'nd3', 'nd1']);
    expect(fs).toContainEqual(['underlay.gossip.tcp-7946', 'fail', 'nd1', 'nd3']);
    expect(fs).toContainEqual(['underlay.mtu.path', 'fail', 'nd1', 'nd2']);
    // A node that could not probe is a skip with the reason.
    expect(fs).toContainEqual(['underlay.manager.tcp-2377', 'skip', 'nd3', null]);
  });

  it('names the port and both nodes in the remediation of a blocked port', () => {
    const f = run(probes()).find((x) => x.id === 'underlay.datapath.udp' && x.status === 'fail')!;
    expect(f.detail).toContain('udp/4789 nd2 → nd1: blocked');
    expect(f.remediation).toContain('on nd1: iptables -I INPUT -p udp --dport 4789');
  });

  it('skips every underlay check once when probes were not run', () => {
    const fs = run(null).filter((f) => f.id !== 'underlay.esp.reachable');
    expect(fs.every((f) => f.status === 'skip')).toBe(true);
    expect(new Set(fs.map((f) => f.id)).size).toBe(fs.length);
  });
});

describe('a UDP datagram seen on the receiver but dropped by its own firewall', () => {
  it("fails, naming the receiver's rule (a capture sees packets before netfilter INPUT)", () => {
    const snap = structuredClone(snapshot);
    const nd1 = snap.nodes.find((n) => n.name === 'nd1')!;
    const save = nd1.raw['host/iptables-save']!;
    save.stdout = save.stdout.replace(/^(\*filter\n(?::[^\n]*\n)*)/m, '$1-A INPUT -p udp -m udp --dport 4789 -j DROP\n');
    expect(save.stdout).toContain('-A INPUT -p udp -m udp --dport 4789 -j DROP');
    const p = probes({
      ports: [{ from: 'nd2', to: 'nd1', proto: 'udp', port: 4789, purpose: 'data-path', state: 'ok', detail: 'datagrams seen arriving on nd1' }],
      errors: [],
    });
    const f = runChecks({ snapshot: snap, probes: p }, { only: ['underlay.datapath.udp'] });
    expect(f.map((x) => [x.status, x.node, x.peer])).toEqual([['fail', 'nd2', 'nd1']]);
    expect(f[0]!.detail).toContain('arrives on nd1 but is dropped by `-A INPUT -p udp -m udp --dport 4789 -j DROP`');
    // Unchanged ruleset: the same probe passes.
    expect(runChecks({ snapshot, probes: p }, { only: ['underlay.datapath.udp'] }).map((x) => x.status)).toEqual(['pass']);
  });

  it('ESP seen on the receiver but dropped by its INPUT (`-p esp -j DROP`, as iptables-save prints it) fails, naming the rule', () => {
    const snap = structuredClone(snapshot);
    const save = snap.nodes.find((n) => n.name === 'nd3')!.raw['host/iptables-save']!;
    save.stdout = save.stdout.replace(/^(\*filter\n(?::[^\n]*\n)*)/m, '$1-A INPUT -p esp -j DROP\n');
    const p = probes({
      ports: [
        {
          from: 'nd1',
          to: 'nd3',
          proto: 'esp',
          port: null,
          purpose: 'esp',
          state: 'ok',
          detail: 'ESP packets (IP protocol 50) seen arriving on nd3',
        },
      ],
      errors: [],
    });
    const f = runChecks({ snapshot: snap, probes: p }, { only: ['underlay.esp'] });
    expect(f.map((x) => [x.status, x.node, x.peer])).toEqual([['fail', 'nd1', 'nd3']]);
    expect(f[0]!.detail).toContain('ESP nd1 → nd3: arrives on nd3 but is dropped by `-A INPUT -p esp -j DROP`');
    expect(f[0]!.remediation).toContain('on nd3: iptables -D INPUT -p esp -j DROP');
    expect(runChecks({ snapshot, probes: p }, { only: ['underlay.esp'] }).map((x) => x.status)).toEqual(['pass']);
  });
});
