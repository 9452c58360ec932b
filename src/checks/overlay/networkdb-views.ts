import type { NetworkView } from '../../model/ctlplane.js';
import type { Model } from '../../model/types.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';
import { fluxOf, SETTLE_SEC } from './lib/flux.js';
import { describe, disagreements, truthOf, viewFacts, type Fact } from './lib/views.js';

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

/**
 * What the views hold as comparable keys (per node), their texts, the keys
 * the swarm's state requires, less what was changing during the collection
 * (lib/flux.ts); `excluded`: how many endpoints that left out.
 */
function compared(model: Model, net: NetworkFacts, views: { node: string; view: NetworkView }[]) {
  const texts = new Map<string, string>();
  const truth = truthOf(model, net);
  const all: Fact[] = [];
  const seen = views.map(({ node, view }) => {
    const facts = viewFacts(view, model.nameByIp);
    const own = model.ipByName.get(node);
    for (const f of facts) {
      texts.set(f.key, f.text);
      all.push(f);
      // A node knows its own endpoints first-hand: where it lists one, the others should too.
      if (own !== undefined && f.hostIp === own) truth.add(f.key);
    }
    return { node, keys: new Set(facts.map((f) => f.key)) };
  });
  const flux = fluxOf(model, net, all);
  for (const k of flux.keys) {
    texts.delete(k);
    truth.delete(k);
  }
  return { seen, texts, truth, excluded: flux.endpoints };
}

export default defineCheck({
  meta: {
    id: 'overlay.networkdb.views',
    layer: 'overlay',
    title: "Every node's NetworkDB view of an overlay agrees with the others'",
    looksAt: `\`docker network inspect --verbose\` run on every node (its own NetworkDB: Peers, and per service the VIP and the task and load-balancer endpoints with their node) against the same on the manager and on the other nodes (FAILURES.md #7, the NetworkDB split behind NXDOMAIN on some nodes and VIPs dead from one node). The nodes are read one after the other and gossip takes a moment, so endpoints changing during the collection are left out of the comparison (and counted): tasks starting or being shut down, tasks whose state changed less than ${SETTLE_SEC} s before the collection, the tasks of a service with a rolling update in progress or scaled just before, and the peer and load-balancer entries of their nodes. A task settled for longer that a node lacks is still a split.`,
    remediation:
      'Check tcp+udp/7946 between the nodes that disagree and the others (the gossip that carries these tables); then, on a node whose view is stale, `systemctl restart docker` makes it rejoin and resync.',
    scope: 'cluster',
    failures: [7],
    needs: ['swarm'],
    messages: {
      unread: "{node}'s own view cannot be compared: {why}",
      agree: '{nodes} agree on {network}: {peers}, {services}, {endpoints}{flux}',
      single: 'only {node} has a view of {network}: nothing to compare',
      differ:
        'the nodes disagree on {network}: {diffs}; tasks on the nodes out of step cannot reach what they lack, and DNS there answers from the same table{flux}',
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
      const { seen, texts, truth, excluded } = compared(model, net, views);
      const flux = excluded ? `; ${plural(excluded, 'endpoint')} changing during the collection ${excluded === 1 ? 'was' : 'were'} not compared` : '';
      const diff = disagreements(seen, texts, manager, truth);
      if (diff.size === 0) {
        const v = views[0]!.view;
        const eps = v.services.reduce((a, s) => a + s.endpoints.length, 0);
        const data = { nodes: listText(views.map((x) => x.node)), network: net.name };
        report(
          'pass',
          'agree',
          {
            ...data,
            peers: plural(v.peers.length, 'peer'),
            services: plural(v.services.length, 'service'),
            endpoints: plural(eps, 'endpoint'),
            flux,
          },
          { network: net.name },
        );
        continue;
      }
      const out = [...diff.keys()].sort();
      const restart = out.map((n) => `on ${prose(n)}: ${code('systemctl restart docker')}`).join('; ');
      report(
        'fail',
        'differ',
        { network: net.name, diffs: describe(diff), flux },
        {
          network: net.name,
          node: out.length === 1 ? out[0]! : null,
          remediation: `check tcp+udp/7946 ${out.length < views.length ? `between ${listText(out.map(prose))} and the other nodes` : 'between all these nodes'} (${code(`docker network inspect --verbose ${shq(net.name)}`)} on each shows its view); then ${restart}`,
        },
      );
    }
  },
});
