/** What the IPsec checks share: when they apply, and which SAs and policies are Docker's. */
import { DOCKER_XFRM_MARK, type XfrmPolicy, type XfrmState } from '../../../parse/xfrm.js';
import type { ClusterContext } from '../../types.js';

/** node scope: run only when the swarm has an encrypted overlay; say so once otherwise. */
export function whenEncrypted({ model, report }: ClusterContext<'noEncrypted'>): boolean {
  if (model.overlayNetworks.some((n) => n.encrypted)) return true;
  report('pass', 'noEncrypted');
  return false;
}

/** libnetwork's SAs: reqid 0xD0C4E3 (printed in decimal by iproute2). */
export const dockerSas = (states: readonly XfrmState[]): XfrmState[] =>
  states.filter((s) => s.proto === 'esp' && s.reqid === String(DOCKER_XFRM_MARK));

/** libnetwork's outbound security policies: mark 0xD0C4E3, dir out. */
export const dockerPolicies = (policies: readonly XfrmPolicy[]): XfrmPolicy[] =>
  policies.filter((p) => p.mark === DOCKER_XFRM_MARK && p.dir === 'out');

/** `10.0.0.2/32` → `10.0.0.2`. */
export const hostOf = (cidr: string): string => cidr.split('/')[0]!;
