import type { DnsAnswer } from '../../model/ctlplane.js';
import type { Model } from '../../model/types.js';
import { stripPrefixLen } from '../../net/ip.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** A UDP answer holds about this many A records; past it a short `tasks.` answer is not a missing record. */
const UDP_RECORDS = 25;

/** What the manager says each name should resolve to on `net`: the VIP (or the tasks, for dnsrr) and `tasks.<service>`. */
export function expectedRecords(model: Model, net: NetworkFacts): Map<string, { service: string; ips: Set<string> }> {
  const out = new Map<string, { service: string; ips: Set<string> }>();
  for (const svc of model.cluster.services) {
    const tasks = new Set(svc.runningTasks.flatMap((t) => t.addresses.filter((a) => a.networkId === net.id).map((a) => stripPrefixLen(a.addr))));
    const vips = new Set(svc.vips.filter((v) => v.networkId === net.id).map((v) => stripPrefixLen(v.addr)));
    if (!svc.networks.includes(net.id) && vips.size === 0) continue;
    out.set(svc.name, { service: svc.name, ips: svc.endpointMode === 'dnsrr' ? tasks : vips });
    out.set(`tasks.${svc.name}`, { service: svc.name, ips: tasks });
  }
  return out;
}

/** What is wrong with one answer, in words; null when it matches. */
export function judge(a: DnsAnswer, want: Set<string>): { missing: boolean; text: string } | null {
  if (a.outcome === 'skipped' || a.outcome === 'error') return null;
  const got = new Set(a.ips);
  const stale = [...got].filter((ip) => !want.has(ip));
  const lacks = [...want].filter((ip) => !got.has(ip));
  if (want.size > 0 && got.size === 0) {
    const how = a.outcome === 'timeout' ? 'no answer' : a.rcode === 3 ? 'NXDOMAIN' : `no address (rcode ${a.rcode ?? '?'})`;
    return { missing: true, text: `${a.name}: ${how}, the manager has ${listText([...want], 4)}` };
  }
  const parts: string[] = [];
  if (stale.length) parts.push(`answers ${listText(stale, 4)} that no running task or VIP of it holds`);
  if (lacks.length && got.size < UDP_RECORDS) parts.push(`lacks ${listText(lacks, 4)}`);
  return parts.length ? { missing: lacks.length > 0 && stale.length === 0, text: `${a.name}: ${parts.join(' and ')}` } : null;
}

export default defineCheck({
  meta: {
    id: 'service.dns.records',
    layer: 'service',
    title: "Docker's embedded DNS answers every node as the manager says",
    looksAt:
      "On every node, each swarm network's load-balancer sandbox (lb_<id>) is asked, at 127.0.0.11, for every service on the network and `tasks.<service>` (a tiny resolver in bash sent with the collection script: a few hundred ms per name, a capped number of names per node, no image); the answers are compared with the manager's VIPs and running tasks (FAILURES.md #23 stale or leaked records; #7 NXDOMAIN or missing tasks on the nodes whose NetworkDB is out of step).",
    remediation:
      'Missing records on some nodes: check tcp+udp/7946 from those nodes (gossip carries the records), then `systemctl restart docker` there. Stale records everywhere: `docker service update --force SERVICE`, or remove and re-create the service.',
    scope: 'cluster',
    failures: [23, 7],
    needs: ['swarm'],
    causedBy: ['overlay.networkdb.views'],
    messages: {
      unread: 'the embedded DNS in {sandbox} on {node} could not be asked: {why}',
      notCollected: '{node} was not collected, its embedded DNS was not asked: {why}',
      silent: 'the embedded DNS in {sandbox} on {node} answered none of {count}: the resolver of {network} on this node does not answer',
      agree: '{sandbox} on {node} resolves {names} of {network} as the manager says',
      differ: 'the embedded DNS in {sandbox} on {node} disagrees with the manager on {network}: {problems}',
    },
  },
  check({ model, report }) {
    for (const node of model.nodes) {
      if (node.host === null) {
        report('skip', 'notCollected', { node: node.name, why: node.notCollected ?? 'not collected' }, { node: node.name });
        continue;
      }
      for (const d of model.controlPlane.dns(node.name)) {
        const at = { node: node.name, network: d.network.name };
        const data = { sandbox: d.sandbox, node: node.name, network: d.network.name };
        if (!d.answers.ok) {
          report('skip', 'unread', { ...data, why: d.answers.problem }, at);
          continue;
        }
        const answers = d.answers.value;
        const fix = `check tcp+udp/7946 between ${prose(node.name)} and the other nodes; then on ${prose(node.name)}: ${code('systemctl restart docker')}`;
        if (answers.length > 0 && answers.every((a) => a.outcome !== 'answer')) {
          report(
            'warn',
            'silent',
            { ...data, count: plural(answers.length, 'name') },
            { ...at, remediation: `${fix} (dockerd serves 127.0.0.11 inside every sandbox)` },
          );
          continue;
        }
        const want = expectedRecords(model, d.network);
        const problems = answers.flatMap((a) => {
          const w = want.get(a.name);
          const j = w ? judge(a, w.ips) : null;
          return j && w ? [{ ...j, service: w.service }] : [];
        });
        if (problems.length === 0) {
          report('pass', 'agree', { ...data, names: plural(answers.length, 'name') }, at);
          continue;
        }
        const stale = [...new Set(problems.filter((p) => !p.missing).map((p) => p.service))];
        const remediation = stale.length
          ? `${code(`docker service update --force ${shq(stale[0]!)}`)} re-registers the service's records; if ${prose(node.name)} alone is wrong: ${fix}`
          : fix;
        report(
          'fail',
          'differ',
          {
            ...data,
            problems: listText(
              problems.map((p) => p.text),
              6,
            ),
          },
          { ...at, remediation },
        );
      }
    }
  },
});
