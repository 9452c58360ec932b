/**
 * Host facts the host-layer checks read beyond HostFacts, each parsed once
 * from its raw section: the IPv4 neighbour table's size (/proc/net/stat/arp_cache),
 * the resolv.conf nameservers, NetworkManager's device list (nmcli terse) and
 * the parts of `docker info` about the daemon's mode (user namespaces,
 * live-restore, swarm address). Parsers are linear and bounded by the
 * section's own size.
 */
import type { RawSection } from '../collect/sections.js';
import type { NodeSnapshot } from '../snapshot/types.js';
import { readSection } from './sections.js';
import type { Read } from './types.js';

export interface NeighbourStats {
  /** Entries in the kernel's IPv4 neighbour table (all namespaces). */
  entries: number;
  /** Times since boot the table was full (summed over CPUs). */
  tableFulls: number;
}

export interface Nameserver {
  /** The file it was read from (/etc/resolv.conf, /run/systemd/resolve/resolv.conf). */
  file: string;
  address: string;
}

export interface NmDevice {
  device: string;
  state: string;
  connection: string;
}

export interface DaemonInfo {
  securityOptions: string[];
  liveRestore: boolean | null;
  /** Swarm.NodeAddr: the address the node advertises, as dockerd reports it. */
  swarmNodeAddr: string | null;
  swarmState: string | null;
}

export interface HostExtras {
  neighbours: Read<NeighbourStats>;
  nameservers: Read<Nameserver[]>;
  nm: Read<NmDevice[]>;
  daemon: Read<DaemonInfo>;
}

const hex = (s: string | undefined): number | null => (s !== undefined && /^[0-9a-f]{1,16}$/i.test(s) ? Number.parseInt(s, 16) : null);

/** /proc/net/stat/arp_cache: a header naming the columns, then one row of hex counters per CPU (`entries` is global, the rest per CPU). */
export function parseArpCache(text: string): { value: NeighbourStats; warnings: string[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const cols = (lines[0] ?? '').trim().split(/\s+/);
  const ie = cols.indexOf('entries');
  const it = cols.indexOf('table_fulls');
  if (ie < 0 || lines.length < 2) throw new Error('no entries column in /proc/net/stat/arp_cache');
  const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
  const entries = hex(rows[0]![ie]);
  if (entries === null) throw new Error(`unreadable entries value ${JSON.stringify(rows[0]![ie] ?? '')}`);
  let tableFulls = 0;
  for (const r of rows) tableFulls += it < 0 ? 0 : (hex(r[it]) ?? 0);
  return { value: { entries, tableFulls }, warnings: it < 0 ? ['no table_fulls column'] : [] };
}

/** The script's `# <file>` headers, each followed by that file's `nameserver <address>` lines. */
export function parseNameservers(text: string): { value: Nameserver[]; warnings: string[] } {
  const out: Nameserver[] = [];
  let file = '/etc/resolv.conf';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('# ')) file = t.slice(2);
    const m = /^nameserver\s+(\S+)/.exec(t);
    // An IPv6 nameserver may carry a zone (fe80::1%eth0): the zone is not part of the address.
    if (m) out.push({ file, address: m[1]!.split('%')[0]! });
  }
  return { value: out, warnings: [] };
}

/** Fields of one `nmcli -t` line: split on ':' not escaped by '\', with `\:` and `\\` unescaped. */
export function splitTerse(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) cur += line[++i]!;
    else if (c === ':') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/** `nmcli -t -f DEVICE,STATE,CONNECTION device`: one device a line. */
export function parseNmcli(text: string): { value: NmDevice[]; warnings: string[] } {
  const value: NmDevice[] = [];
  const warnings: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = splitTerse(line);
    if (f.length !== 3) warnings.push(`not DEVICE:STATE:CONNECTION: ${line.slice(0, 120)}`);
    else value.push({ device: f[0]!, state: f[1]!, connection: f[2]! });
  }
  return { value, warnings };
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** `docker info --format '{{json .}}'`: the daemon's mode. */
export function parseDaemonInfo(text: string): { value: DaemonInfo; warnings: string[] } {
  const d = obj(JSON.parse(text) as unknown);
  const swarm = obj(d.Swarm);
  const sec = Array.isArray(d.SecurityOptions) ? d.SecurityOptions.filter((x): x is string => typeof x === 'string') : [];
  return {
    value: {
      securityOptions: sec,
      liveRestore: typeof d.LiveRestoreEnabled === 'boolean' ? d.LiveRestoreEnabled : null,
      swarmNodeAddr: str(swarm.NodeAddr) || null,
      swarmState: str(swarm.LocalNodeState),
    },
    warnings: [],
  };
}

/** A parser that throws becomes a Read that says why. */
function safely<T>(s: RawSection | undefined, what: string, parse: (text: string) => { value: T; warnings: string[] }): Read<T> {
  try {
    return readSection(s, what, parse);
  } catch (e) {
    return { ok: false, problem: `${what} could not be read: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function hostExtras(n: NodeSnapshot): HostExtras {
  return {
    neighbours: safely(n.raw['host/arp-cache'], '/proc/net/stat/arp_cache', parseArpCache),
    nameservers: safely(n.raw['host/resolv'], 'the resolv.conf nameservers', parseNameservers),
    nm: safely(n.raw['host/nmcli'], 'nmcli device', parseNmcli),
    daemon: safely(n.raw['host/docker-info'], 'docker info', parseDaemonInfo),
  };
}
