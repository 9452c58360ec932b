/**
 * IPv4/IPv6 addresses and prefixes as big integers, for overlap and
 * containment questions (overlay subnets against the underlay, firewall
 * `-s/-d` matches). Pure; unparseable input gives null, never a throw.
 */

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** Network address (host bits cleared). */
  base: bigint;
  prefix: number;
  /** As given. */
  text: string;
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | null {
  let text = s.replace(/%.*$/, '');
  // Embedded IPv4 tail (::ffff:10.0.0.1).
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseV4(v4[1]!);
    if (n === null) return null;
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return v;
}

export function parseIp(s: string): Ip | null {
  const t = s.trim().replace(/^\[|\]$/g, '');
  if (t.includes(':')) {
    const v = parseV6(t);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseV4(t);
  return v === null ? null : { family: 4, value: v };
}

/** "10.0.1.0/24", "fd00::/64", or a bare address (a host prefix). Host bits are cleared. */
export function parseCidr(s: string): Cidr | null {
  const [addr = '', len, ...rest] = s.trim().split('/');
  if (rest.length > 0) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = bits(ip.family);
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : Number.NaN;
  if (Number.isNaN(prefix) || prefix > max) return null;
  const hostBits = BigInt(max - prefix);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, prefix, text: s.trim() };
}

/** The prefix an interface address sits in: 10.213.0.11/24 → 10.213.0.0/24. */
export function networkOf(address: string, prefixLen: number): Cidr | null {
  const c = parseCidr(`${address}/${prefixLen}`);
  return c ? { ...c, text: `${formatIp({ family: c.family, value: c.base })}/${c.prefix}` } : null;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const p = BigInt(bits(a.family) - Math.min(a.prefix, b.prefix));
  return a.base >> p === b.base >> p;
}

/** Does `outer` contain all of `inner`? */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && cidrsOverlap(outer, inner);
}

/** null when either side cannot be read. */
export function cidrContainsIp(cidr: string, ip: string): boolean | null {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  if (!c || !a) return null;
  if (c.family !== a.family) return false;
  const p = BigInt(bits(c.family) - c.prefix);
  return a.value >> p === c.base >> p;
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((ip.value >> s) & 0xffn).toString()).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

const within = (cidr: string, ip: string): boolean => cidrContainsIp(cidr, ip) === true;

export const isLoopback = (ip: string): boolean => within('127.0.0.0/8', ip) || within('::1/128', ip);
export const isUnspecified = (ip: string): boolean => {
  const a = parseIp(ip);
  return a !== null && a.value === 0n;
};
export const isLinkLocal = (ip: string): boolean => within('169.254.0.0/16', ip) || within('fe80::/10', ip);
