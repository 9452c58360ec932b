/**
 * The stack layer (gate) on the lab recording: each fixture stack planned
 * against the recorded swarm, live (the nodes collected) and --no-live
 * (manager answers only). The lab kernel lacks IPVS and XFRM (recorded).
 */
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/checks/runner.js';
import encrypted from '../../../src/checks/stack/network-encrypted.js';
import existing from '../../../src/checks/stack/network-existing.js';
import external from '../../../src/checks/stack/network-external.js';
import size from '../../../src/checks/stack/network-size.js';
import subnet from '../../../src/checks/stack/network-subnet.js';
import placement from '../../../src/checks/stack/placement-feasible.js';
import conflict from '../../../src/checks/stack/ports-conflict.js';
import mesh from '../../../src/checks/stack/ports-mesh.js';
import { buildModel } from '../../../src/model/build.js';
import type { PortProbe, ProbeResults } from '../../../src/probe/types.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { checkTester } from '../../support/check-tester.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { stackFile, stackPlanner } from '../../support/stack-fixtures.js';

const live = () => labSnapshot();
const noLive = () => labSnapshot('healthy', []);
const labelled = (): ClusterSnapshot => {
  const s = labSnapshot();
  const nd3 = (s.cluster.raw.nodes as { Description: { Hostname: string }; Spec: { Labels: Record<string, string> } }[]).find(
    (n) => n.Description.Hostname === 'nd3',
  )!;
  nd3.Spec.Labels = { zone: 'Nowhere' };
  return s;
};

/** ESP probe results as probe/run.ts records them (its own detail strings). */
const espProbes = (pairs: [string, string, PortProbe['state'], true?][]): ProbeResults => ({
  startedAt: '2026-11-29T20:50:00.000Z',
  durationMs: 900,
  ports: pairs.map(([from, to, state, senderRefused]) => ({
    from,
    to,
    proto: 'esp',
    port: null,
    purpose: 'esp',
    state,
    detail:
      state === 'ok'
        ? `ESP packets (IP protocol 50) seen arriving on ${to}`
        : state === 'blocked'
          ? senderRefused
            ? `${from} could not send ESP to ${to} (Operation not permitted): netfilter on ${from} refused it (an OUTPUT rule drops ESP)`
            : `3 ESP packets (IP protocol 50) sent from ${from}, none arrived on ${to} while every sender ran`
          : `ESP not sent: ${from} has neither perl (with its Socket module) nor python3 to send raw IP packets`,
    ...(senderRefused ? { senderRefused } : {}),
  })),
  mtu: [],
  dataPath: [],
  errors: [],
});

const withEsp = (pairs: Parameters<typeof espProbes>[0]) => (): ClusterSnapshot => ({ ...live(), probes: espProbes(pairs) });

const plan = {
  go: await stackPlanner('go'),
  underlay: await stackPlanner('subnet-underlay'),
  override: await stackPlanner('go+override-subnet', ['go', 'override-subnet']),
  web: await stackPlanner('port-web'),
  host: await stackPlanner('host-port'),
  constraint: await stackPlanner('constraint'),
  max: await stackPlanner('max-replicas'),
  encrypted: await stackPlanner('encrypted'),
  ingress: await stackPlanner('ingress'),
  external: await stackPlanner('external'),
};

checkTester(placement, {
  valid: [
    { name: 'two replicas, one per node, three nodes', snapshot: live, stack: plan.go, passes: [{ status: 'pass', messageId: 'placed' }] },
    { name: 'a label only nd3 has (values compare case-insensitively)', snapshot: labelled, stack: plan.constraint },
  ],
  invalid: [
    { name: 'a label no node has', snapshot: live, stack: plan.constraint, errors: [{ status: 'fail', messageId: 'nowhere' }] },
    { name: 'four replicas, one per node, three nodes', snapshot: noLive, stack: plan.max, errors: [{ status: 'fail', messageId: 'tooFew' }] },
  ],
});

checkTester(subnet, {
  valid: [
    { name: 'a fresh /24 outside everything', snapshot: live, stack: plan.go, passes: [{ status: 'pass', messageId: 'clear', network: 'app_back' }] },
  ],
  invalid: [
    { name: 'the underlay /24, live', snapshot: live, stack: plan.underlay, errors: [{ status: 'fail', messageId: 'overlap', network: 'app_back' }] },
    {
      name: 'the underlay /24, --no-live (advertise addresses)',
      snapshot: noLive,
      stack: plan.underlay,
      errors: [{ status: 'fail', messageId: 'overlap', network: 'app_back' }],
    },
    {
      name: 'the underlay /24 from an override file',
      snapshot: live,
      stack: plan.override,
      errors: [{ status: 'fail', messageId: 'overlap', network: 'app_back' }],
    },
  ],
});

checkTester(size, {
  valid: [{ name: 'two tasks on a /24', snapshot: live, stack: plan.go, passes: [{ status: 'pass', messageId: 'room', network: 'app_back' }] }],
});

checkTester(external, {
  valid: [{ name: 'no external network', snapshot: live, stack: plan.go }],
  invalid: [
    {
      name: 'an external network that does not exist',
      snapshot: noLive,
      stack: plan.external,
      errors: [{ status: 'fail', messageId: 'missing', network: 'nd-missing-net' }],
    },
  ],
});

checkTester(existing, {
  valid: [{ name: 'a network that does not exist yet', snapshot: live, stack: plan.go }],
});

checkTester(encrypted, {
  valid: [{ name: 'no encrypted network', snapshot: live, stack: plan.go }],
  invalid: [
    {
      name: 'encrypted on a kernel without esp4/xfrm_user',
      snapshot: live,
      stack: plan.encrypted,
      errors: [{ status: 'fail', messageId: 'missing', network: 'app_secret' }],
    },
    {
      name: 'ESP blocked nd2 → nd3 (both candidates: the service runs on workers); nd1 → nd3 blocked too, but nd1 is no candidate',
      snapshot: withEsp([
        ['nd2', 'nd3', 'blocked'],
        ['nd3', 'nd2', 'ok'],
        ['nd1', 'nd3', 'blocked'],
      ]),
      stack: plan.encrypted,
      errors: [
        { status: 'fail', messageId: 'missing', network: 'app_secret' },
        { status: 'fail', messageId: 'espBlocked', network: 'app_secret' },
      ],
    },
    {
      name: 'ESP passes between the candidates',
      snapshot: withEsp([
        ['nd2', 'nd3', 'ok'],
        ['nd3', 'nd2', 'ok'],
      ]),
      stack: plan.encrypted,
      passes: [{ status: 'pass', messageId: 'espOk', network: 'app_secret' }],
      errors: [{ status: 'fail', messageId: 'missing', network: 'app_secret' }],
    },
  ],
});

describe('stack.network.encrypted on the ESP probes', () => {
  const run = (p: ProbeResults) => {
    const s = { ...live(), probes: p };
    return runChecks(buildModel(s, plan.encrypted(s)), {}, [encrypted]);
  };
  it('names the blocked candidate pairs only, and allows ESP on each receiver (or a refusing sender) with the real addresses', () => {
    const p = espProbes([
      ['nd2', 'nd3', 'blocked'],
      ['nd3', 'nd2', 'blocked', true],
      ['nd1', 'nd3', 'blocked'],
    ]);
    const f = run(p).find((x) => x.messageId === 'espBlocked')!;
    expect(f.detail).toBe(
      'app_secret is encrypted but ESP (IP protocol 50) does not pass nd2 → nd3 and nd3 → nd2: its tasks there would resolve each other by DNS but exchange no data',
    );
    expect(f.remediation).toBe(
      "on nd3: iptables -I INPUT -p esp -s 10.213.0.12 -j ACCEPT; on nd3: iptables -I OUTPUT -p esp -d 10.213.0.12 -j ACCEPT (persist it in the firewall's configuration), and allow IP protocol 50 between these nodes in any cloud firewall or security group.",
    );
    expect(f.location?.line).toBe(15);
  });

  it('an unconfirmed pair (no perl or python3 on a node) warns with the reason; no ESP probe at all adds nothing', () => {
    const f = run(espProbes([['nd2', 'nd3', 'unconfirmed']])).find((x) => x.messageId.startsWith('esp'))!;
    expect([f.status, f.detail]).toEqual([
      'warn',
      'app_secret: ESP (IP protocol 50) nd2 → nd3 could not be confirmed: ESP not sent: nd2 has neither perl (with its Socket module) nor python3 to send raw IP packets',
    ]);
    expect(run(espProbes([])).filter((x) => x.messageId.startsWith('esp'))).toEqual([]);
  });
});

checkTester(conflict, {
  valid: [
    { name: 'no published port', snapshot: live, stack: plan.go },
    { name: 'a free ingress port', snapshot: live, stack: plan.ingress, passes: [{ status: 'pass', messageId: 'free' }] },
  ],
  invalid: [
    { name: "8080, web's port", snapshot: noLive, stack: plan.web, errors: [{ status: 'fail', messageId: 'ingressTaken' }] },
    { name: 'host port 7946, where dockerd listens', snapshot: live, stack: plan.host, errors: [{ status: 'fail', messageId: 'listening' }] },
  ],
});

checkTester(mesh, {
  valid: [{ name: 'dnsrr, nothing published', snapshot: live, stack: plan.go }],
  invalid: [{ name: 'an ingress port on IPVS-less nodes', snapshot: live, stack: plan.ingress, errors: [{ status: 'fail', messageId: 'noMesh' }] }],
});

describe('stack findings point into the user files', () => {
  const run = (
    check: Parameters<typeof runChecks>[2],
    snap: ClusterSnapshot,
    p: (s: ClusterSnapshot) => ReturnType<Awaited<ReturnType<typeof stackPlanner>>>,
  ) => runChecks(buildModel(snap, p(snap)), {}, check).filter((f) => f.status === 'fail');

  it('names the service and the line of its ports', () => {
    const [f] = run([conflict], noLive(), plan.web);
    expect(f).toMatchObject({ service: 'app_app', location: { file: stackFile('port-web'), line: 6 } });
  });

  it('takes the line from the last file that sets the key', () => {
    const [f] = run([subnet], live(), plan.override);
    expect(f?.location).toEqual({ file: stackFile('override-subnet'), line: 4 });
  });

  it('names the line of the constraint no node satisfies', () => {
    const [f] = run([placement], live(), plan.constraint);
    expect(f).toMatchObject({ service: 'app_app', location: { file: stackFile('constraint'), line: 9 } });
  });
});
