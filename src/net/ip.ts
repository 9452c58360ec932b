/**
 * The one IPv4/IPv6 library of netdoctor: addresses and prefixes parsed by
 * ipaddr.js (strict: four-part decimal IPv4, RFC 4291 IPv6), held as big
 * integers for overlap and containment questions (overlay subnets against
 * the underlay, firewall `-s/-d` matches, pseudonyms). Pure; unparseable
 * input gives null, never a throw.
 */
import ipaddr from 'ipaddr.js';

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

const toBig = (bytes: number[]): bigint => bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);

/**
 * Parsed addresses and prefixes by their text: the checks ask about the same
 * few hundred strings thousands of times (a third of a cold analysis was
 * ipaddr.js parsing them again). Bounded: cleared when full. Results are frozen.
 */
const MEMO_MAX = 8192;
function memo<T>(fn: (s: string) => T | null): (s: string) => T | null {
  const cache = new Map<string, T | null>();
  return (s) => {
    let v = cache.get(s);
    if (v === undefined) {
      if (cache.size >= MEMO_MAX) cache.clear();
      v = fn(s);
      cache.set(s, v === null ? null : Object.freeze(v));
    }
    return v;
  };
}

export const parseIp: (s: string) => Ip | null = memo(readIp);
export const parseCidr: (s: string) => Cidr | null = memo(readCidr);

function readIp(s: string): Ip | null {
  const t = s.trim().replace(/^\[|\]$/g, '');
  if (t.length > 64) return null;
  if (t.includes(':')) {
    if (!ipaddr.IPv6.isValid(t)) return null;
    return { family: 6, value: toBig(ipaddr.IPv6.parse(t).toByteArray()) };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(t)) return null;
  return { family: 4, value: toBig(ipaddr.IPv4.parse(t).toByteArray()) };
}

/** "10.0.1.0/24", "fd00::/64", or a bare address (a host prefix). Host bits are cleared. */
function readCidr(s: string): Cidr | null {
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

/** Whether `ip` is inside `cidr`; null when either side cannot be read. */
export function cidrContainsIp(cidr: string, ip: string): boolean | null {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  if (!c || !a) return null;
  if (c.family !== a.family) return false;
  const p = BigInt(bits(c.family) - c.prefix);
  return a.value >> p === c.base >> p;
}

export function formatIp(ip: Ip): string {
  const n = ip.family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((ip.value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

const within = (cidr: string, ip: string): boolean => cidrContainsIp(cidr, ip) === true;

export const isLoopback = (ip: string): boolean => within('127.0.0.0/8', ip) || within('::1/128', ip);
export const isUnspecified = (ip: string): boolean => parseIp(ip)?.value === 0n;
export const isLinkLocal = (ip: string): boolean => within('169.254.0.0/16', ip) || within('fe80::/10', ip);

/** Docker's IPv4-derived container MAC: 02:42 followed by the address octets. */
export function derivedMac(ip: string): string | null {
  const a = parseIp(ip);
  if (a?.family !== 4) return null;
  const o = [24n, 16n, 8n, 0n].map((s) => Number((a.value >> s) & 0xffn));
  return ['02', '42', ...o.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** An address without its `/len` suffix. */
export const stripPrefixLen = (addr: string): string => addr.split('/')[0] ?? addr;
