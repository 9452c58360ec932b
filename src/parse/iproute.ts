/**
 * Parsers for iproute2's JSON output (`ip -j -d link`, `ip -j addr`,
 * `ip -j route`, `ip -j neigh`, `bridge -j fdb`). iproute2 omits keys freely
 * across versions, so every field is read defensively; bad JSON yields an
 * empty list and a warning, never an exception.
 */
import type { FdbEntry, HostInterface, NeighEntry, SandboxLink } from '../snapshot/types.js';

export interface Parsed<T> {
  items: T[];
  warnings: string[];
}

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function parseArray(text: string, what: string): { rows: Json[]; warnings: string[] } {
  const trimmed = text.trim();
  if (trimmed === '') return { rows: [], warnings: [] };
  try {
    const v: unknown = JSON.parse(trimmed);
    if (!Array.isArray(v)) return { rows: [], warnings: [`${what}: expected a JSON array`] };
    return { rows: v.filter((r): r is Json => typeof r === 'object' && r !== null), warnings: [] };
  } catch (err) {
    return { rows: [], warnings: [`${what}: not valid JSON (${(err as Error).message})`] };
  }
}

export function parseLinks(text: string): Parsed<SandboxLink> {
  const { rows, warnings } = parseArray(text, 'ip -j -d link');
  const items = rows.map((r): SandboxLink => {
    const info = (r.linkinfo ?? {}) as Json;
    const kind = str(info.info_kind);
    const link: SandboxLink = {
      name: str(r.ifname) ?? '?',
      kind,
      mtu: num(r.mtu),
      state: str(r.operstate),
      master: str(r.master),
      mac: str(r.address),
    };
    if (kind === 'vxlan') {
      const d = (info.info_data ?? {}) as Json;
      link.vxlan = {
        id: num(d.id),
        port: num(d.port),
        local: str(d.local),
        learning: typeof d.learning === 'boolean' ? d.learning : null,
      };
    }
    return link;
  });
  return { items, warnings };
}

/** `ip -j addr` → interfaces with their addresses (host view). */
export function parseInterfaces(addrText: string, linkText?: string): Parsed<HostInterface> {
  const { rows, warnings } = parseArray(addrText, 'ip -j addr');
  const kinds = new Map<string, string | null>();
  if (linkText !== undefined) {
    const links = parseLinks(linkText);
    warnings.push(...links.warnings);
    for (const l of links.items) kinds.set(l.name, l.kind);
  }
  const items = rows.map((r): HostInterface => {
    const name = str(r.ifname) ?? '?';
    const info = Array.isArray(r.addr_info) ? (r.addr_info as Json[]) : [];
    return {
      name,
      kind: kinds.get(name) ?? null,
      mtu: num(r.mtu),
      state: str(r.operstate),
      addresses: info
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
        .map((a) => ({ family: a.family as 'inet' | 'inet6', address: a.local as string, prefixLen: num(a.prefixlen) ?? 0 })),
    };
  });
  return { items, warnings };
}

/** Flattened addresses of a sandbox. */
export function parseAddresses(text: string): Parsed<{ ifname: string; address: string; prefixLen: number }> {
  const { items, warnings } = parseInterfaces(text);
  return {
    items: items.flatMap((i) =>
      i.addresses.filter((a) => a.family === 'inet').map((a) => ({ ifname: i.name, address: a.address, prefixLen: a.prefixLen })),
    ),
    warnings,
  };
}

export function parseRoutes(text: string): Parsed<{ dst: string; dev: string | null; gateway: string | null; protocol: string | null }> {
  const { rows, warnings } = parseArray(text, 'ip -j route');
  return {
    items: rows.map((r) => ({ dst: str(r.dst) ?? '?', dev: str(r.dev), gateway: str(r.gateway), protocol: str(r.protocol) })),
    warnings,
  };
}

export function parseFdb(text: string): Parsed<FdbEntry> {
  const { rows, warnings } = parseArray(text, 'bridge -j fdb');
  return {
    items: rows.map((r) => ({
      mac: (str(r.mac) ?? '').toLowerCase(),
      dev: str(r.ifname) ?? str(r.dev) ?? '?',
      dst: str(r.dst),
      vlan: num(r.vlan),
      flags: strs(r.flags),
      state: str(r.state),
    })),
    warnings,
  };
}

export function parseNeigh(text: string): Parsed<NeighEntry> {
  const { rows, warnings } = parseArray(text, 'ip -j neigh');
  return {
    items: rows.map((r) => ({
      dst: str(r.dst) ?? '?',
      dev: str(r.dev) ?? '?',
      mac: str(r.lladdr)?.toLowerCase() ?? null,
      state: strs(r.state),
    })),
    warnings,
  };
}
