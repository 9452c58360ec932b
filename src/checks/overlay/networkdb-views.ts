import type { NetworkView } from '../../model/ctlplane.js';
import type { Model } from '../../model/types.js';
import { stripPrefixLen } from '../../net/ip.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

/** One fact of a view, keyed so that equal facts on two nodes compare equal; `text` is for messages. */
interface Fact {
  key: string;
  text: string;
  /** Underlay address of the node an endpoint lives on (that node's own view of it is authoritative). */
  hostIp?: string;
}

/** Peers, VIPs and endpoints of a view as comparable facts. */
export function viewFacts(v: NetworkView, nameByIp: ReadonlyMap<string, string>): Fact[] {
  const facts: Fact[] = v.peers.map((p) => ({ key: `peer ${p.ip}`, text: `peer ${nameByIp.get(p.ip) ?? p.name} (${p.ip})` }));
  for (const s of v.services) {
    if (s.vip !== null) facts.push({ key: `vip ${s.name} ${s.vip}`, text: `VIP ${s.vip} of ${s.name}` });
    for (const e of s.endpoints) {
      const on = nameByIp.get(e.hostIp) ?? e.hostIp;
      const key = e.lb ? `lb ${s.name} ${e.ip} ${e.hostIp}` : `task ${e.taskId ?? e.name} ${e.ip}`;
      facts.push({ key, hostIp: e.hostIp, text: e.lb ? `lb endpoint ${e.ip} of ${on}` : `task ${e.name} (${e.ip} on ${on})` });
    }
  }
  return facts;
}

interface Seen {
  node: string;
  keys: Set<string>;
}

/**
 * What the swarm's own state (raft, not gossip) says every view must hold:
 * the VIPs and running tasks on the network, and as peers the nodes that run
 * one of those tasks. Keys as in viewFacts.
 */
export function truthOf(model: Model, net: NetworkFacts): Set<string> {
  const out = new Set<string>();
  for (const svc of model.cluster.services) {
    for (const v of svc.vips) if (v.networkId === net.id) out.add(`vip ${svc.name} ${stripPrefixLen(v.addr)}`);
    for (const t of svc.runningTasks) {
      const mine = t.addresses.filter((a) => a.networkId === net.id);
      for (const a of mine) out.add(`task ${t.id} ${stripPrefixLen(a.addr)}`);
      const ip = model.ipByName.get(model.nameById.get(t.nodeId) ?? '');
      if (mine.length && ip) out.add(`peer ${ip}`);
    }
  }
  return out;
}

/**
 * Who disagrees, fact by fact. A fact the swarm's state requires (truthOf)
 * is lacked by the views without it; any other fact is judged by the
 * majority: the smaller side of a split is out of step (on a tie, the side
 * without the manager). Per node: what it lacks, and what it still lists.
 */
export function disagreements(
  views: Seen[],
  texts: Map<string, string>,
  manager: string | null,
  truth: ReadonlySet<string> = new Set(),
): Map<string, { lacks: string[]; extra: string[] }> {
  const out = new Map<string, { lacks: string[]; extra: string[] }>();
  const at = (node: string) => out.get(node) ?? out.set(node, { lacks: [], extra: [] }).get(node)!;
  for (const [key, text] of texts) {
    const holders = views.filter((v) => v.keys.has(key)).map((v) => v.node);
    if (holders.length === views.length) continue;
    const others = views.filter((v) => !v.keys.has(key)).map((v) => v.node);
    const tie = holders.length === others.length;
    const holdersWrong = truth.has(key) ? false : tie ? manager === null || !holders.includes(manager) : holders.length < others.length;
    if (holdersWrong) for (const n of holders) at(n).extra.push(text);
    else for (const n of others) at(n).lacks.push(text);
  }
  return out;
}

function describe(diff: Map<string, { lacks: string[]; extra: string[] }>): string {
  return [...diff]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, d]) => {
      const parts = [];
      if (d.lacks.length) parts.push(`lacks ${listText(d.lacks, 4)}`);
      if (d.extra.length) parts.push(`still lists ${listText(d.extra, 4)}`);
      return `${node} ${parts.join(' and ')}`;
    })
    .join('; ');
}

/** Every readable view of `net`: each collected node's own, and the manager's from the Engine API where its node gave none. */
function viewsOf(model: Model, net: NetworkFacts): { node: string; view: NetworkView }[] {
  const out: { node: string; view: NetworkView }[] = [];
  for (const n of model.nodes) {
    const r = model.controlPlane.views(n.name);
    const v = r.ok ? r.value.get(net.id) : undefined;
    if (v) out.push({ node: n.name, view: v });
  }
  const manager = model.cluster.managerNode;
  const mv = model.controlPlane.managerView(net);
  if (manager !== null && mv !== null && !out.some((o) => o.node === manager) && (mv.peers.length > 0 || mv.services.length > 0))
    out.push({ node: manager, view: mv });
  return out;
}

export default defineCheck({
  meta: {
    id: 'overlay.networkdb.views',
    layer: 'overlay',
    title: "Every node's NetworkDB view of an overlay agrees with the others'",
    looksAt:
      '`docker network inspect --verbose` run on every node (its own NetworkDB: Peers, and per service the VIP and the task and load-balancer endpoints with their node) against the same on the manager and on the other nodes (FAILURES.md #7, the NetworkDB split behind NXDOMAIN on some nodes and VIPs dead from one node). The nodes are read one after the other, so a service scaled during the run can differ briefly.',
    remediation:
      'Check tcp+udp/7946 between the nodes that disagree and the others (the gossip that carries these tables); then, on a node whose view is stale, `systemctl restart docker` makes it rejoin and resync.',
    scope: 'cluster',
    failures: [7],
    needs: ['swarm'],
    messages: {
      unread: "{node}'s own view cannot be compared: {why}",
      agree: '{nodes} agree on {network}: {peers}, {services}, {endpoints}',
      single: 'only {node} has a view of {network}: nothing to compare',
      differ:
        'the nodes disagree on {network}: {diffs}; tasks on the nodes out of step cannot reach what they lack, and DNS there answers from the same table',
    },
  },
  check({ model, report }) {
    // A snapshot from before netdoctor read the nodes' own views holds none: nothing to compare, no per-node skips.
    const collected = model.nodes.filter((n) => n.host !== null);
    if (collected.every((n) => n.section('host/network-views') === undefined)) return;
    for (const n of collected) {
      const r = model.controlPlane.views(n.name);
      if (!r.ok) report('skip', 'unread', { node: n.name, why: r.problem }, { node: n.name });
    }
    const manager = model.cluster.managerNode;
    for (const net of model.overlayNetworks) {
      const views = viewsOf(model, net);
      if (views.length === 0) continue;
      if (views.length === 1) {
        report('pass', 'single', { node: views[0]!.node, network: net.name }, { network: net.name });
        continue;
      }
      const texts = new Map<string, string>();
      const truth = truthOf(model, net);
      const seen = views.map(({ node, view }) => {
        const facts = viewFacts(view, model.nameByIp);
        const own = model.ipByName.get(node);
        for (const f of facts) {
          texts.set(f.key, f.text);
          // A node knows its own endpoints first-hand: where it lists one, the others should too.
          if (own !== undefined && f.hostIp === own) truth.add(f.key);
        }
        return { node, keys: new Set(facts.map((f) => f.key)) };
      });
      const diff = disagreements(seen, texts, manager, truth);
      if (diff.size === 0) {
        const v = views[0]!.view;
        const eps = v.services.reduce((a, s) => a + s.endpoints.length, 0);
        const data = { nodes: listText(views.map((x) => x.node)), network: net.name };
        report(
          'pass',
          'agree',
          { ...data, peers: plural(v.peers.length, 'peer'), services: plural(v.services.length, 'service'), endpoints: plural(eps, 'endpoint') },
          { network: net.name },
        );
        continue;
      }
      const out = [...diff.keys()].sort();
      const restart = out.map((n) => `on ${prose(n)}: ${code('systemctl restart docker')}`).join('; ');
      report(
        'fail',
        'differ',
        { network: net.name, diffs: describe(diff) },
        {
          network: net.name,
          node: out.length === 1 ? out[0]! : null,
          remediation: `check tcp+udp/7946 ${out.length < views.length ? `between ${listText(out.map(prose))} and the other nodes` : 'between all these nodes'} (${code(`docker network inspect --verbose ${shq(net.name)}`)} on each shows its view); then ${restart}`,
        },
      );
    }
  },
});
