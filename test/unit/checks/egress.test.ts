import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { labSnapshot } from '../../support/lab-fixtures.js';

const run = (s: ClusterSnapshot) =>
  runChecks({ snapshot: s, probes: null }, { only: ['host.gwbridge.egress'] }).map((f) => [f.status, f.node, f.network]);
const node = (s: ClusterSnapshot, name: string) => s.nodes.find((n) => n.name === name)!;

describe('host.gwbridge.egress', () => {
  it('passes on every node of the recorded healthy lab', () => {
    const fs = runChecks({ snapshot: labSnapshot('healthy'), probes: null }, { only: ['host.gwbridge.egress'] });
    expect(fs.map((f) => [f.status, f.node])).toEqual([
      ['pass', 'nd1'],
      ['pass', 'nd2'],
      ['pass', 'nd3'],
    ]);
    expect(fs[1]!.detail).toBe('docker_gwbridge 172.18.0.1/16 is UP and MASQUERADEd on nd2');
  });

  it('fails when the MASQUERADE rule is gone, naming the subnet and the command', () => {
    const s = structuredClone(labSnapshot('healthy'));
    // Gone from the ruleset: every dump of it (iptables-save and the nft backend's own) loses the rule.
    for (const name of ['host/iptables-save', 'host/iptables-nft-save']) {
      const save = node(s, 'nd2').raw[name]!;
      expect(save.stdout).toContain('-A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE');
      save.stdout = save.stdout.replace(/^-A POSTROUTING -s 172\.18\.0\.0\/16 ! -o docker_gwbridge -j MASQUERADE\n/m, '');
    }
    const fs = runChecks({ snapshot: s, probes: null }, { only: ['host.gwbridge.egress'] });
    const f = fs.find((x) => x.node === 'nd2')!;
    expect(f.status).toBe('fail');
    expect(f.detail).toContain('no MASQUERADE for 172.18.0.0/16 (docker_gwbridge)');
    expect(f.remediation).toContain('iptables -t nat -A POSTROUTING -s 172.18.0.0/16 ! -o docker_gwbridge -j MASQUERADE');
    expect(fs.filter((x) => x.node !== 'nd2').every((x) => x.status === 'pass')).toBe(true);
  });

  it('fails when the bridge is missing on a node with tasks, or DOWN', () => {
    const s = structuredClone(labSnapshot('healthy'));
    const nd1 = node(s, 'nd1');
    nd1.host!.interfaces = nd1.host!.interfaces.filter((i) => i.name !== 'docker_gwbridge');
    node(s, 'nd3').host!.interfaces.find((i) => i.name === 'docker_gwbridge')!.state = 'DOWN';
    expect(run(s)).toEqual([
      ['fail', 'nd1', null],
      ['pass', 'nd2', null],
      ['fail', 'nd3', null],
    ]);
  });

  it('fails when its subnet overlaps the underlay or an overlay', () => {
    const s = structuredClone(labSnapshot('healthy'));
    const br = node(s, 'nd2').host!.interfaces.find((i) => i.name === 'docker_gwbridge')!;
    br.addresses = [{ family: 'inet', address: '10.0.1.1', prefixLen: 24 }];
    const fs = runChecks({ snapshot: s, probes: null }, { only: ['host.gwbridge.egress'] }).filter((f) => f.node === 'nd2');
    expect(fs.map((f) => [f.status, f.network])).toContainEqual(['fail', 'ndnet']);
  });

  it('finds the rule in either backend: the kernel runs both', () => {
    const s = structuredClone(labSnapshot('healthy'));
    const save = node(s, 'nd2').raw['host/iptables-save']!;
    save.stdout = save.stdout.replace(/^-A POSTROUTING -s 172\.18\.0\.0\/16 ! -o docker_gwbridge -j MASQUERADE\n/m, '');
    expect(run(s)).toContainEqual(['pass', 'nd2', null]);
  });

  it('skips a node that was not collected', () => {
    const s = structuredClone(labSnapshot('healthy'));
    Object.assign(node(s, 'nd3'), { host: null, errors: [{ stage: 'connect', kind: 'refused', message: 'connection refused' }] });
    expect(run(s)).toContainEqual(['skip', 'nd3', null]);
  });
});
