/**
 * Shared wording and commands of the overlay checks: members in prose, the
 * netns path of a sandbox, and the commands that fix an FDB entry or remove
 * a stale sandbox. Every value from the cluster or a node goes through shq.
 */
import type { Model, NodeModel } from '../../../model/types.js';
import type { NetworkFacts } from '../../../snapshot/types.js';
import type { Member } from '../../../model/overlay.js';
import { code, prose, shq } from '../../../text/shell.js';

/** `10.0.1.3 (02:42:0a:00:01:03, task web.1.x)`. */
export const memberText = (m: Member, mac: string | null): string => `${m.ip} (${mac ?? 'MAC unknown'}, ${m.what})`;

export const execRoot = (node: NodeModel): string => node.host?.dockerd.execRoot ?? '/var/run/docker';

/** The netns file of a docker sandbox on its node, quoted for a shell. */
export const netnsPath = (node: NodeModel, sandbox: string): string => shq(`${execRoot(node)}/netns/${sandbox}`);

/** `… bridge fdb replace <mac> dev <dev> dst <node ip> self permanent` in the sandbox. */
export const fdbReplace = (node: NodeModel, sandbox: string, dev: string, mac: string | null, dst: string): string =>
  `${node.nsenter(sandbox)} bridge fdb replace ${mac !== null ? shq(mac) : '<mac>'} dev ${shq(dev)} dst ${shq(dst)} self permanent`;

/**
 * For the endpoints one node lacks a permanent FDB entry for, all behind one
 * peer: the `bridge fdb replace` commands, and the services to force-update
 * (joined by the caller's words) so docker programs them again.
 */
export function fdbRepair(
  node: NodeModel,
  sandbox: string,
  dev: string,
  hostIp: string,
  list: readonly { member: Member; mac: string | null }[],
): { fix: string; force: string[] } {
  const svcs = [...new Set(list.map((x) => x.member.service).filter((s): s is string => s !== null))];
  return {
    fix: list.map((x) => fdbReplace(node, sandbox, dev, x.mac, hostIp)).join('; '),
    force: svcs.map((s) => code(`docker service update --force ${shq(s)}`)),
  };
}

/** Remove a netns file whose network is gone (after making sure it really is). */
export const staleSandboxRemedy = (node: NodeModel, sandbox: string, prefix: string | null): string =>
  `on ${prose(node.name)}: umount ${netnsPath(node, sandbox)} 2>/dev/null; rm -f ${netnsPath(node, sandbox)} ` +
  `(first make sure no network id starts with ${prefix ?? '<prefix>'}: docker network ls --no-trunc); if it comes back, systemctl restart docker on ${prose(node.name)}`;

export function groupBy<T>(items: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

/** Services with a task of `net` on node `node` (manager ground truth). */
export const servicesOn = (model: Model, node: string, net: NetworkFacts): string[] => [
  ...new Set(net.endpoints.filter((e) => e.kind === 'task' && model.nameByIp.get(e.hostIp) === node).map((e) => e.service)),
];

/** `docker service update --force web (also api)`, or with a `<service>` placeholder when none is known. */
export const forceUpdate = (svcs: readonly string[]): string =>
  `${code(`docker service update --force ${svcs.length > 0 ? shq(svcs[0]!) : '<service>'}`)}${svcs.length > 1 ? ` (also ${svcs.slice(1).map(shq).join(', ')})` : ''}`;
