import type { NodeSummary } from '../../cluster/nodes.js';
import { interfaceWithAddress, isDockerInterface } from '../../model/nodes.js';
import type { Model } from '../../model/types.js';
import { isLinkLocal, isLoopback, isUnspecified, parseIp } from '../../net/ip.js';
import { listText } from '../../text/list.js';
import { code, prose, shq } from '../../text/shell.js';
import { defineCheck, type Data, type Status } from '../types.js';

const MESSAGES = {
  none: 'the swarm reports no usable address for {name} (Status.Addr and ManagerStatus.Addr empty or 0.0.0.0).',
  notIp: '{name}\'s advertise address "{addr}" is not an IP address.',
  unusable: '{name} advertises {addr} ({kind}): other nodes cannot reach it for gossip or VXLAN.',
  duplicate:
    '{name} and {others} advertise the same address {addr}: VXLAN and gossip for one of them go to the other (cloned VM, NAT, or the wrong --advertise-addr).',
  notCollected: '{why}',
  noInterfaces: 'interfaces not collected (ip addr failed)',
  notLocal:
    '{name} advertises {addr}, but no interface on {name} has that address{own}: a wrong --advertise-addr, an address that changed (DHCP), or a NAT address; VXLAN from this node leaves from a different source than peers expect.',
  dockerBridge: '{name} advertises {addr}, which is on {iface}, a Docker bridge: other nodes cannot reach it.',
  ok: '{name} advertises {addr}, on {iface}',
};
type Id = keyof typeof MESSAGES;
type Verdict = { status: Status; msg: Id; data?: Data; peer?: string; ip?: string; rejoin?: false };

/** The commands that give a node a new advertise address (managers are demoted first). */
function rejoin(model: Model, n: NodeSummary, ip: string | null): string {
  const node = shq(n.name);
  const manager = model.cluster.nodes.find((m) => m.role === 'manager' && m !== n && m.advertiseAddress !== null);
  const join = `docker swarm join --advertise-addr ${ip !== null ? shq(ip) : '<underlay IP>'} --token <token> ${manager ? shq(`${manager.advertiseAddress!}:2377`) : '<manager>:2377'}`;
  return `${n.role === 'manager' ? `Demote ${prose(n.name)} first (${code(`docker node demote ${node}`)}), then on` : 'On'} ${prose(n.name)}: \`docker swarm leave\` and ${code(`${join}`)} (the token from ${code(`docker swarm join-token -q ${n.role}`)} on a manager); remove the old entry with ${code(`docker node rm ${node}`)}.`;
}

/** What the interfaces of the node say about its advertise address `a` (already a usable, unique IP). */
function onNode(model: Model, n: NodeSummary, a: string): Verdict {
  const node = model.nodeFor(n);
  if (!node || node.host === null)
    return { status: 'skip', msg: 'notCollected', data: { why: node?.notCollected ?? `${n.name} was not collected: cannot see its interfaces` } };
  if (node.host.interfaces.length === 0) return { status: 'skip', msg: 'noInterfaces' };
  const iface = interfaceWithAddress(node.host, a);
  if (iface === null) {
    const own = node.host.interfaces
      .filter((i) => i.name !== 'lo' && !isDockerInterface(i.name))
      .flatMap((i) =>
        i.addresses.filter((x) => x.family === 'inet' && !isLinkLocal(x.address)).map((x) => ({ ip: x.address, text: `${x.address} (${i.name})` })),
      );
    return {
      status: 'fail',
      msg: 'notLocal',
      data: { own: own.length ? ` (it has ${own.map((o) => o.text).join(', ')})` : '' },
      ...(own[0] ? { ip: own[0].ip } : {}),
    };
  }
  if (isDockerInterface(iface)) return { status: 'fail', msg: 'dockerBridge', data: { iface } };
  return { status: 'pass', msg: 'ok', data: { iface } };
}

/**
 * The manager's address for the node, then, when the node was collected and gives another, its own
 * (`docker info` Swarm.NodeAddr): for a worker the manager records the address it saw the node connect
 * from, while peers send gossip and VXLAN to the one the node advertises (`--advertise-addr`).
 */
function verdict(model: Model, n: NodeSummary): Verdict & { addr: string } {
  const first = { ...judge(model, n, n.advertiseAddress), addr: n.advertiseAddress ?? '' };
  const m = model.nodeFor(n);
  const own = m?.extra.daemon.ok ? m.extra.daemon.value.swarmNodeAddr : null;
  if (first.status !== 'pass' || own === null || own === n.advertiseAddress) return first;
  return { ...judge(model, n, own), addr: own };
}

function judge(model: Model, n: NodeSummary, a: string | null): Verdict {
  if (a === null) return { status: 'warn', msg: 'none' };
  if (parseIp(a) === null) return { status: 'warn', msg: 'notIp' };
  if (isLoopback(a) || isUnspecified(a) || isLinkLocal(a)) {
    return { status: 'fail', msg: 'unusable', data: { kind: isLoopback(a) ? 'loopback' : isUnspecified(a) ? 'unspecified' : 'link-local' } };
  }
  const same = model.cluster.nodes.filter((o) => o !== n && o.advertiseAddress === a);
  if (same.length > 0) return { status: 'fail', msg: 'duplicate', data: { others: listText(same.map((o) => o.name)) }, peer: same[0]!.name };
  return onNode(model, n, a);
}

export default defineCheck({
  meta: {
    id: 'cluster.advertise.address',
    layer: 'cluster',
    title: 'Advertise addresses usable',
    looksAt:
      "Each node's advertise address as the swarm knows it and, where the node says another (`docker info` Swarm.NodeAddr: for a worker the swarm keeps the address it connected from), as the node says it: set, not loopback/unspecified/link-local, unique across nodes, and an address of one of the node's own interfaces (not a Docker bridge).",
    remediation:
      'Rejoin the node with the right address: `docker swarm leave` then `docker swarm join --advertise-addr <underlay IP> …` (managers: demote first).',
    scope: 'cluster',
    failures: [28],
    needs: ['swarm'],
    messages: MESSAGES,
  },
  check({ model, report }) {
    for (const n of model.cluster.nodes) {
      const v = verdict(model, n);
      const problem = v.status === 'warn' || v.status === 'fail';
      report(
        v.status,
        v.msg,
        { name: n.name, addr: v.addr, ...v.data },
        {
          node: n.name,
          ...(v.peer !== undefined ? { peer: v.peer } : {}),
          ...(problem ? { remediation: rejoin(model, n, v.ip ?? null) } : {}),
        },
      );
    }
  },
});
