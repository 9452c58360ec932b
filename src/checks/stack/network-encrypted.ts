import { listText } from '../../text/list.js';
import { defineCheck } from '../types.js';
import { at, collected, stackOf } from './lib.js';

const NEEDED = ['esp4', 'xfrm_user'];

export default defineCheck({
  meta: {
    id: 'stack.network.encrypted',
    layer: 'stack',
    title: 'Encrypted networks can be encrypted on the nodes',
    looksAt:
      'For `driver_opts: {encrypted: ""}` networks: esp4 and xfrm_user (IPsec SAs), and xt_u32 (the rules that drop unencrypted VXLAN, FAILURES.md #17) on every node the stack can land on (live runs). ESP (IP protocol 50) between them is not probed: a firewall that drops it is not seen before the deploy (FAILURES.md #14).',
    remediation:
      'Load the modules on every node (`modprobe esp4 xfrm_user xt_u32`, persisted in /etc/modules-load.d/), allow IP protocol 50 between the nodes, or drop the encryption.',
    causedBy: ['host.kernel.modules'],
    scope: 'cluster',
    failures: [14, 17],
    needs: ['stack'],
    messages: {
      ready: '{network}: {modules} present on {nodes}',
      missing: '{network} is encrypted but {nodes} lack {modules}: no IPsec SA is installed and the network carries no traffic',
      unknown: "{network} is encrypted; the nodes' kernel support is not verified without a live run (--no-live)",
    },
  },
  check({ model, report }) {
    const st = stackOf(model);
    for (const p of st.networks.filter((x) => x.net.encrypted || x.existing?.encrypted === true)) {
      const where = at(model, ['networks', p.net.key], { network: p.net.name });
      const names = new Set(p.services.flatMap((s) => st.services.find((x) => x.svc.key === s.key)?.candidates ?? []));
      const nodes = collected(model, names);
      if (nodes.length === 0) {
        report('skip', 'unknown', { network: p.net.name }, where);
        continue;
      }
      const lacking = nodes
        .map((n) => ({ n, gone: [...NEEDED, 'xt_u32'].filter((m) => n.host!.modules[m] === false) }))
        .filter((x) => x.gone.length > 0);
      if (lacking.length > 0) {
        const modules = listText([...new Set(lacking.flatMap((x) => x.gone))]);
        report('fail', 'missing', { network: p.net.name, nodes: listText(lacking.map((x) => x.n.name)), modules }, where);
      } else
        report('pass', 'ready', { network: p.net.name, modules: listText([...NEEDED, 'xt_u32']), nodes: listText(nodes.map((n) => n.name)) }, where);
    }
  },
});
