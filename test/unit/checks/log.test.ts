import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import gossipFlapping from '../../../src/checks/log/gossip-flapping.js';
import gossipUdpBlocked from '../../../src/checks/log/gossip-udp-blocked.js';
import kernelTables from '../../../src/checks/log/kernel-tables.js';
import type { ProbeResults } from '../../../src/probe/types.js';
import { checkTester } from '../../support/check-tester.js';
import { labWith, ok, setSection } from '../../support/lab-mutate.js';

const NOTE = 'docker log: /var/log/docker.log (last 2000 lines since @1795964400)\n';
const log = (stdout: string) => ({ stdout, stderr: NOTE, rc: 0 });
const quiet = (s: Parameters<Parameters<typeof labWith>[0]>[0]) => {
  for (const n of ['nd1', 'nd2', 'nd3']) {
    setSection(s, n, 'host/docker-log', log('dockerd[700]: time="2026-11-29T15:00:00Z" level=info msg="API listen on /var/run/docker.sock"\n'));
    setSection(s, n, 'host/kernel-log', ok(''));
  }
};
// The lab's memberlist lines (dockerd 20.10): members named <hostname>-<12 hex>.
const udpWarn =
  'dockerd[700]: time="2026-11-29T15:55:00.1Z" level=warning msg="memberlist: Was able to connect to nd3-9f2c4d1e7a55 but other probes failed, network may be misconfigured"\n';
const suspects = Array.from(
  { length: 41 },
  (_, i) =>
    `dockerd[700]: time="2026-11-29T15:${String(10 + i).padStart(2, '0')}:00.5Z" level=info msg="memberlist: Suspect nd3-9f2c4d1e7a55 has failed, no acks received"`,
).join('\n');

const probes = (state: 'ok' | 'blocked'): ProbeResults => ({
  startedAt: '2026-11-29T16:00:00.000Z',
  durationMs: 3000,
  ports: [
    {
      from: 'nd2',
      to: 'nd3',
      proto: 'udp',
      port: 7946,
      purpose: 'gossip',
      state,
      detail: state === 'ok' ? 'received' : '3 datagrams sent from nd2, none arrived on nd3 within 3 s',
    },
  ],
  mtu: [],
  dataPath: [],
  errors: [],
});

checkTester(gossipFlapping, {
  valid: [{ name: 'quiet logs', snapshot: () => labWith(quiet), passes: [{ status: 'pass', messageId: 'quiet', node: 'nd1' }] }],
  invalid: [
    {
      name: 'nd2 suspected nd3 41 times',
      snapshot: () =>
        labWith((s) => {
          quiet(s);
          setSection(s, 'nd2', 'host/docker-log', log(suspects));
        }),
      errors: [{ status: 'warn', messageId: 'seen', node: 'nd2', peer: 'nd3' }],
    },
  ],
});

checkTester(gossipUdpBlocked, {
  valid: [{ name: 'quiet logs', snapshot: () => labWith(quiet), probes: probes('ok') }],
  invalid: [
    {
      name: 'the warning next to a blocked udp/7946 probe: one finding with both facts',
      snapshot: () =>
        labWith((s) => {
          quiet(s);
          setSection(s, 'nd2', 'host/docker-log', log(udpWarn));
        }),
      probes: probes('blocked'),
      errors: [{ status: 'fail', messageId: 'confirmed', node: 'nd2', peer: 'nd3' }],
    },
    {
      name: 'the warning while the probe passes now: intermittent',
      snapshot: () =>
        labWith((s) => {
          quiet(s);
          setSection(s, 'nd2', 'host/docker-log', log(udpWarn));
        }),
      probes: probes('ok'),
      errors: [{ status: 'warn', messageId: 'intermittent', node: 'nd2', peer: 'nd3' }],
    },
    {
      name: 'the warning without probes',
      snapshot: () =>
        labWith((s) => {
          quiet(s);
          setSection(s, 'nd2', 'host/docker-log', log(udpWarn));
        }),
      errors: [{ status: 'fail', messageId: 'seen', node: 'nd2', peer: 'nd3' }],
    },
  ],
});

checkTester(kernelTables, {
  valid: [{ name: 'quiet logs', snapshot: () => labWith(quiet) }],
  invalid: [
    {
      name: 'a conntrack table full on nd1',
      snapshot: () =>
        labWith((s) => {
          quiet(s);
          setSection(
            s,
            'nd1',
            'host/kernel-log',
            ok('2026-11-29T15:30:00+0000 nd1 kernel: nf_conntrack: nf_conntrack: table full, dropping packet\n'),
          );
        }),
      errors: [{ status: 'fail', messageId: 'seen', node: 'nd1' }],
    },
  ],
});

describe('the log layer', () => {
  it('says who suspected whom, how often and when, with the window', () => {
    const snap = labWith((s) => {
      quiet(s);
      setSection(s, 'nd2', 'host/docker-log', log(suspects));
    });
    const f = runChecks({ snapshot: snap, probes: null }, { only: ['log.gossip.flapping'] }).find((x) => x.status === 'warn')!;
    expect(f.detail).toBe(
      'nd2 suspected nd3 41 times since 2026-11-29T15:00:00Z, first at 2026-11-29T15:10:00.500Z, last at 2026-11-29T15:50:00.500Z: gossip probes to the peer went unanswered (packet loss, blocked udp/7946 or an overloaded node)',
    );
  });
  it('skips, saying why, where the logs were not collected (older snapshots, the lab recordings)', () => {
    const f = runChecks({ snapshot: labWith(() => {}), probes: null }, { only: ['log'] });
    expect(f.length).toBeGreaterThan(0);
    expect(new Set(f.map((x) => x.status))).toEqual(new Set(['skip']));
    expect(f[0]!.detail).toContain('was not collected');
  });
});
