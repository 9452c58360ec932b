import { describeOutcome, evaluate, firewallWarningsText, type Evaluation, type Root } from '../../model/firewall.js';
import { interfaceWithAddress, plural, routeDevice } from '../../model/nodes.js';
import type { HostDump, NodeModel } from '../../model/types.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck, type Reporter } from '../types.js';
import { allowCommand, swarmFlows, type Flow, type Peer } from './lib/flows.js';

type Id = 'unreadable' | 'dropped' | 'maybe' | 'incomplete' | 'alone' | 'open';

/** Peers whose traffic of `flow` the dump does not simply accept, grouped by what happens to it. */
function blocked(node: NodeModel, dump: HostDump, flow: Flow, root: Root): { ev: Evaluation; peers: Peer[] }[] {
  const groups = new Map<string, { ev: Evaluation; peers: Peer[] }>();
  const self = node.addr;
  for (const peer of root === 'INPUT' ? flow.from : flow.to) {
    const iface = (peer.address ? routeDevice(node.host!, peer.address) : null) ?? (self ? interfaceWithAddress(node.host!, self) : null);
    const src = root === 'INPUT' ? peer.address : self;
    const dst = root === 'INPUT' ? self : peer.address;
    const ev = evaluate(dump.dump, root, { proto: flow.proto, dport: flow.port, sport: flow.sport, src, dst, iface });
    if (ev.result === 'accepted') continue;
    const key = `${ev.result}|${ev.drops.map((d) => describeOutcome(d, root)).join('|')}`;
    const g = groups.get(key);
    if (g) g.peers.push(peer);
    else groups.set(key, { ev, peers: [peer] });
  }
  return [...groups.values()];
}

function reportDrops(node: NodeModel, dump: HostDump, flow: Flow, root: Root, report: Reporter<Id>): number {
  const groups = blocked(node, dump, flow, root);
  for (const { ev, peers } of groups) {
    const names = listText(peers.map((p) => p.name));
    const data = {
      flow: flow.label,
      direction: root === 'INPUT' ? `from ${names} into ${node.name}` : `from ${prose(node.name)} to ${names}`,
      root,
      dump: dump.label,
    };
    const how = [...new Set(ev.drops.map((d) => describeOutcome(d, root)))];
    const remediation = `On ${prose(node.name)}: allow it ahead of the drop, e.g. ${code(`${allowCommand(root, flow, peers, node)}`)}, and persist that in the firewall's configuration (ufw allow / firewall-cmd --permanent --add-port / /etc/iptables/rules.v4).`;
    const peer = peers.length === 1 ? peers[0]!.name : null;
    if (ev.result === 'dropped') report('fail', 'dropped', { ...data, how: how.join('; ') }, { peer, remediation });
    else report('warn', 'maybe', { ...data, how: how.join('; or it ') }, { peer, remediation });
  }
  return groups.length;
}

export default defineCheck({
  meta: {
    id: 'host.firewall.ports',
    layer: 'host',
    title: 'Firewall lets swarm traffic through',
    looksAt:
      "The filter table of iptables-save (and of the other backend when it holds rules), evaluated in order — jumps, RETURN, goto and chain policies — for a new flow between this node and each peer's advertise address: tcp/2377 into managers and out to managers, tcp+udp/7946 and udp/<data-path port> both ways, ESP when an overlay is encrypted. Docker's own drop rules (the encrypted-overlay guard) are ignored. A dump the parser could not read completely (cut short, lines it does not understand) is a warning, never a pass. FORWARD/DOCKER-USER are not on this path; native nftables rulesets are not collected.",
    remediation:
      "Allow the swarm ports between the nodes before the rule that drops them, and persist it in the firewall's own configuration (ufw allow, firewall-cmd --permanent, /etc/iptables/rules.v4).",
    scope: 'node',
    failures: [1, 4],
    causedBy: ['host.iptables.backend-mixed'],
    messages: {
      unreadable: '{problem}',
      dropped: '{flow} {direction} {how} ({root}, {dump}).',
      maybe: '{flow} {direction} may be dropped: it {how} ({root}, {dump}); the rest of the rule set accepts it.',
      incomplete:
        "{node}'s firewall could not be read completely ({warnings}): rules that were not read may drop swarm traffic, so netdoctor cannot say that {what} pass.",
      alone: 'no peers to exchange swarm traffic with',
      open: 'INPUT/OUTPUT let {what} through to and from {peers} ({dumps})',
    },
  },
  check({ model, node, report }) {
    const f = node.firewall.filter;
    if (!f.ok) return report('skip', 'unreadable', { problem: f.problem });
    const { flows, others } = swarmFlows(model, node);
    const used = flows.filter((x) => x.from.length + x.to.length > 0);
    let problems = 0;
    for (const dump of f.value) {
      for (const flow of used) for (const root of ['INPUT', 'OUTPUT'] as const) problems += reportDrops(node, dump, flow, root, report);
    }
    const what = listText(used.map((x) => x.label.split(' ')[0] ?? x.label));
    if (f.warnings.length > 0) {
      report(
        'warn',
        'incomplete',
        { node: node.name, warnings: firewallWarningsText(f.warnings), what: what || 'its swarm ports' },
        {
          remediation: `On ${prose(node.name)}: run \`iptables-save\` (and iptables-legacy-save / iptables-nft-save) by hand and look at the lines named; if the output was cut short, collect again (${code(`docker netdoctor check --node ${shq(node.name)}`)}).`,
        },
      );
      return;
    }
    if (problems > 0) return;
    if (used.length === 0) return report('pass', 'alone');
    report('pass', 'open', { what, peers: plural(others.length, 'peer'), dumps: f.value.map((d) => d.label).join(', ') });
  },
});
