/**
 * Helpers of the checks that read inside the load-balancer sandboxes
 * (lb_<prefix>, ingress_sbox): which sandboxes, their network's name, and a
 * sysctl set inside one, quoted for pasting.
 */
import type { Model, NodeModel, SandboxModel } from '../../../model/types.js';
import { code } from '../../../text/shell.js';

/** The node's lb_ and ingress sandboxes that could be entered. */
export const balancerSandboxes = (node: NodeModel): SandboxModel[] =>
  node.sandboxes.filter((s) => (s.kind === 'lb' || s.kind === 'ingress') && s.enterError === null && !s.dead);

/** The network a balancer sandbox serves (ingress_sbox: the ingress network), for findings. */
export const balancerNetwork = (model: Model, sb: SandboxModel): string | null =>
  sb.network?.name ?? (sb.kind === 'ingress' ? (model.ingress?.name ?? null) : null);

/** `nsenter --net=… sysctl -w k=v …` inside the sandbox. */
export const nsSysctl = (node: NodeModel, sb: SandboxModel, settings: readonly (readonly [string, string])[]): string =>
  code(`${node.nsenter(sb.name)} sysctl -w ${settings.map(([k, v]) => `${k}=${v}`).join(' ')}`);

/**
 * Why a read failed in every balancer sandbox of the node (a snapshot from
 * before these sections existed, a node without nsenter): one skip for the
 * node instead of one per sandbox. null when some sandbox was read.
 */
export function unreadEverywhere(sbs: readonly SandboxModel[], problem: (sb: SandboxModel) => string | null): string | null {
  const problems = sbs.map(problem);
  if (sbs.length === 0 || problems.some((p) => p === null)) return null;
  return problems.length > 1 ? `${problems[0]} (and in ${problems.length - 1} other sandbox(es))` : problems[0]!;
}
