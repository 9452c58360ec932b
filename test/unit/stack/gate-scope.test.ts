/**
 * What the live gate asks of the nodes for a stack (src/run/gate-scope.ts),
 * planned against the lab recording (ndnet with web's tasks and lb sandboxes,
 * ingress publishing 8080/tcp): the collect script's options and script, and
 * the probes' plan, each against what `check` builds from the same snapshot.
 */
import { describe, expect, it } from 'vitest';
import { scriptOptionsFor } from '../../../src/collect/collect.js';
import { buildCollectScript } from '../../../src/collect/script.js';
import { runChecks } from '../../../src/checks/runner.js';
import { buildModel } from '../../../src/model/build.js';
import { buildStackModel, type StackModel } from '../../../src/model/stack.js';
import { planNode } from '../../../src/probe/run.js';
import { gateScope, stackNetworkNames } from '../../../src/run/gate-scope.js';
import type { ClusterSnapshot } from '../../../src/snapshot/types.js';
import { normaliseStack } from '../../../src/stack/normalise.js';
import { labSnapshot } from '../../support/lab-fixtures.js';
import { fixtureStack } from '../../support/stack-fixtures.js';

const snap = labSnapshot();
const ndnet = snap.cluster.networks.find((n) => n.name === 'ndnet')!;
const ingress = snap.cluster.networks.find((n) => n.ingress)!;
const plan = (config: string, s: ClusterSnapshot = snap): StackModel => buildStackModel(fixtureStack(config), s.cluster, { locate: () => null });
const planYaml = (yaml: string): StackModel => buildStackModel(normaliseStack(yaml, 'app', []), snap.cluster, { locate: () => null });
const nd2 = snap.nodes.find((n) => n.name === 'nd2')!;
const peers = [
  { name: 'nd1', ip: '10.213.0.11', manager: true },
  { name: 'nd3', ip: '10.213.0.13', manager: false },
];
/** The overlays nd2 pings with these probe options, by name. */
const pinged = (dataPathNetworks?: string[]) =>
  [
    ...new Set(planNode(snap, nd2, peers, { timeoutSec: 2, ...(dataPathNetworks ? { dataPathNetworks } : {}) }).dataPath.map((d) => d.network)),
  ].sort();
/** The lb sandboxes whose embedded DNS the script asks (script.ts dnsSections: one `S=lb_<prefix>; NSF=…` each). */
/** The lb sandboxes whose embedded DNS the script asks (dnsSections: one `lb_<prefix>) NDQA='…'` case each). */
const dnsSections = (script: string) => [...script.matchAll(/^ {2}lb_[0-9a-z]+\) NDQA='/gm)].length;

describe('the gate scope of a stack on the lab', () => {
  it('go.yml (dnsrr, a fresh overlay, nothing published): no DNS lookup, no overlay ping, no conntrack read; check does all three', () => {
    const scope = gateScope(plan('go'), snap.cluster);
    expect(scope).toEqual({ collect: { dnsNetworks: [], udpPorts: [] }, dataPathNetworks: [] });

    const gate = scriptOptionsFor(snap.cluster, {}, scope.collect);
    const check = scriptOptionsFor(snap.cluster, {});
    expect(gate.dns).toEqual([]);
    expect(check.dns).toEqual([{ prefix: ndnet.id.slice(0, 9), names: ['web', 'tasks.web'] }]);
    expect(dnsSections(buildCollectScript(gate).script)).toBe(0);
    expect(dnsSections(buildCollectScript(check).script)).toBe(1);
    // Everything else the script reads is the same: the static sections stay whole.
    const { dns: _d, udpPorts: _u, ...gateRest } = gate;
    const { dns: _d2, udpPorts: _u2, ...checkRest } = check;
    expect(gateRest).toEqual(checkRest);

    expect(pinged(scope.dataPathNetworks)).toEqual([]);
    expect(pinged()).toEqual(['ingress', 'ndnet']);
  });

  it('a stack on the existing ndnet (external): its DNS and data path only, not ingress', () => {
    const st = plan('external-ndnet');
    expect([...stackNetworkNames(st, snap.cluster)]).toEqual(['ndnet']);
    const scope = gateScope(st, snap.cluster);
    expect(scope.dataPathNetworks).toEqual([ndnet.id]);
    expect(scriptOptionsFor(snap.cluster, {}, scope.collect).dns).toEqual([{ prefix: ndnet.id.slice(0, 9), names: ['web', 'tasks.web'] }]);
    expect(pinged(scope.dataPathNetworks)).toEqual(['ndnet']);
  });

  it('a network of the stack that exists already under its name (a redeploy) is joined like an external one', () => {
    const st = planYaml('services: {a: {image: x, networks: [n]}}\nnetworks: {n: {driver: overlay, name: ndnet}}');
    expect(gateScope(st, snap.cluster).dataPathNetworks).toEqual([ndnet.id]);
  });

  it('publishing in ingress mode joins ingress (the routing mesh): pinged, no DNS (ingress has no service records)', () => {
    const scope = gateScope(plan('ingress'), snap.cluster);
    expect(scope.dataPathNetworks).toEqual([ingress.id]);
    expect(scriptOptionsFor(snap.cluster, {}, scope.collect).dns).toEqual([]);
    expect(pinged(scope.dataPathNetworks)).toEqual(['ingress']);
    // host mode does not use the mesh
    const host = planYaml('services: {a: {image: x, ports: [{target: 80, published: 80, mode: host}]}}');
    expect(gateScope(host, snap.cluster).dataPathNetworks).toEqual([]);
  });

  it('reads the conntrack entries of every published UDP port when the stack publishes UDP (the check compares all), else none', () => {
    const s = structuredClone(snap);
    s.cluster.services.find((x) => x.name === 'web')!.ports.push({ protocol: 'udp', targetPort: 514, publishedPort: 5514, publishMode: 'ingress' });
    const udp = 'services: {a: {image: x, ports: [{target: 53, published: 5353, protocol: udp, mode: host}]}}';
    const st = buildStackModel(normaliseStack(udp, 'app', []), s.cluster, { locate: () => null });
    expect(gateScope(st, s.cluster).collect.udpPorts).toEqual([5514]);
    expect(scriptOptionsFor(s.cluster, {}, gateScope(st, s.cluster).collect).udpPorts).toEqual([5514]);
    expect(gateScope(plan('go', s), s.cluster).collect.udpPorts).toEqual([]);
    expect(buildCollectScript(scriptOptionsFor(s.cluster, {}, gateScope(plan('go', s), s.cluster).collect)).script).not.toContain(
      'host/conntrack-udp',
    );
    expect(scriptOptionsFor(s.cluster, {}).udpPorts).toEqual([5514]);
  });
});

describe('what the checks say of what a gate did not ask', () => {
  // The live gate's snapshot for go.yml: probes ran, but no overlay ping; no conntrack section (a UDP port is published).
  const s = structuredClone(snap);
  s.probes = { startedAt: '2026-11-25T15:12:01.000Z', durationMs: 300, ports: [], mtu: [], dataPath: [], errors: [] };
  s.cluster.services.find((x) => x.name === 'web')!.ports.push({ protocol: 'udp', targetPort: 514, publishedPort: 5514, publishMode: 'ingress' });
  const sel = { only: ['overlay.datapath', 'service.conntrack.stale-udp'], stack: true };
  const ids = (fs: { id: string; status: string; messageId: string }[]) => fs.map((f) => `${f.id} ${f.status} ${f.messageId}`);

  it('a gate: no overlay ping because the stack joins no overlay with endpoints yet; no conntrack read because it publishes no UDP', () => {
    const fs = runChecks(buildModel(s, plan('go', s)), sel);
    expect(ids(fs)).toEqual([
      'overlay.datapath.reachable skip notJoined',
      'overlay.datapath.mtu skip notJoined',
      'service.conntrack.stale-udp skip stackNoUdp',
      'service.conntrack.stale-udp skip stackNoUdp',
      'service.conntrack.stale-udp skip stackNoUdp',
    ]);
    expect(fs[0]!.detail).toContain('a network the stack creates has none before the deploy');
  });

  it('check on the same snapshot keeps its own words', () => {
    expect(ids(runChecks(buildModel(s), sel))).toEqual([
      'overlay.datapath.reachable skip noProbes',
      'overlay.datapath.mtu skip noProbes',
      'service.conntrack.stale-udp skip notCollected',
      'service.conntrack.stale-udp skip notCollected',
      'service.conntrack.stale-udp skip notCollected',
    ]);
  });
});
