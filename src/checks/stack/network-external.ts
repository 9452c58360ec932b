import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.network.external',
    layer: 'stack',
    title: 'External networks exist and are swarm overlays',
    looksAt: 'Each network the stack declares `external`: present on the manager, driver overlay, scope swarm.',
    remediation: 'Create the network before deploying (`docker network create -d overlay NAME`), or drop `external: true` so the stack creates it.',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      present: '{network} exists ({driver}, scope {scope})',
      missing: '{network} is declared external but does not exist: docker stack deploy fails ("network {network} not found")',
      notOverlay: '{network} exists but is a {driver} network of scope {scope}: swarm services can only join swarm-scoped overlays',
    },
  },
  check({ model, report }) {
    for (const p of stackOf(model).networks.filter((x) => x.net.external)) {
      const where = at(model, ['networks', p.net.key], { network: p.net.name });
      const e = p.existing;
      if (!e) report('fail', 'missing', { network: p.net.name }, { ...where, remediation: `docker network create -d overlay ${shq(p.net.name)}` });
      else if (e.driver !== 'overlay' || e.scope !== 'swarm')
        report('fail', 'notOverlay', { network: p.net.name, driver: e.driver, scope: e.scope }, where);
      else report('pass', 'present', { network: p.net.name, driver: e.driver, scope: e.scope }, where);
    }
  },
});
