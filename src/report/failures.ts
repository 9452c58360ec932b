/**
 * The rows of the field catalogue of Swarm overlay failures users hit
 * (FAILURES.md, kept beside this project: each row is one failure mode with
 * what a node shows), and how netdoctor answers each: the checks whose
 * metadata names the row, or why no node can show it. The README's coverage
 * table is generated from this list and the registry; a unit test keeps every
 * row either recognised or explained.
 */
import { REGISTRY } from '../checks/registry.js';
import type { AnyCheck } from '../checks/types.js';

export interface FailureRow {
  row: number;
  title: string;
  /** Why no check recognises this row from what a node shows (only for rows no check names). */
  notDetectable?: string;
  /** A row a node could show but no check recognises yet: what it would take (only for rows no check names). */
  gap?: string;
}

export const FAILURE_ROWS: readonly FailureRow[] = [
  { row: 1, title: 'swarm ports blocked (4789/udp, 7946 tcp+udp, 2377/tcp)' },
  { row: 2, title: 'MTU / PMTU black hole' },
  { row: 3, title: 'VXLAN tx checksum offload bug (vmxnet3/ESXi)' },
  { row: 4, title: 'NSX / SDN owns udp/4789' },
  { row: 5, title: 'stale FDB / ARP after IP reuse or node restart' },
  { row: 6, title: 'permanent FDB not re-added after a short partition' },
  { row: 7, title: 'NetworkDB/gossip divergence' },
  { row: 8, title: 'gossip flapping' },
  { row: 9, title: 'bulk-sync timeouts' },
  {
    row: 10,
    title: 'client source IP lost behind the routing mesh',
    notDetectable:
      'not a fault: the routing mesh NATs by design (IPVS in ingress_sbox, then SNAT), and no node can tell whether an application needs the client address; publish with `mode: host` where it does',
  },
  { row: 11, title: 'IPVS idle timeout 900 s' },
  { row: 12, title: 'IPVS port reuse on rolling updates' },
  { row: 13, title: 'stale UDP conntrack on published UDP ports' },
  { row: 14, title: 'encrypted overlay: ESP blocked' },
  { row: 15, title: 'encrypted overlay through 1:1 NAT' },
  { row: 16, title: 'encrypted overlay on a non-4789 data-path port' },
  { row: 17, title: 'encrypted overlay without xt_u32 (RHEL 8/9)' },
  { row: 18, title: 'overlay subnet overlaps host/VPC/DNS server' },
  { row: 19, title: 'docker_gwbridge / docker0 subnet conflict' },
  { row: 20, title: 'IPAM pool overlap' },
  { row: 21, title: 'overlay /24 exhausted' },
  { row: 22, title: 'duplicate task/VIP IPs' },
  { row: 23, title: 'stale DNS/VIP records' },
  { row: 24, title: '`error creating vxlan interface: file exists`' },
  { row: 25, title: "firewalld reload / iptables restore wipes Docker's chains" },
  { row: 26, title: 'iptables backend split-brain (legacy vs nft)' },
  { row: 27, title: 'UFW / FORWARD policy drop' },
  { row: 28, title: 'wrong advertise/data-path address, multi-NIC or NAT' },
  { row: 29, title: 'VXLAN outer source ≠ data-path address' },
  { row: 30, title: 'node IP changed (DHCP, move)' },
  { row: 31, title: 'clock skew' },
  { row: 32, title: 'missing kernel features: ip_vs, vxlan' },
  { row: 33, title: 'nested nodes (LXC/Proxmox/sysbox): ip_forward=0 in lb_' },
  { row: 34, title: 'neighbour / conntrack table exhaustion' },
  { row: 36, title: "NetworkManager managing Docker's interfaces" },
  { row: 37, title: 'IPv6-only underlay' },
  { row: 38, title: 'userns-remap' },
];

/** The checks that name each row, in registry order. */
export function coverage(checks: readonly AnyCheck[] = REGISTRY): Map<number, string[]> {
  const by = new Map<number, string[]>(FAILURE_ROWS.map((r) => [r.row, []]));
  for (const c of checks) for (const r of c.meta.failures) by.get(r)?.push(c.meta.id);
  return by;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

/** The README's coverage table: every row, with its checks or why none can see it. */
export function coverageMarkdown(checks: readonly AnyCheck[] = REGISTRY): string {
  const by = coverage(checks);
  const out = ['| # | failure | recognised by |', '|---|---|---|'];
  for (const r of FAILURE_ROWS) {
    const ids = by.get(r.row) ?? [];
    const how =
      ids.length > 0
        ? ids.map((id) => `\`${id}\``).join(', ')
        : r.gap !== undefined
          ? `not recognised yet: ${r.gap}`
          : `not detectable from a node: ${r.notDetectable ?? ''}`;
    out.push(`| ${r.row} | ${cell(r.title)} | ${cell(how)} |`);
  }
  return out.join('\n');
}
