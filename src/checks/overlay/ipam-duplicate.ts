import type { NetworkView } from '../../model/ctlplane.js';
import type { Model } from '../../model/types.js';
import { stripPrefixLen } from '../../net/ip.js';
import type { NetworkFacts } from '../../snapshot/types.js';
import { listText, plural } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck } from '../types.js';

interface Holder {
  /** Same holder seen from two places compares equal: `task:<id>`, `vip:<service>`, `lb:<node ip>`, `gw`. */
  key: string;
  text: string;
  service: string | null;
  seenBy: Set<string>;
}

type Holders = Map<string, Map<string, Holder>>;

function add(holders: Holders, ip: string, h: Omit<Holder, 'seenBy'>, by: string): void {
  if (ip === '') return;
  const at = holders.get(ip) ?? holders.set(ip, new Map()).get(ip)!;
  const cur = at.get(h.key);
  if (cur) cur.seenBy.add(by);
  else at.set(h.key, { ...h, seenBy: new Set([by]) });
}

function fromView(holders: Holders, v: NetworkView, by: string, nameByIp: ReadonlyMap<string, string>): void {
  for (const s of v.services) {
    if (s.vip !== null) add(holders, s.vip, { key: `vip:${s.name}`, text: `the VIP of ${s.name}`, service: s.name }, by);
    for (const e of s.endpoints) {
      const on = nameByIp.get(e.hostIp) ?? e.hostIp;
      if (e.lb) add(holders, e.ip, { key: `lb:${e.hostIp}`, text: `the lb endpoint of ${on}`, service: null }, by);
      else add(holders, e.ip, { key: e.taskId ? `task:${e.taskId}` : `ep:${e.name}`, text: `task ${e.name} on ${on}`, service: s.name }, by);
    }
  }
}

/** Every address of `net` with what holds it, from the task list, the services' VIPs, the manager's view and each node's own. */
export function holdersOf(model: Model, net: NetworkFacts): Holders {
  const holders: Holders = new Map();
  for (const s of net.subnets)
    if (s.gateway) add(holders, s.gateway, { key: 'gw', text: `the gateway of ${s.subnet}`, service: null }, 'the network');
  for (const svc of model.cluster.services) {
    for (const v of svc.vips)
      if (v.networkId === net.id)
        add(holders, stripPrefixLen(v.addr), { key: `vip:${svc.name}`, text: `the VIP of ${svc.name}`, service: svc.name }, 'the service list');
    for (const t of svc.runningTasks) {
      const node = model.nameById.get(t.nodeId) ?? t.nodeId;
      for (const a of t.addresses) {
        if (a.networkId !== net.id) continue;
        add(
          holders,
          stripPrefixLen(a.addr),
          { key: `task:${t.id}`, text: `task ${svc.name}.${t.slot ?? t.nodeId.slice(0, 10)}.${t.id} on ${node}`, service: svc.name },
          'the task list',
        );
      }
    }
  }
  const mv = model.controlPlane.managerView(net);
  if (mv) fromView(holders, mv, `the manager`, model.nameByIp);
  for (const n of model.nodes) {
    const r = model.controlPlane.views(n.name);
    const v = r.ok ? r.value.get(net.id) : undefined;
    if (v) fromView(holders, v, n.name, model.nameByIp);
  }
  return holders;
}

export default defineCheck({
  meta: {
    id: 'overlay.ipam.duplicate',
    layer: 'overlay',
    title: 'No address of an overlay is held by two endpoints',
    looksAt:
      "Per swarm network, every address in use: task addresses from the task list, service VIPs, the subnet's gateway, and the task and load-balancer endpoints of `docker network inspect --verbose` on the manager and on every node (FAILURES.md #22: IPAM state rebuilt after a leader election hands out an address twice; dockerd logs `peerDbAdd transient condition`).",
    remediation:
      'Give the newer holder a new address: `docker service update --force SERVICE` for a task; for a VIP, detach and re-attach the service (`docker service update --network-rm NET SERVICE`, then `--network-add NET`).',
    scope: 'cluster',
    failures: [22],
    needs: ['swarm'],
    messages: {
      unique: '{addresses} on {network}, each held by one endpoint',
      duplicate: '{ip} on {network} is held by {holders}: packets for it reach one of them at random (cross-talk between services)',
    },
  },
  check({ model, report }) {
    for (const net of model.overlayNetworks) {
      const holders = holdersOf(model, net);
      let dup = 0;
      for (const [ip, byKey] of [...holders].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
        if (byKey.size < 2) continue;
        dup++;
        const list = [...byKey.values()];
        const text = list.map((h) => `${h.text} (seen in ${listText([...h.seenBy], 3)})`);
        const svcs = [...new Set(list.flatMap((h) => (h.service !== null && h.key.startsWith('task:') ? [h.service] : [])))];
        const vips = [...new Set(list.flatMap((h) => (h.key.startsWith('vip:') && h.service !== null ? [h.service] : [])))];
        const steps = [
          ...svcs.map((s) => code(`docker service update --force ${shq(s)}`)),
          ...vips.map(
            (s) =>
              `${code(`docker service update --network-rm ${shq(net.name)} ${shq(s)}`)} then ${code(`docker service update --network-add ${shq(net.name)} ${shq(s)}`)}`,
          ),
        ];
        const remediation = steps.length
          ? `move one holder off ${prose(ip)}: ${steps.slice(0, 3).join('; or ')}`
          : `restart docker on the node whose lb endpoint holds ${prose(ip)} (systemctl restart docker), after the others`;
        report('fail', 'duplicate', { ip, network: net.name, holders: listText(text, 4) }, { network: net.name, remediation });
      }
      if (dup === 0 && holders.size > 0)
        report('pass', 'unique', { addresses: plural(holders.size, 'address', 'addresses'), network: net.name }, { network: net.name });
    }
  },
});
