/**
 * Namespace-level reads of the model, parsed once: the sysctls of each
 * load-balancer sandbox, its IPVS timeouts, the host namespace's vxlan-bearing
 * links, and the kernel's route (and source address) toward each underlay peer.
 */
import type { RawSection } from '../collect/sections.js';
import { parseLinks } from '../parse/iproute.js';
import { parseIpvsTimeout, parseRouteGet, parseSysctlLines, type IpvsTimeouts, type RouteGet } from '../parse/sandbox.js';
import type { NodeSnapshot, SandboxLink, SandboxSnapshot } from '../snapshot/types.js';
import { firstLine, readSection } from './sections.js';
import type { Read } from './types.js';

export type IpvsTimeoutRead =
  | { state: 'ok'; value: IpvsTimeouts }
  /** No IPVS in this namespace (the kernel has none, or the module is not loaded). */
  | { state: 'unavailable'; reason: string }
  | { state: 'unreadable'; reason: string };

const NO_IPVS = /IPVS is not available|Can't initialize ipvs|Protocol not available/i;

const sec = (node: NodeSnapshot, sb: SandboxSnapshot, what: string): RawSection | undefined => node.raw[`netns/${sb.name}/${what}`];

/** The sandbox's own sysctls (netns/<sb>/sysctl): key → value, null for a key the namespace lacks. */
export const readNetnsSysctls = (node: NodeSnapshot, sb: SandboxSnapshot): Read<Map<string, string | null>> =>
  readSection(sec(node, sb, 'sysctl'), `sysctls of ${sb.name} on ${node.name}`, (text) => ({ value: parseSysctlLines(text), warnings: [] }));

/** `ipvsadm -L --timeout` in the sandbox. */
export function readIpvsTimeout(node: NodeSnapshot, sb: SandboxSnapshot): IpvsTimeoutRead {
  const s = sec(node, sb, 'ipvs-timeout');
  if (!s) return { state: 'unreadable', reason: `the IPVS timeouts of ${sb.name} on ${node.name} were not collected` };
  if (NO_IPVS.test(`${s.stdout}\n${s.stderr}`)) return { state: 'unavailable', reason: firstLine(s.stderr) || firstLine(s.stdout) };
  const value = s.rc === 0 ? parseIpvsTimeout(s.stdout) : null;
  if (value === null) {
    const why = s.rc === 0 ? 'no "Timeout (tcp tcpfin udp)" line' : `exit ${s.rc ?? 'none'}: ${firstLine(s.stderr) || 'no message'}`;
    return { state: 'unreadable', reason: `ipvsadm -L --timeout in ${sb.name} on ${node.name}: ${why}` };
  }
  return { state: 'ok', value };
}

/** The host namespace's links with their vxlan details (host/link). */
export const readHostLinks = (node: NodeSnapshot): Read<SandboxLink[]> =>
  readSection(node.raw['host/link'], `ip -d link on ${node.name}`, (text) => {
    const p = parseLinks(text);
    return { value: p.items, warnings: p.warnings };
  });

/** The host namespace's route toward each underlay peer (host/route-get). */
export const readRouteSources = (node: NodeSnapshot): Read<RouteGet[]> =>
  readSection(node.raw['host/route-get'], `ip route get toward the swarm's nodes on ${node.name}`, (text) => {
    const p = parseRouteGet(text);
    return { value: p.items, warnings: p.warnings };
  });
