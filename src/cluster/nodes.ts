/**
 * Swarm nodes as netdoctor sees them: what `docker node ls` shows plus the
 * addresses we need (the advertise address and the address we SSH to).
 */

/** The subset of the Engine API's Node object (GET /nodes) that we read. */
export interface EngineNode {
  ID: string;
  Spec?: { Role?: string; Availability?: string; Name?: string; Labels?: Record<string, string> };
  Description?: { Hostname?: string; Engine?: { EngineVersion?: string } };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
}

export interface NodeSummary {
  name: string;
  id: string;
  role: 'manager' | 'worker';
  /** manager only: leader | reachable | unreachable | unknown */
  managerStatus: string | null;
  leader: boolean;
  availability: string;
  state: string;
  /** The node's advertise (data/control) address as the swarm knows it. */
  advertiseAddress: string | null;
  engineVersion: string | null;
  /** Where netdoctor will SSH to (an inventory or ssh_config may override it later). */
  sshAddress: string | null;
}

const hostOf = (addr: string | undefined): string | null => {
  if (!addr) return null;
  const m = /^\[?([^\]]+?)\]?(?::\d+)?$/.exec(addr);
  return m?.[1] ?? null;
};

const usable = (ip: string | null): ip is string => ip !== null && ip !== '' && ip !== '0.0.0.0' && ip !== '::';

/**
 * Status.Addr is the address the node was seen from; on managers it can read
 * 0.0.0.0 (moby reports the listen address there), in which case the manager's
 * ManagerStatus.Addr (advertise address:2377) is the reliable one.
 */
export function summariseNode(n: EngineNode): NodeSummary {
  const role = n.Spec?.Role === 'manager' ? 'manager' : 'worker';
  const statusAddr = hostOf(n.Status?.Addr);
  const managerAddr = hostOf(n.ManagerStatus?.Addr);
  const advertise = usable(statusAddr) ? statusAddr : usable(managerAddr) ? managerAddr : null;
  const leader = n.ManagerStatus?.Leader === true;
  return {
    name: n.Description?.Hostname ?? n.Spec?.Name ?? n.ID,
    id: n.ID,
    role,
    managerStatus: role === 'manager' ? (leader ? 'leader' : (n.ManagerStatus?.Reachability ?? 'unknown')) : null,
    leader,
    availability: n.Spec?.Availability ?? 'unknown',
    state: n.Status?.State ?? 'unknown',
    advertiseAddress: advertise,
    engineVersion: n.Description?.Engine?.EngineVersion ?? null,
    sshAddress: advertise,
  };
}

/** Managers first (leader first), then by name: the order `docker node ls` users expect to scan. */
export function sortNodes(nodes: NodeSummary[]): NodeSummary[] {
  const rank = (n: NodeSummary) => (n.leader ? 0 : n.role === 'manager' ? 1 : 2);
  return [...nodes].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
