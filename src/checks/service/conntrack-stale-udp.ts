/**
 * Stale UDP conntrack on published UDP ports (FAILURES.md #13, moby #8795):
 * the kernel NATs a flow on its first packet only, so a syslog/DNS/statsd
 * client that kept sending from before the service existed (or from before
 * a redeploy) keeps the old decision as long as it sends: its datagrams go
 * to the host itself, or to an address no task holds any more. The entries
 * and the current DNAT are compared in src/model/conntrack.ts.
 */
import { udpConntrackView, udpPublishes, type StaleUdpEntry, type UdpPublish } from '../../model/conntrack.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** Past this many clients of one port, one command clears the port (correct entries come back with the next datagram). */
const PER_CLIENT_MAX = 3;

const portName = (p: UdpPublish): string => `${p.port}/udp (${p.service.name}, ${p.mode} mode)`;

/** `conntrack -D` for the stale flows of one port on one node, with real quoted values. */
function remedy(node: string, port: number, clients: readonly string[]): string {
  const cmds =
    clients.length <= PER_CLIENT_MAX
      ? clients.map((c) => code(`conntrack -D -p udp --dport ${port} --orig-src ${shq(c)}`))
      : [code(`conntrack -D -p udp --dport ${port}`)];
  return (
    `on ${prose(node)}: ${cmds.join('; ')} (the conntrack tool is in the package conntrack); ` +
    "the client's next datagram then creates a new entry that follows the current DNAT"
  );
}

/** Stale entries grouped by port and kind (and old destination), in first-seen order. */
function groups(stale: readonly StaleUdpEntry[]): StaleUdpEntry[][] {
  const by = new Map<string, StaleUdpEntry[]>();
  for (const s of stale) {
    const k = `${s.publish.mode} ${s.publish.port} ${s.kind} ${s.natTo ?? ''}`;
    const g = by.get(k);
    if (g) g.push(s);
    else by.set(k, [s]);
  }
  return [...by.values()];
}

export default defineCheck({
  meta: {
    id: 'service.conntrack.stale-udp',
    layer: 'service',
    title: 'UDP flows to published ports follow the current DNAT',
    looksAt:
      "the host namespace's UDP conntrack entries toward the node's own addresses on every published UDP port (/proc/net/nf_conntrack, or conntrack -L), against the DNAT the host nat table holds now for that port: DOCKER for host-mode ports (where the service runs a task), DOCKER-INGRESS for ingress-mode ports. An entry that was not NATed, or NATed to an address no current rule names, was decided before the current NAT existed and is kept alive by a client that keeps sending",
    remediation:
      'On the node: conntrack -D -p udp --dport <port> --orig-src <client> (package conntrack) for each stale flow; the next datagram follows the current DNAT',
    scope: 'node',
    failures: [13],
    messages: {
      noUdp: 'no service publishes a UDP port',
      notCollected: 'the UDP conntrack entries of {node} were not collected (a bundle or netdoctor from before this check)',
      stackNoUdp: 'the stack publishes no UDP port: a gate does not read the UDP conntrack entries of {node}',
      unreadable: '{problem}',
      noDump: 'no iptables dump of {node} to compare the UDP conntrack entries with: {problems}',
      notNatted:
        '{node}: {flows} to {port} from {clients} {are} still tracked as not NATed: the kernel decided before the DNAT to {current} existed and keeps that decision while the client keeps sending, so the datagrams go to {node} itself: dropped there, or, where docker-proxy listens on the port, passed on by it with the client address lost',
      oldTarget:
        '{node}: {flows} to {port} from {clients} {are} still DNATed to {old}, which no current rule names (the DNAT is now to {current}): the datagrams go to an address no live task holds',
      ok: '{node}: {count} tracked UDP flow(s) toward {ports} follow the current DNAT',
      notHere: '{node} DNATs none of the published UDP ports ({ports}): nothing there can go stale',
    },
  },
  applies: ({ model, report }) => {
    if (udpPublishes(model.cluster).length > 0) return true;
    report('pass', 'noUdp');
    return false;
  },
  check({ model, node, report }) {
    const publishes = udpPublishes(model.cluster);
    const ports = listText([...new Set(publishes.map((p) => `${p.port}/udp`))]);
    if (node.section('host/conntrack-udp') === undefined) return report('skip', model.stack ? 'stackNoUdp' : 'notCollected', { node: node.name });
    const entries = node.conntrackUdp;
    if (!entries.ok) return report('skip', 'unreadable', { problem: entries.problem });
    if (node.firewall.all.length === 0) return report('skip', 'noDump', { node: node.name, problems: node.firewall.problems.join('; ') });
    const view = udpConntrackView(node, publishes, entries.value);
    if (view.natted.length === 0) return report('pass', 'notHere', { node: node.name, ports });
    for (const g of groups(view.stale)) {
      const first = g[0]!;
      const clients = [...new Set(g.map((s) => s.entry.orig.src))];
      const data = {
        node: node.name,
        flows: plural(g.length, 'UDP flow'),
        are: g.length === 1 ? 'is' : 'are',
        port: portName(first.publish),
        clients: listText(clients, 5),
        current: listText(first.current),
        old: first.natTo ?? '',
      };
      report('fail', first.kind === 'not-natted' ? 'notNatted' : 'oldTarget', data, {
        remediation: remedy(node.name, first.publish.port, clients),
      });
    }
    if (view.stale.length === 0) {
      report('pass', 'ok', { node: node.name, count: view.current, ports: listText(view.natted.map((n) => portName(n.publish))) });
    }
  },
});
