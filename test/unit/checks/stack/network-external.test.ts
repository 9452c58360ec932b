/**
 * stack.network.external by docker's rules (docker/cli validateExternalNetworks,
 * swarmkit validateNetworks and AttachNetwork), on the lab recording: ndnet is
 * an attachable swarm overlay there, ingress the routing mesh.
 */
import { describe, expect, it } from 'vitest';
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
/** A network named ndnet that is a local bridge, as a swarm-scoped non-overlay would show if it were collected. */
const localNdnet = (): ClusterSnapshot => {
  const s = labSnapshot('healthy', []);
  const n = s.cluster.networks.find((x) => x.name === 'ndnet')!;
  n.driver = 'macvlan';
  n.scope = 'local';
  return s;
};

const plan = {
  ndnet: await stackPlanner('external-ndnet'),
  host: await stackPlanner('external-host'),
  ingress: await stackPlanner('external-ingress'),
  missing: await stackPlanner('external'),
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
      name: 'a local macvlan of that name',
      snapshot: localNdnet,
      stack: plan.ndnet,
      errors: [{ status: 'fail', messageId: 'notOverlay', network: 'ndnet' }],
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
