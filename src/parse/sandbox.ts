/**
 * Parsers for the sandbox-level reads: `key=value` sysctl lines (as the
 * collection script prints them, `<absent>` for a key the namespace lacks),
 * `ipvsadm -L --timeout`, and `ip -j route get` lines. Pure, never throw.
 *
 * ipvsadm prints its timeouts (ipvsadm.c, print_timeout) as
 *   Timeout (tcp tcpfin udp): 900 120 300
 */
export interface IpvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** `net/ipv4/ip_forward=1` lines → key → value (null for `<absent>`); other lines are ignored. */
export function parseSysctlLines(text: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (!/^[a-z0-9_/.-]+$/.test(key)) continue;
    const value = line.slice(i + 1).trim();
    out.set(key, value === '<absent>' ? null : value);
  }
  return out;
}

const TIMEOUT_RE = /^Timeout \(tcp tcpfin udp\): (\d{1,10}) (\d{1,10}) (\d{1,10})\s*$/;

/** The timeouts line of `ipvsadm -L --timeout`, or null when the text holds none. */
export function parseIpvsTimeout(text: string): IpvsTimeouts | null {
  for (const line of text.split('\n')) {
    const m = TIMEOUT_RE.exec(line.trim());
    if (m) return { tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]) };
  }
  return null;
}

export interface RouteGet {
  dst: string;
  dev: string | null;
  /** The source address the kernel picks toward dst. */
  prefsrc: string | null;
  type: string | null;
}

/** `ip -j route get` output, one JSON array a line (`[]` for a destination without a route). */
export function parseRouteGet(text: string): { items: RouteGet[]; warnings: string[] } {
  const items: RouteGet[] = [];
  const warnings: string[] = [];
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    let rows: unknown;
    try {
      rows = JSON.parse(t);
    } catch {
      warnings.push(`ip -j route get: not valid JSON (${t.slice(0, 60)})`);
      continue;
    }
    if (!Array.isArray(rows)) continue;
    for (const r of rows as unknown[]) {
      if (typeof r !== 'object' || r === null) continue;
      const o = r as Record<string, unknown>;
      const dst = str(o.dst);
      if (dst !== null) items.push({ dst, dev: str(o.dev), prefsrc: str(o.prefsrc), type: str(o.type) });
    }
  }
  return { items, warnings };
}
