/**
 * stack.network.external by docker's rules (docker/cli validateExternalNetworks,
 * swarmkit validateNetworks and AttachNetwork), on the lab recording: ndnet is
 * an attachable swarm overlay there, ingress the routing mesh. The manager's
 * whole network list is GET /networks as the Docker 26 lab answered it
 * (test/fixtures/lab/network-list/networks.json): nd-local-br a local bridge
 * (`docker network create -d bridge`), nd-swarm-br a swarm-scoped bridge
 * (`--scope swarm -d bridge`), nd-swarm-mv a swarm-scoped macvlan
 * (`--scope swarm --config-from nd-mv-conf`), nd-mv-conf its config-only
 * network (scope local, driver null). On that lab `docker stack deploy`
 * refused nd-local-br with the scope message and deployed the other two; the
 * macvlan's task was rejected on nd2, which had no nd-mv-conf.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildClusterFacts } from '../../../../src/collect/cluster.js';
import { lookupNetwork } from '../../../../src/model/stack.js';
import external from '../../../../src/checks/stack/network-external.js';
import type { ClusterSnapshot } from '../../../../src/snapshot/types.js';
import { checkTester, runCheck } from '../../../support/check-tester.js';
import { labSnapshot } from '../../../support/lab-fixtures.js';
import { stackPlanner } from '../../../support/stack-fixtures.js';

const noLive = () => labSnapshot('healthy', []);
/** ndnet created without --attachable. */
const notAttachable = (): ClusterSnapshot => {
  const s = labSnapshot('healthy', []);
  s.cluster.networks.find((n) => n.name === 'ndnet')!.attachable = false;
  return s;
};
/** The recorded GET /networks answer, added to the healthy recording as the collector adds it. */
const listed =
  (edit: (list: Record<string, unknown>[]) => void = () => undefined) =>
  (): ClusterSnapshot => {
    const s = labSnapshot('healthy', []);
    const list = JSON.parse(readFileSync(new URL('../../../fixtures/lab/network-list/networks.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >[];
    edit(list);
    const raw = {
      ...s.cluster.raw,
      networkList: list.map((n) => ({ Id: n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope, ConfigFrom: n.ConfigFrom })),
    };
    return { ...s, cluster: buildClusterFacts(raw) };
  };
/** A second network named ndnet: a local bridge next to the swarm overlay. */
const twoNdnets = listed((l) => l.push({ Name: 'ndnet', Id: 'b45f49187851aaaa', Driver: 'bridge', Scope: 'local' }));

const plan = {
  ndnet: await stackPlanner('external-ndnet'),
  host: await stackPlanner('external-host'),
  ingress: await stackPlanner('external-ingress'),
  missing: await stackPlanner('external'),
  local: await stackPlanner('external-local'),
  swarmBridge: await stackPlanner('external-swarm'),
  macvlan: await stackPlanner('external-macvlan'),
};

checkTester(external, {
  valid: [
    {
      name: 'an attachable swarm overlay',
      snapshot: noLive,
      stack: plan.ndnet,
      passes: [{ status: 'pass', messageId: 'present', network: 'ndnet' }],
    },
    {
      name: 'a swarm overlay without --attachable (services do not need it)',
      snapshot: notAttachable,
      stack: plan.ndnet,
      passes: [{ status: 'pass', messageId: 'present', network: 'ndnet' }],
    },
    {
      name: "docker's built-in host network",
      snapshot: noLive,
      stack: plan.host,
      passes: [{ status: 'pass', messageId: 'builtin', network: 'host' }],
    },
    {
      name: 'a swarm-scoped bridge (--scope swarm -d bridge)',
      snapshot: listed(),
      stack: plan.swarmBridge,
      passes: [{ status: 'pass', messageId: 'swarmScoped', network: 'nd-swarm-br' }],
    },
    {
      name: 'the swarm overlay, looked up among every network of the manager',
      snapshot: listed(),
      stack: plan.ndnet,
      passes: [{ status: 'pass', messageId: 'present', network: 'ndnet' }],
    },
  ],
  invalid: [
    {
      name: 'a network that does not exist',
      snapshot: noLive,
      stack: plan.missing,
      errors: [{ status: 'fail', messageId: 'missing', network: 'nd-missing-net' }],
    },
    { name: 'the ingress network', snapshot: noLive, stack: plan.ingress, errors: [{ status: 'fail', messageId: 'ingress', network: 'ingress' }] },
    {
      name: 'a swarm-scoped macvlan made --config-from (accepted; tasks need the config network on their node)',
      snapshot: listed(),
      stack: plan.macvlan,
      errors: [{ status: 'warn', messageId: 'configFrom', network: 'nd-swarm-mv' }],
    },
    {
      name: 'a local bridge of that name on the manager (GET /networks)',
      snapshot: listed(),
      stack: plan.local,
      errors: [{ status: 'fail', messageId: 'scope', network: 'nd-local-br' }],
    },
    {
      name: 'two networks named ndnet (a local bridge and the swarm overlay)',
      snapshot: twoNdnets,
      stack: plan.ndnet,
      errors: [{ status: 'fail', messageId: 'ambiguous', network: 'ndnet' }],
    },
    {
      name: 'a network missing from the whole list too',
      snapshot: listed(),
      stack: plan.missing,
      errors: [{ status: 'fail', messageId: 'missing', network: 'nd-missing-net' }],
    },
  ],
});

describe('stack.network.external on attachable', () => {
  it('says an overlay without --attachable is fine for services', () => {
    const [f] = runCheck(external, { name: 'x', snapshot: notAttachable, stack: plan.ndnet });
    expect(f!.detail).toContain('not attachable, which services do not need');
  });

  it('states its decision and where it comes from in looksAt', () => {
    expect(external.meta.looksAt).toMatch(/AttachNetwork .*resourceapi\/allocator\.go/);
    expect(external.meta.looksAt).toContain('validateExternalNetworks');
  });
});

describe("stack.network.external in docker's words", () => {
  it('the scope refusal is the sentence docker stack deploy printed on the lab', () => {
    const [f] = runCheck(external, { name: 'x', snapshot: listed(), stack: plan.local });
    // docker 28.2 CLI against the Docker 26 lab: `docker stack deploy` with nd-local-br declared external.
    expect(f!.detail).toContain('network "nd-local-br" is declared as external, but it is not in the right scope: "local" instead of "swarm"');
    expect(f!.detail).toContain('bridge network');
    expect(f!.location).toMatchObject({ line: 10 });
  });

  it('a --config-from network: the rejection its tasks got on the lab node without the config network', () => {
    const [f] = runCheck(external, { name: 'x', snapshot: listed(), stack: plan.macvlan });
    // docker service ps on the Docker 26 lab, task on nd2 (nd-mv-conf existed on nd1 only): Rejected, this error.
    expect(f!.detail).toContain('configuration network "nd-mv-conf" does not exist');
    expect(f!.remediation).toContain('--config-only');
  });

  it("a missing network: docker's own sentence", () => {
    const [f] = runCheck(external, { name: 'x', snapshot: listed(), stack: plan.missing });
    expect(f!.detail).toContain(
      'network "nd-missing-net" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed',
    );
  });

  it('two of one name: ambiguous, as docker network inspect answers', () => {
    const [f] = runCheck(external, { name: 'x', snapshot: twoNdnets, stack: plan.ndnet });
    expect(f!.detail).toContain('network ndnet is ambiguous (2 matches found based on name)');
  });
});

describe("the manager's network list", () => {
  const list = listed()().cluster.networkList!;

  it('keeps the config-only network a --config-from one was made from, and nothing for the others', () => {
    expect(list.find((n) => n.name === 'nd-swarm-mv')!.configFrom).toBe('nd-mv-conf');
    expect(list.filter((n) => n.configFrom !== undefined)).toHaveLength(1);
  });

  it('keeps every driver and scope GET /networks listed, id and name', () => {
    expect(list.map((n) => `${n.name} ${n.driver} ${n.scope}`).sort()).toEqual([
      'bridge bridge local',
      'docker_gwbridge bridge local',
      'host host local',
      'ingress overlay swarm',
      'nd-local-br bridge local',
      'nd-mv-conf null local',
      'nd-swarm-br bridge swarm',
      'nd-swarm-mv macvlan swarm',
      'ndnet overlay swarm',
      'none null local',
    ]);
  });

  it('looks a name up as docker network inspect does: full ID, then name, then a unique ID prefix', () => {
    const swarmBr = list.find((n) => n.name === 'nd-swarm-br')!;
    expect(lookupNetwork(list, swarmBr.id)).toEqual({ found: swarmBr });
    expect(lookupNetwork(list, 'nd-swarm-br')).toEqual({ found: swarmBr });
    expect(lookupNetwork(list, swarmBr.id.slice(0, 5))).toEqual({ found: swarmBr });
    expect(lookupNetwork(list, 'nd-nope')).toEqual({ missing: true });
    expect(lookupNetwork([...list, { ...swarmBr, id: `${swarmBr.id.slice(0, 3)}zzz` }], swarmBr.id.slice(0, 3))).toEqual({
      ambiguous: 2,
      by: 'ID prefix',
    });
  });

  it('is absent from older snapshots, and the lookup then falls back to the swarm overlays', () => {
    expect(labSnapshot('healthy', []).cluster.networkList).toBeUndefined();
    const [f] = runCheck(external, { name: 'x', snapshot: noLive, stack: plan.ndnet });
    expect(f).toMatchObject({ status: 'pass', messageId: 'present' });
  });
});
