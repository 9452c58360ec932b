/** Reading the node's sysctls for the host.sysctl.* checks. */
import type { NodeModel } from '../../../model/types.js';
import { code, prose, shq } from '../../../text/shell.js';

/** A sysctl's value (trimmed; null when the key does not exist), or why the sysctls were not read. */
export function sysctlValue(node: NodeModel, key: string): { value: string | null } | { problem: string } {
  if (node.section('host/sysctl')?.ok !== true) return { problem: `sysctls not collected: ${node.unavailable('host/sysctl', 'sysctl read')}` };
  const v = node.host!.sysctls[key];
  return { value: v === undefined || v === null ? null : v.trim() };
}

/** Set a sysctl now and persist it. */
export const persistSysctl = (node: string, key: string, value: string): string =>
  `On ${prose(node)}: ${code(`sysctl -w ${key}=${shq(value)}`)} and persist it: ${code(`echo '${key} = ${value}' > /etc/sysctl.d/90-swarm.conf`)} (and look for a file in /etc/sysctl.d or /etc/sysctl.conf that sets it otherwise).`;
