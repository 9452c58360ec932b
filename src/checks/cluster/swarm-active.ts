import { plural } from '../../text/list.js';
import { defineCheck } from '../types.js';

export default defineCheck({
  meta: {
    id: 'cluster.swarm.active',
    layer: 'cluster',
    title: 'Swarm active on the endpoint',
    looksAt: 'The swarm id the Docker endpoint reports (GET /swarm on a manager).',
    remediation:
      'Point netdoctor at a swarm manager (`docker context use <manager>` or `-H ssh://user@manager`), or create the swarm (`docker swarm init --advertise-addr <underlay IP>`).',
    scope: 'cluster',
    failures: [],
    messages: {
      inactive: 'the Docker endpoint {endpoint} (context {context}) is not a manager of an active swarm: no swarm id.',
      active: 'swarm {swarm} seen from manager {manager} with {nodes}, {networks} and {services}',
    },
  },
  check({ model, report }) {
    const c = model.cluster;
    if (c.swarmId === null) {
      report('fail', 'inactive', { endpoint: model.snapshot.endpoint.host, context: model.snapshot.endpoint.context });
      return;
    }
    report('pass', 'active', {
      swarm: c.swarmId,
      manager: c.managerNode ?? '?',
      nodes: plural(c.nodes.length, 'node'),
      networks: plural(c.networks.length, 'swarm network'),
      services: plural(c.services.length, 'service'),
    });
  },
});
