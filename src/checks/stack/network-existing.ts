import { listText } from '../../text/list.js';
import { shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { at, stackOf } from './lib.js';

export default defineCheck({
  meta: {
    id: 'stack.network.existing',
    layer: 'stack',
    title: 'Networks of the stack that exist already match their definition',
    looksAt:
      'A network the stack would create whose name exists already (a previous deploy): docker stack deploy keeps it as it is, so a changed driver, subnet, encryption or attachable flag does not take effect.',
    remediation:
      'Remove the stack and its network first (`docker stack rm STACK`, then `docker network rm NETWORK` once its tasks are gone), or keep the definition as deployed.',
    scope: 'cluster',
    failures: [],
    needs: ['stack'],
    messages: {
      same: '{network} exists and matches the file',
      differs: '{network} exists with {differences}; docker stack deploy will not change it',
    },
  },
  check({ model, report }) {
    for (const p of stackOf(model).networks.filter((x) => !x.net.external && x.existing !== undefined)) {
      const e = p.existing!;
      const n = p.net;
      const diffs: string[] = [];
      if (e.driver !== n.driver) diffs.push(`driver ${e.driver} (file: ${n.driver})`);
      if (e.encrypted !== n.encrypted) diffs.push(e.encrypted ? 'encryption on (file: off)' : 'encryption off (file: on)');
      if (n.attachable && !e.attachable) diffs.push('attachable off (file: on)');
      const have = e.subnets.map((s) => s.subnet);
      if (n.subnets.length > 0 && n.subnets.some((s) => !have.includes(s))) diffs.push(`subnet ${listText(have)} (file: ${listText(n.subnets)})`);
      const where = at(model, ['networks', n.key], { network: n.name });
      if (diffs.length === 0) report('pass', 'same', { network: n.name }, where);
      else
        report(
          'warn',
          'differs',
          { network: n.name, differences: listText(diffs) },
          { ...where, remediation: `docker stack rm ${shq(stackOf(model).stack.name)}; docker network rm ${shq(n.name)}; then deploy again` },
        );
    }
  },
});
