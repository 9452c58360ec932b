/**
 * `bundle --redact-ips`: IP addresses and hostnames replaced by stable
 * pseudonyms, the same way in every file of the bundle, so that the offline
 * analysis of the redacted bundle finds what the live run found.
 *
 * IPv4 is mapped prefix-preservingly (Crypto-PAn style): bit i of the output
 * is bit i of the input XOR a keyed pseudo-random function of the first i
 * input bits. Two addresses sharing a k-bit prefix share a k-bit prefix after
 * mapping, so subnets stay subnets of the same length, containment and
 * overlaps are kept, and a network address written as a CIDR is
 * re-canonicalised (host bits cleared). The last octet is kept, so hosts stay
 * .1, .11, and .0/.255 stay network and broadcast addresses; the upper 24
 * bits are what identify a network. The mapping is a bijection. It keeps:
 *  - pointwise: 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/3 (multicast, reserved,
 *    255.255.255.255 and every netmask from /3 up) and the /1, /2 netmasks;
 *  - as sets (addresses move inside): 10.0.0.0/8, 172.16.0.0/12,
 *    192.168.0.0/16, 169.254.0.0/16, so private stays private, link-local
 *    stays link-local and Docker's default pool 10.0.0.0/8 keeps meaning.
 * Docker's IP-derived MACs (02:42:<ipv4>) are rewritten to the mapped IP.
 * IPv6 gets the same prefix-preserving treatment on 128 bits (::/8 with ::,
 * ::1 and IPv4-mapped, whose IPv4 part is mapped, and ff00::/8 kept;
 * 2000::/3 and fc00::/7 kept as sets; fe80::/64 kept with its interface id
 * rewritten: an EUI-64 id from a 02:42 MAC follows the MAC, any other is
 * keyed-hashed).
 * Hostnames (swarm node names, node hostnames, SSH target names) become
 * node-1, node-2… in the swarm's node order; SSH jump hosts (each node's
 * ProxyJump chain, the `--jump` flag) become jump-1, jump-2…; all are
 * matched as whole words, case-insensitively.
 *
 * The key is random per bundle and never written anywhere: the pseudonyms
 * cannot be reversed from the bundle.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp, parseIp } from '../net/ip.js';
import { parseJumpSpec } from '../ssh/config.js';
import type { ClusterSnapshot } from '../snapshot/types.js';

interface Range {
  base: bigint;
  prefix: number;
  /** Pointwise fixed (identity) or only kept as a set. */
  fixed: boolean;
}

const v4 = (text: string): Range => {
  const [a, p] = text.split('/');
  return { base: parseIp(a!)!.value, prefix: Number(p), fixed: false };
};

const V4_FIXED = ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3', '128.0.0.0/32', '192.0.0.0/32'].map((t) => ({ ...v4(t), fixed: true }));
const V4_SETS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'].map(v4);
const v6 = (text: string, fixed: boolean): Range => {
  const [a, p] = text.split('/');
  return { base: parseIp(a!)!.value, prefix: Number(p), fixed };
};
const V6_RANGES = [v6('::/8', true), v6('ff00::/8', true), v6('fe80::/10', true), v6('2000::/3', false), v6('fc00::/7', false)];

/**
 * Is the flip at depth `depth` under `prefixValue` (the first `depth` bits,
 * as the high bits of a `bits`-wide number) forced to 0? Yes inside a fixed
 * range, and on every ancestor of a kept range (so the range maps onto itself).
 */
function forced(prefixValue: bigint, depth: number, bits: number, ranges: Range[]): boolean {
  for (const r of ranges) {
    if (depth < r.prefix) {
      // An ancestor of r: the first `depth` bits of r equal ours.
      const shift = BigInt(bits - depth);
      if (depth === 0 || r.base >> shift === prefixValue >> shift) return true;
    } else if (r.fixed) {
      const shift = BigInt(bits - r.prefix);
      if (r.base >> shift === prefixValue >> shift) return true;
    }
  }
  return false;
}

const HOST_BOUNDARY = 'A-Za-z0-9_-';

export interface PseudonymiserOptions {
  /** Secret of the mapping; random by default (tests pass one to be reproducible). */
  key?: Buffer;
  /** Hostname groups: every name in group i becomes `node-<i+1>`. */
  hosts?: string[][];
}

export class Pseudonymiser {
  readonly #key: Buffer;
  readonly #flips = new Map<string, boolean>();
  readonly #v4 = new Map<bigint, bigint>();
  readonly #v6 = new Map<bigint, bigint>();
  readonly #hosts = new Map<string, string>();
  #hostRe: RegExp | null = null;

  constructor(o: PseudonymiserOptions = {}) {
    this.#key = o.key ?? randomBytes(32);
    (o.hosts ?? []).forEach((group, i) => {
      for (const name of group) this.addHost(name, `node-${i + 1}`);
    });
  }

  /** Register a hostname (kept: the first pseudonym given to a name). */
  addHost(name: string, pseudonym: string): void {
    const n = name.trim().toLowerCase();
    if (n.length < 2 || isIPv4(n) || isIPv6(n) || this.#hosts.has(n) || !/^[a-z0-9_][a-z0-9_.-]*$/.test(n)) return;
    this.#hosts.set(n, pseudonym);
    this.#hostRe = null;
  }

  /** Is this name already given a pseudonym? */
  knows(name: string): boolean {
    return this.#hosts.has(name.trim().toLowerCase());
  }

  /** The hostname pseudonyms, for callers that must rename things (bundle paths). */
  host(name: string): string {
    return this.#hosts.get(name.toLowerCase()) ?? this.text(name);
  }

  #flip(bits: number, depth: number, prefixValue: bigint): boolean {
    const id = `${bits}/${depth}/${prefixValue.toString(16)}`;
    let f = this.#flips.get(id);
    if (f === undefined) {
      f = (createHmac('sha256', this.#key).update(id).digest()[0]! & 1) === 1;
      this.#flips.set(id, f);
    }
    return f;
  }

  #prefixPreserving(value: bigint, bits: number, ranges: Range[], keepLow = 0): bigint {
    let out = 0n;
    for (let depth = 0; depth < bits; depth++) {
      if (depth >= bits - keepLow) {
        out = (out << 1n) | ((value >> BigInt(bits - depth - 1)) & 1n);
        continue;
      }
      const shift = BigInt(bits - depth);
      const prefixValue = depth === 0 ? 0n : (value >> shift) << shift;
      const bit = (value >> BigInt(bits - depth - 1)) & 1n;
      const flip = !forced(prefixValue, depth, bits, ranges) && this.#flip(bits, depth, prefixValue);
      out = (out << 1n) | (flip ? bit ^ 1n : bit);
    }
    return out;
  }

  /** An IPv4 address as a 32-bit number, mapped. */
  ipv4Value(value: bigint): bigint {
    let m = this.#v4.get(value);
    if (m === undefined) {
      m = this.#prefixPreserving(value, 32, [...V4_FIXED, ...V4_SETS], 8);
      this.#v4.set(value, m);
    }
    return m;
  }

  ipv4(addr: string): string {
    const ip = parseIp(addr);
    if (!ip || ip.family !== 4) return addr;
    return formatIp({ family: 4, value: this.ipv4Value(ip.value) });
  }

  ipv6(addr: string): string {
    const zone = /%.*$/.exec(addr)?.[0] ?? '';
    const ip = parseIp(addr.slice(0, addr.length - zone.length));
    if (!ip || ip.family !== 6) return addr;
    const m = this.ipv6Value(ip.value);
    if (m >> 32n === 0xffffn && addr.includes('.')) return `::ffff:${formatIp({ family: 4, value: m & 0xffffffffn })}${zone}`;
    return formatIp({ family: 6, value: m }) + zone;
  }

  ipv6Value(value: bigint): bigint {
    let m = this.#v6.get(value);
    if (m !== undefined) return m;
    const top64 = value >> 64n;
    if (value >> 32n === 0xffffn) {
      // IPv4-mapped: map the IPv4 part.
      m = (0xffffn << 32n) | this.ipv4Value(value & 0xffffffffn);
    } else if (top64 === 0xfe80n << 48n) {
      m = (top64 << 64n) | this.#interfaceId(value & 0xffffffffffffffffn);
    } else {
      m = this.#prefixPreserving(value, 128, V6_RANGES);
    }
    this.#v6.set(value, m);
    return m;
  }

  /** A link-local interface id: EUI-64 of a 02:42 MAC follows the MAC mapping; others are hashed. */
  #interfaceId(iid: bigint): bigint {
    const bytes = Array.from({ length: 8 }, (_, i) => Number((iid >> BigInt(56 - i * 8)) & 0xffn));
    const eui = bytes[3] === 0xff && bytes[4] === 0xfe;
    if (eui && (bytes[0]! ^ 0x02) === 0x02 && bytes[1] === 0x42) {
      const ip = (BigInt(bytes[2]!) << 24n) | (BigInt(bytes[5]!) << 16n) | (BigInt(bytes[6]!) << 8n) | BigInt(bytes[7]!);
      const m = this.ipv4Value(ip);
      const o = [Number(m >> 24n), Number((m >> 16n) & 0xffn), Number((m >> 8n) & 0xffn), Number(m & 0xffn)];
      const out = [bytes[0]!, 0x42, o[0]!, 0xff, 0xfe, o[1]!, o[2]!, o[3]!];
      return out.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
    }
    const h = createHmac('sha256', this.#key)
      .update(`iid/${iid.toString(16)}`)
      .digest();
    return h.subarray(0, 8).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  }

  /** 02:42:aa:bb:cc:dd → 02:42:<mapped aa.bb.cc.dd>; other MACs as they are. */
  mac(mac: string): string {
    const parts = mac.split(':');
    if (parts.length !== 6 || parts[0] !== '02' || parts[1] !== '42') return mac;
    const value = parts.slice(2).reduce((acc, p) => (acc << 8n) | BigInt(Number.parseInt(p, 16)), 0n);
    const m = this.ipv4Value(value);
    const upper = /[A-F]/.test(mac);
    const hex = [24n, 16n, 8n, 0n].map((s) => ((m >> s) & 0xffn).toString(16).padStart(2, '0'));
    const out = ['02', '42', ...hex].join(':');
    return upper ? out.toUpperCase() : out;
  }

  /** `a.b.c.d/len` (or v6): map the address, clear host bits again when the input had none. */
  #cidr(addr: string, len: number, family: 4 | 6): string {
    const ip = parseIp(addr);
    if (!ip) return `${addr}/${len}`;
    const bits = family === 4 ? 32 : 128;
    if (len > bits) return `${family === 4 ? this.ipv4(addr) : this.ipv6(addr)}/${len}`;
    const host = BigInt(bits - len);
    const mapped = family === 4 ? this.ipv4Value(ip.value) : this.ipv6Value(ip.value);
    const isNetwork = (ip.value >> host) << host === ip.value;
    const value = isNetwork ? (mapped >> host) << host : mapped;
    return `${formatIp({ family, value })}/${len}`;
  }

  /**
   * Addresses in free text: MACs first (a MAC looks like a short IPv6),
   * then IPv4 (with an optional /len), then IPv6 candidates, checked.
   */
  addresses(s: string): string {
    return s.replace(ADDRESS_RE, (match, mac?: string, a4?: string, l4?: string, a6?: string, l6?: string) => {
      if (mac) return this.mac(mac);
      if (a4) {
        if (!isIPv4(a4)) return match;
        return l4 !== undefined ? this.#cidr(a4, Number(l4), 4) : this.ipv4(a4);
      }
      if (a6) {
        if (!isIPv6(a6.replace(/%.*$/, ''))) return this.#v4Only(match);
        return l6 !== undefined ? this.#cidr(a6, Number(l6), 6) : this.ipv6(a6);
      }
      return match;
    });
  }

  /** A rejected IPv6 candidate may still hold IPv4 addresses or MACs. */
  #v4Only(s: string): string {
    return s.replace(V4_ONLY_RE, (match, mac?: string, a4?: string, l4?: string) => {
      if (mac) return this.mac(mac);
      if (a4 && isIPv4(a4)) return l4 !== undefined ? this.#cidr(a4, Number(l4), 4) : this.ipv4(a4);
      return match;
    });
  }

  hostnames(s: string): string {
    if (this.#hosts.size === 0) return s;
    if (!this.#hostRe) {
      const names = [...this.#hosts.keys()].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.#hostRe = new RegExp(`(?<![${HOST_BOUNDARY}])(?:${names.join('|')})(?![${HOST_BOUNDARY}])`, 'gi');
    }
    return s.replace(this.#hostRe, (m) => this.#hosts.get(m.toLowerCase()) ?? m);
  }

  /** Any text: addresses, then hostnames. */
  text(s: string): string {
    return this.hostnames(this.addresses(s));
  }

  /**
   * A JSON value: every string rewritten; object keys get the address
   * rewrite, and a key that is exactly a hostname is renamed.
   */
  json<T>(value: T): T {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const key = this.#hosts.get(k.toLowerCase()) ?? this.addresses(k);
          out[key] = walk(x);
        }
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}

const MAC = String.raw`(?<![0-9A-Fa-f:])(02:42(?::[0-9A-Fa-f]{2}){4})(?![0-9A-Fa-f:])`;
const IPV4 = String.raw`(?<![0-9.])((?:\d{1,3}\.){3}\d{1,3})(?:\/(\d{1,3})(?![0-9]))?(?![0-9]|\.[0-9])`;
const IPV6 = String.raw`(?<![0-9A-Za-z_:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[A-Za-z0-9_.-]+)?)(?:\/(\d{1,3})(?![0-9]))?(?![0-9A-Za-z_:]|\.[0-9])`;
const ADDRESS_RE = new RegExp(`${MAC}|${IPV4}|${IPV6}`, 'g');
const V4_ONLY_RE = new RegExp(`${MAC}|${IPV4}`, 'g');

/** The host of a `user@host:port` hop as the snapshot records it (`[…]` stripped). */
function hopHost(hop: string): string {
  const noUser = hop.slice(hop.lastIndexOf('@') + 1);
  const m = /^(.*):(\d+)$/.exec(noUser);
  return (m ? m[1]! : noUser).replace(/^\[(.*)\]$/, '$1');
}

/** Jump hosts named on the command line: `--jump V` / `--jump=V`, V in ProxyJump syntax. */
export function jumpHostsOfArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    const v = a === '--jump' ? argv[i + 1] : a.startsWith('--jump=') ? a.slice(7) : undefined;
    if (v === undefined) return;
    try {
      const specs = parseJumpSpec(v);
      if (specs !== 'none') out.push(...specs.map((s) => s.host));
    } catch {
      // Not valid ProxyJump syntax: the run refused it; still hide what looks like hosts in it.
      out.push(
        ...v
          .split(',')
          .map((x) => hopHost(x.trim()))
          .filter((x) => x !== '' && x.toLowerCase() !== 'none'),
      );
    }
  });
  return out;
}

/**
 * A pseudonymiser for one snapshot: each node's names (swarm hostname,
 * collected hostname, SSH target when it is a name, the FQDN's first label)
 * become node-<n> in the swarm's node order; then the SSH jump hosts (of
 * every node's chain, and of `--jump` in `argv`) become jump-<n>, unless
 * they are nodes.
 */
export function pseudonymiserFor(snapshot: ClusterSnapshot, key?: Buffer, argv: readonly string[] = []): Pseudonymiser {
  const groups = new Map<string, Set<string>>();
  const order: string[] = [];
  const group = (id: string): Set<string> => {
    let g = groups.get(id);
    if (!g) {
      g = new Set();
      groups.set(id, g);
      order.push(id);
    }
    return g;
  };
  const add = (g: Set<string>, name: string | null | undefined) => {
    if (!name) return;
    g.add(name);
    const short = name.split('.')[0];
    if (short && short !== name && !isIPv4(name)) g.add(short);
  };
  for (const n of snapshot.cluster.nodes) add(group(n.id || n.name), n.name);
  for (const n of snapshot.nodes) {
    const g = group(n.id ?? snapshot.cluster.nodes.find((c) => c.name === n.name)?.id ?? n.name);
    add(g, n.name);
    add(g, n.host?.hostname);
    if (!isIPv4(n.target.host) && !isIPv6(n.target.host)) add(g, n.target.host);
  }
  const p = new Pseudonymiser({ ...(key ? { key } : {}), hosts: order.map((id) => [...groups.get(id)!]) });
  // The endpoint's host when it is a name (tcp://manager1:2376, ssh://admin@manager1).
  const m = /^[a-z]+:\/\/(?:[^@/]*@)?([^:/]+)/i.exec(snapshot.endpoint.host);
  if (m && m[1] && !isIPv4(m[1]) && !snapshot.endpoint.host.startsWith('unix:')) p.addHost(m[1], 'manager-endpoint');
  const jumps: string[] = [];
  for (const n of snapshot.nodes) for (const hop of n.target.via ?? []) jumps.push(hopHost(hop));
  jumps.push(...jumpHostsOfArgv(argv));
  let j = 0;
  const seen = new Set<string>();
  for (const h of jumps) {
    const name = h.trim().toLowerCase();
    if (name === '' || isIPv4(name) || isIPv6(name) || seen.has(name)) continue;
    seen.add(name);
    if (p.knows(name)) continue;
    const pseudonym = `jump-${++j}`;
    p.addHost(name, pseudonym);
    const short = name.split('.')[0];
    if (short && short !== name) p.addHost(short, pseudonym);
  }
  return p;
}
