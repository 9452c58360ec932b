import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

/** Names docker/cli does not look up for an external network (container.NetworkMode(name).IsUserDefined() is false). */
const builtin = (name: string): boolean => ['default', 'bridge', 'host', 'none'].includes(name) || name.startsWith('container:');

const ingressFix = (key: string): string =>
  `drop ${shq(key)} from the stack: ports published in ingress mode reach the routing mesh without it; services talk over a network of their own (\`docker network create -d overlay NAME\`).`;

export default defineCheck({
  meta: {
    id: 'stack.network.external',
    layer: 'stack',
    title: 'External networks exist and services may join them',
    looksAt:
      'Each network the stack declares `external`, by docker\'s own rules. docker/cli (cli/command/stack/swarm/deploy_composefile.go, validateExternalNetworks) skips the built-in names (default, bridge, host, none: local networks every node has), looks every other one up as `docker network inspect NAME` does on the manager (a full ID, then the name, then an ID prefix; two networks of one name are ambiguous), and refuses one that does not exist or whose scope is not swarm; a swarm-scoped network of any driver is accepted (an overlay, or a bridge/macvlan/ipvlan created with `--scope swarm`), though one made `--config-from` a config-only network has its tasks rejected on every node without a local network of that name (seen on the Docker 26 lab: "configuration network … does not exist"), which the manager cannot see, so it is a warning; swarmkit (manager/controlapi/service.go, validateNetworks) refuses services on the ingress network. The lookup runs over every network the manager lists (GET /networks: local bridges and macvlans too). `attachable` is not required: swarmkit checks it only in AttachNetwork (manager/resourceapi/allocator.go, "not manually attachable"), the path of standalone containers (`docker run --network`, compose without swarm), never for a service\'s tasks, so an external network without it is fine for a stack and only noted.',
    remediation: 'Create the network before deploying (`docker network create -d overlay NAME`), or drop `external: true` so the stack creates it.',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      present: '{network} exists ({driver}, scope {scope}{attachable})',
      swarmScoped:
        '{network} exists, a swarm-scoped {driver} network: docker stack deploy accepts it (each node builds its own {driver} network for the tasks it runs)',
      configFrom:
        '{network} is a swarm-scoped {driver} network made from the config-only network {config} (`--config-from`): docker stack deploy accepts it, but swarm rejects its task on any node that has no local {config} ("configuration network "{config}" does not exist"); the manager cannot tell which nodes have one',
      builtin: "{network} is docker's built-in {network} network, on every node; docker stack deploy does not look it up",
      missing:
        'docker stack deploy fails: network "{network}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed',
      scope:
        'docker stack deploy fails: network "{network}" is declared as external, but it is not in the right scope: "{scope}" instead of "swarm" (a {driver} network on the manager)',
      ambiguous: 'docker stack deploy fails: network {network} is ambiguous ({count} matches found based on {by})',
      ingress:
        '{network} is the routing-mesh ingress network: swarm refuses a service on it ("Service cannot be explicitly attached to the ingress network")',
    },
  },
  check({ model, report }) {
    for (const p of stackOf(model).networks.filter((x) => x.net.external)) {
      const network = p.net.name;
      const where = at(model, ['networks', p.net.key], { network });
      const l = p.lookup;
      const create = `docker network create -d overlay ${shq(network)}`;
      if (builtin(network)) report('pass', 'builtin', { network }, where);
      else if ('missing' in l) report('fail', 'missing', { network }, { ...where, remediation: create });
      else if ('ambiguous' in l)
        report(
          'fail',
          'ambiguous',
          { network, count: l.ambiguous, by: l.by },
          {
            ...where,
            remediation: `keep one network of that name: \`docker network ls --filter name=${shq(network)}\` lists them; remove the others or declare the one to use by its ID.`,
          },
        );
      else if (l.found.scope !== 'swarm')
        report(
          'fail',
          'scope',
          { network, scope: l.found.scope, driver: l.found.driver },
          {
            ...where,
            remediation: `declare a swarm-scoped network under another name (\`docker network create -d overlay NAME\`; one more network named ${shq(network)} would make the name ambiguous), or drop \`external: true\` so the stack creates its own.`,
          },
        );
      else if (p.existing?.ingress === true) report('fail', 'ingress', { network }, { ...where, remediation: ingressFix(p.net.key) });
      else if (l.found.configFrom !== undefined)
        report(
          'warn',
          'configFrom',
          { network, driver: l.found.driver, config: l.found.configFrom },
          {
            ...where,
            remediation: `on every node the stack can run on, create the config-only network with that node's own settings (\`docker network create --config-only -o parent=IFACE --subnet CIDR ${shq(l.found.configFrom)}\`), or constrain the services to the nodes that have it.`,
          },
        );
      else if (l.found.driver !== 'overlay') report('pass', 'swarmScoped', { network, driver: l.found.driver }, where);
      else
        report(
          'pass',
          'present',
          {
            network,
            driver: l.found.driver,
            scope: l.found.scope,
            attachable: p.existing && !p.existing.attachable ? '; not attachable, which services do not need' : ', attachable',
          },
          where,
        );
    }
  },
});
