/**
 * The facts of a NetworkDB view (`docker network inspect --verbose` on one
 * node) as comparable keys, what the swarm's own state says every view must
 * hold, and who disagrees with whom (overlay.networkdb.views).
 */
import type { NetworkView } from '../../../model/ctlplane.js';
import type { Model } from '../../../model/types.js';
import { stripPrefixLen } from '../../../net/ip.js';
import type { NetworkFacts } from '../../../snapshot/types.js';
import { listText } from '../../../text/list.js';

/** One fact of a view, keyed so that equal facts on two nodes compare equal; `text` is for messages. */
export interface Fact {
  key: string;
  text: string;
  /** Underlay address of the node an endpoint lives on (that node's own view of it is authoritative). */
  hostIp?: string;
  kind: 'peer' | 'vip' | 'task' | 'lb';
  /** Service of a VIP or an endpoint. */
  service?: string;
  /** Task id of a task endpoint (the last part of its container name); null when its name has none. */
  taskId?: string | null;
  /** Container name of a task endpoint (`web.3.<task id>`). */
  name?: string;
}

/** Peers, VIPs and endpoints of a view as comparable facts. */
export function viewFacts(v: NetworkView, nameByIp: ReadonlyMap<string, string>): Fact[] {
  const facts: Fact[] = v.peers.map((p) => ({
    key: `peer ${p.ip}`,
    text: `peer ${nameByIp.get(p.ip) ?? p.name} (${p.ip})`,
    kind: 'peer',
  }));
  for (const s of v.services) {
    if (s.vip !== null) facts.push({ key: `vip ${s.name} ${s.vip}`, text: `VIP ${s.vip} of ${s.name}`, kind: 'vip', service: s.name });
    for (const e of s.endpoints) {
      const on = nameByIp.get(e.hostIp) ?? e.hostIp;
      const base = { hostIp: e.hostIp, service: s.name };
      if (e.lb) facts.push({ ...base, key: `lb ${s.name} ${e.ip} ${e.hostIp}`, text: `lb endpoint ${e.ip} of ${on}`, kind: 'lb' });
      else
        facts.push({
          ...base,
          key: `task ${e.taskId ?? e.name} ${e.ip}`,
          text: `task ${e.name} (${e.ip} on ${on})`,
          kind: 'task',
          taskId: e.taskId,
          name: e.name,
        });
    }
  }
  return facts;
}

export interface Seen {
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

export function describe(diff: Map<string, { lacks: string[]; extra: string[] }>): string {
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
