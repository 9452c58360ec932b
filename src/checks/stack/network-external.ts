import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

/** Names docker/cli does not look up for an external network (container.NetworkMode(name).IsUserDefined() is false). */
const builtin = (name: string): boolean => ['default', 'bridge', 'host', 'none'].includes(name) || name.startsWith('container:');

export default defineCheck({
  meta: {
    id: 'stack.network.external',
    layer: 'stack',
    title: 'External networks exist and services may join them',
    looksAt:
      'Each network the stack declares `external`, by docker\'s own rules. docker/cli (cli/command/stack/swarm/deploy_composefile.go, validateExternalNetworks) skips the built-in names (default, bridge, host, none: local networks every node has) and otherwise refuses a network that does not exist or whose scope is not swarm; swarmkit (manager/controlapi/service.go, validateNetworks) refuses services on the ingress network. `attachable` is not required: swarmkit checks it only in AttachNetwork (manager/resourceapi/allocator.go, "not manually attachable"), the path of standalone containers (`docker run --network`, compose without swarm), never for a service\'s tasks, so an external network without it is fine for a stack and only noted. Only swarm-scoped overlays are collected, so any other network of that name reads as missing.',
    remediation: 'Create the network before deploying (`docker network create -d overlay NAME`), or drop `external: true` so the stack creates it.',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      present: '{network} exists ({driver}, scope {scope}{attachable})',
      builtin: "{network} is docker's built-in {network} network, on every node; docker stack deploy does not look it up",
      missing:
        '{network} is declared external but there is no swarm-scoped overlay of that name: docker stack deploy fails ("network {network} is declared as external, but could not be found")',
      notOverlay: '{network} exists but is a {driver} network of scope {scope}: swarm services can only join swarm-scoped overlays',
      ingress:
        '{network} is the routing-mesh ingress network: swarm refuses a service on it ("Service cannot be explicitly attached to the ingress network")',
    },
  },
  check({ model, report }) {
    for (const p of stackOf(model).networks.filter((x) => x.net.external)) {
      const where = at(model, ['networks', p.net.key], { network: p.net.name });
      const e = p.existing;
      if (builtin(p.net.name)) report('pass', 'builtin', { network: p.net.name }, where);
      else if (!e)
        report('fail', 'missing', { network: p.net.name }, { ...where, remediation: `docker network create -d overlay ${shq(p.net.name)}` });
      else if (e.ingress)
        report(
          'fail',
          'ingress',
          { network: p.net.name },
          {
            ...where,
            remediation: `drop ${shq(p.net.key)} from the stack: ports published in ingress mode reach the routing mesh without it; services talk over a network of their own (\`docker network create -d overlay NAME\`).`,
          },
        );
      else if (e.driver !== 'overlay' || e.scope !== 'swarm')
        report('fail', 'notOverlay', { network: p.net.name, driver: e.driver, scope: e.scope }, where);
      else
        report(
          'pass',
          'present',
          {
            network: p.net.name,
            driver: e.driver,
            scope: e.scope,
            attachable: e.attachable ? ', attachable' : '; not attachable, which services do not need',
          },
          where,
        );
    }
  },
});
