/** Small shared pieces of the stack layer (gate). */
import type { StackModel } from '../../model/stack.js';
import type { Model } from '../../model/types.js';
import type { ReportExtra } from '../types.js';

/** The stack of a gate run (the framework's `stack` need guarantees it). */
export const stackOf = (m: Model): StackModel => m.stack!;

/** Where a finding points in the user's files, plus its service or network. */
export function at(m: Model, path: readonly string[], extra: ReportExtra = {}): ReportExtra {
  const location = stackOf(m).locate(path);
  return { ...extra, ...(location ? { location } : {}) };
}

/** Collected nodes among the given names (live runs); empty in --no-live runs. */
export const collected = (m: Model, names: Iterable<string>) =>
  [...names].map((n) => m.node(n)).filter((n): n is NonNullable<typeof n> => n !== undefined && n.host !== null);

/**
 * The stack's encrypted networks (created or external) and the nodes their
 * services can land on: the check reads them, and a gate plans its ESP probes
 * over them (every ordered pair within one network's nodes).
 */
export function encryptedNetworks(st: StackModel): { plan: StackModel['networks'][number]; nodes: Set<string> }[] {
  return st.networks
    .filter((x) => x.net.encrypted || x.existing?.encrypted === true)
    .map((plan) => ({ plan, nodes: new Set(plan.services.flatMap((s) => st.services.find((x) => x.svc.key === s.key)?.candidates ?? [])) }));
}
