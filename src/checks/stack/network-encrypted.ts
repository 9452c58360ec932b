import type { Model } from '../../model/types.js';
import type { PortProbe } from '../../probe/types.js';
import { listText } from '../../text/list.js';
import { prose, shq } from '../../text/shell.js';
import { defineCheck, type ReportExtra, type Reporter } from '../types.js';
import { receiverVerdict } from '../underlay/lib/port-probe.js';
import { at, collected, encryptedNetworks, stackOf } from './lib.js';

const NEEDED = ['esp4', 'xfrm_user'];

type Id = 'ready' | 'missing' | 'unknown' | 'espOk' | 'espBlocked' | 'espUnconfirmed';

/** A probed ESP pair that does not pass: blocked on the way, or seen on the receiver but dropped by its own INPUT. */
const blocked = (m: Model, p: PortProbe): boolean => p.state === 'blocked' || receiverVerdict(m, p)?.status === 'fail';

/** Allow ESP where it is dropped, with the nodes' real addresses: per receiver (INPUT), or per sender whose own OUTPUT refused it. */
function allowEsp(m: Model, pairs: readonly PortProbe[]): string {
  const by = new Map<string, { chain: 'INPUT' | 'OUTPUT'; addrs: string[] }>();
  for (const p of pairs) {
    const out = p.senderRefused === true;
    const node = out ? p.from : p.to;
    const addr = m.ipByName.get(out ? p.to : p.from);
    const key = `${out ? 'OUTPUT' : 'INPUT'} ${node}`;
    const g = by.get(key) ?? { chain: out ? 'OUTPUT' : 'INPUT', addrs: [] };
    if (addr !== undefined && !g.addrs.includes(addr)) g.addrs.push(addr);
    by.set(key, g);
  }
  const cmds = [...by].map(([key, g]) => {
    const node = key.slice(key.indexOf(' ') + 1);
    const peer = g.addrs.length > 0 ? ` ${g.chain === 'INPUT' ? '-s' : '-d'} ${shq(g.addrs.join(','))}` : '';
    return `on ${prose(node)}: iptables -I ${g.chain} -p esp${peer} -j ACCEPT`;
  });
  return `${cmds.join('; ')} (persist it in the firewall's configuration), and allow IP protocol 50 between these nodes in any cloud firewall or security group.`;
}

/** What the ESP probes between the network's candidate nodes said (live runs with probes; nothing otherwise). */
function reportEsp(m: Model, network: string, nodes: ReadonlySet<string>, where: ReportExtra, report: Reporter<Id>): void {
  const esp = (m.probes?.ports ?? []).filter((p) => p.purpose === 'esp' && nodes.has(p.from) && nodes.has(p.to));
  if (esp.length === 0) return;
  const pairs = (ps: PortProbe[]) => listText(ps.map((p) => `${p.from} → ${p.to}`));
  const bad = esp.filter((p) => blocked(m, p));
  if (bad.length > 0) return report('fail', 'espBlocked', { network, pairs: pairs(bad) }, { ...where, remediation: allowEsp(m, bad) });
  const unsure = esp.filter((p) => p.state === 'unconfirmed');
  if (unsure.length > 0) return report('warn', 'espUnconfirmed', { network, pairs: pairs(unsure), detail: unsure[0]!.detail }, where);
  report('pass', 'espOk', { network, count: String(esp.length), nodes: listText([...new Set(esp.flatMap((p) => [p.from, p.to]))].sort()) }, where);
}

export default defineCheck({
  meta: {
    id: 'stack.network.encrypted',
    layer: 'stack',
    title: 'Encrypted networks can be encrypted on the nodes, and ESP passes between them',
    looksAt:
      "For `driver_opts: {encrypted: \"\"}` networks: esp4 and xfrm_user (IPsec SAs), and xt_u32 (the rules that drop unencrypted VXLAN, FAILURES.md #17) on every node the stack can land on (live runs); and, with probes, ESP (IP protocol 50) between every ordered pair of those nodes (underlay.esp.reachable's probe, planned over the stack's candidate nodes): a firewall that drops it leaves the network with DNS but no data (FAILURES.md #14). Only the network's candidate nodes are judged.",
    remediation:
      'Load the modules on every node (`modprobe esp4 xfrm_user xt_u32`, persisted in /etc/modules-load.d/), allow IP protocol 50 between the nodes (`iptables -I INPUT -p esp -s <peer> -j ACCEPT`, and protocol 50 in cloud security groups), or drop the encryption.',
    causedBy: ['host.kernel.modules', 'underlay.esp.reachable'],
    scope: 'cluster',
    failures: [14, 17],
    needs: ['stack'],
    messages: {
      ready: '{network}: {modules} present on {nodes}',
      missing: '{network} is encrypted but {nodes} lack {modules}: no IPsec SA is installed and the network carries no traffic',
      unknown: "{network} is encrypted; the nodes' kernel support is not verified without a live run (--no-live)",
      espOk: '{network}: ESP (IP protocol 50) passes between {nodes} ({count} ordered pairs probed)',
      espBlocked:
        '{network} is encrypted but ESP (IP protocol 50) does not pass {pairs}: its tasks there would resolve each other by DNS but exchange no data',
      espUnconfirmed: '{network}: ESP (IP protocol 50) {pairs} could not be confirmed: {detail}',
    },
  },
  check({ model, report }) {
    for (const { plan: p, nodes: names } of encryptedNetworks(stackOf(model))) {
      const where = at(model, ['networks', p.net.key], { network: p.net.name });
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
      reportEsp(model, p.net.name, names, where, report);
    }
  },
});
