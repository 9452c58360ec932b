/**
 * Parser for `ipvsadm -Ln` (the default listing, numeric). Pure: no I/O, never
 * throws; whatever cannot be understood is reported in `warnings`.
 *
 * ipvsadm prints (ipvsadm.c, print_title / print_service_entry):
 *
 *   IP Virtual Server version 1.2.1 (size=4096)
 *   Prot LocalAddress:Port Scheduler Flags
 *     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 *   FWM  256 rr
 *     -> 10.0.0.5:0                   Masq    1      0          0
 *   TCP  10.0.1.2:80 rr persistent 360
 *   UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port)
 *   FWM  300 IPv6 wlc ops
 *
 * i.e. `<PROT>  <addr:port> <sched>[ (<sched flags>)][ persistent <t>[ mask <m>][ pe <name>]][ ops]`
 * and real servers as `  -> %-28s %-7s %-6d %-10u %-10u` (address, forward
 * method Masq|Local|Tunnel|Route, weight, active, inactive connections).
 *
 * Docker Swarm (libnetwork service_linux.go) programs one fwmark service per
 * (service, network) load balancer — marks are allocated from 256 upwards —
 * with the `rr` scheduler, real servers of weight 1 with Masq forwarding (NAT
 * mode, the default) or Route (DSR mode); a task that is being removed is
 * first set to weight 0 before it is deleted.
 */

export type IpvsProtocol = 'FWM' | 'TCP' | 'UDP' | 'SCTP';

export interface IpvsRealServer {
  address: string;
  port: number;
  /** Forwarding method as printed: Masq, Local, Tunnel, Route (or "(null)" for an unknown one). */
  forward: string;
  weight: number;
  activeConn: number;
  inactConn: number;
}

export interface IpvsService {
  protocol: IpvsProtocol;
  /** For FWM services. */
  fwmark?: number;
  /** For TCP/UDP/SCTP services: the virtual address, without brackets for IPv6. */
  address?: string;
  port?: number;
  family: 'inet' | 'inet6';
  scheduler: string;
  /**
   * Everything after the scheduler, grouped: scheduler flags as printed in
   * parentheses split on commas (`sh-fallback`, `flag-1`), then
   * `persistent 360`, `mask 255.255.255.0`, `pe sip`, `ops`.
   */
  flags: string[];
  /** Persistence timeout in seconds when the service is persistent. */
  persistent?: number;
  realServers: IpvsRealServer[];
}

export interface IpvsTable {
  /** False when ipvsadm could not talk to IPVS at all (module missing, no ipvsadm, empty output). */
  available: boolean;
  reason?: string;
  /** e.g. "1.2.1". */
  version?: string;
  /** Connection hash table size from the header, e.g. 4096. */
  tableSize?: number;
  services: IpvsService[];
  warnings: string[];
}

const SERVICE_RE = /^(FWM|TCP|UDP|SCTP)\s+(\S+)(?:\s+(.*))?$/;
const REAL_RE = /^->\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s*$/;

/** Split `10.0.0.5:80` or `[2001:db8::1]:80` into address and port. */
export function splitAddrPort(s: string): { address: string; port: number; family: 'inet' | 'inet6' } | null {
  const v6 = /^\[([^\]]*)\]:(\d+)$/.exec(s);
  if (v6) {
    const port = Number(v6[2]);
    if (!v6[1] || !Number.isInteger(port) || port > 65535) return null;
    return { address: v6[1], port, family: 'inet6' };
  }
  const v4 = /^([^:\s[\]]+):(\d+)$/.exec(s);
  if (v4) {
    const port = Number(v4[2]);
    if (!v4[1] || !Number.isInteger(port) || port > 65535) return null;
    return { address: v4[1], port, family: 'inet' };
  }
  return null;
}

/** Parse the flag words that follow the scheduler on a service line. */
function parseServiceFlags(words: string[], svc: IpvsService, warn: (m: string) => void, lineNo: number): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('(')) {
      // Scheduler flags: "(sh-fallback,sh-port)"; tolerate a split "( a,b )".
      let group = w;
      while (!group.endsWith(')') && i + 1 < words.length) group += words[++i]!;
      const inner = group.replace(/^\(/, '').replace(/\)$/, '');
      for (const f of inner.split(',')) if (f.trim()) svc.flags.push(f.trim());
      continue;
    }
    if (w === 'persistent' || w === 'mask' || w === 'pe') {
      const arg = words[i + 1];
      if (arg === undefined) {
        warn(`line ${lineNo}: "${w}" without a value`);
        svc.flags.push(w);
        continue;
      }
      i++;
      svc.flags.push(`${w} ${arg}`);
      if (w === 'persistent') {
        const t = Number(arg);
        if (Number.isInteger(t) && t >= 0) svc.persistent = t;
        else warn(`line ${lineNo}: persistence timeout "${arg}" is not a number`);
      }
      continue;
    }
    svc.flags.push(w);
  }
}

function parseService(line: string, lineNo: number, warn: (m: string) => void): IpvsService | null {
  const m = SERVICE_RE.exec(line);
  if (!m) return null;
  const protocol = m[1] as IpvsProtocol;
  const words = (m[3] ?? '').split(/\s+/).filter((w) => w !== '');
  const svc: IpvsService = { protocol, family: 'inet', scheduler: '', flags: [], realServers: [] };
  if (protocol === 'FWM') {
    const mark = Number(m[2]);
    if (!/^\d+$/.test(m[2]!) || !Number.isSafeInteger(mark)) {
      warn(`line ${lineNo}: firewall mark "${m[2]}" is not a number: ${line}`);
      return null;
    }
    svc.fwmark = mark;
    if (words[0] === 'IPv6') {
      svc.family = 'inet6';
      words.shift();
    }
  } else {
    const ap = splitAddrPort(m[2]!);
    if (!ap) {
      warn(`line ${lineNo}: cannot read address:port "${m[2]}": ${line}`);
      return null;
    }
    svc.address = ap.address;
    svc.port = ap.port;
    svc.family = ap.family;
  }
  const sched = words.shift();
  if (sched === undefined) {
    warn(`line ${lineNo}: service without a scheduler (truncated?): ${line}`);
  } else {
    svc.scheduler = sched;
  }
  parseServiceFlags(words, svc, warn, lineNo);
  return svc;
}

function parseRealServer(line: string): IpvsRealServer | null {
  const m = REAL_RE.exec(line);
  if (!m) return null;
  const ap = splitAddrPort(m[1]!);
  if (!ap) return null;
  return {
    address: ap.address,
    port: ap.port,
    forward: m[2]!,
    weight: Number(m[3]),
    activeConn: Number(m[4]),
    inactConn: Number(m[5]),
  };
}

/** Messages ipvsadm (or the shell around it) prints instead of a table. */
const UNAVAILABLE_RES: RegExp[] = [
  /Can't initialize ipvs/i,
  /IP Virtual Server is built in the kernel/i,
  /ipvsadm: (command )?not found/i,
  /command not found/i,
  /No such file or directory/i,
  /Permission denied/i,
  /Operation not permitted/i,
  /Memory allocation problem/i,
];

/** Longest line read: ipvsadm prints well under 200 characters per line; longer ones are skipped with a warning. */
export const MAX_LINE = 64 * 1024;

/** What parseIpvsadm carries from one line to the next. */
interface IpvsParseState {
  out: IpvsTable;
  warn: (m: string) => void;
  sawHeader: boolean;
  sawTitle: boolean;
  current: IpvsService | null;
  errorLines: string[];
}

export function parseIpvsadm(text: string): IpvsTable {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const st: IpvsParseState = {
    out: { available: true, services: [], warnings },
    warn,
    sawHeader: false,
    sawTitle: false,
    current: null,
    errorLines: [],
  };
  const lines = (text ?? '').split(/\r?\n/);

  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx]!;
    const lineNo = idx + 1;
    if (raw.length > MAX_LINE) {
      warn(`line ${lineNo}: longer than ${MAX_LINE} characters, skipped`);
      continue;
    }
    // trimEnd, not /\s+$/: that pattern is quadratic on a long run of blanks before a non-blank.
    const line = raw.trimEnd();
    const t = line.trim();
    if (t === '') continue;
    if (headerLine(st, t, lineNo)) continue;
    if (t.startsWith('->')) {
      realServerLine(st, t, lineNo);
      continue;
    }
    if (SERVICE_RE.test(t)) {
      const svc = parseService(t, lineNo, warn);
      st.current = svc;
      if (svc) st.out.services.push(svc);
      continue;
    }
    if (UNAVAILABLE_RES.some((re) => re.test(t))) {
      st.errorLines.push(t);
      continue;
    }
    warn(`line ${lineNo}: unrecognised line: ${t}`);
  }
  finishIpvs(st, text);
  return st.out;
}

/** The version header and the two column-title lines; true when the line was one of them. */
function headerLine(st: IpvsParseState, t: string, lineNo: number): boolean {
  const ver = /^IP Virtual Server version (\S+)(?:\s+\(size=(\d+)\))?/.exec(t);
  if (ver) {
    st.sawHeader = true;
    st.out.version = ver[1]!;
    if (ver[2] !== undefined) st.out.tableSize = Number(ver[2]);
    return true;
  }
  if (/^Prot\s+LocalAddress:Port\b/.test(t)) {
    st.sawTitle = true;
    if (!/Scheduler\s+Flags/.test(t)) {
      st.warn(`line ${lineNo}: not the default listing (--stats/--rate/--thresholds?), real server columns may be misread: ${t}`);
    }
    return true;
  }
  if (/^->\s+RemoteAddress:Port\b/.test(t)) {
    st.sawTitle = true;
    return true;
  }
  return false;
}

/** A `-> addr:port Forward Weight ...` line, attached to the service above it. */
function realServerLine(st: IpvsParseState, t: string, lineNo: number): void {
  const rs = parseRealServer(t);
  if (!rs) {
    st.warn(`line ${lineNo}: cannot read real server line: ${t}`);
    return;
  }
  if (!st.current) {
    st.warn(`line ${lineNo}: real server before any service: ${t}`);
    return;
  }
  st.current.realServers.push(rs);
}

/** After the last line: error text, empty output and a missing header decide availability and warnings. */
function finishIpvs(st: IpvsParseState, text: string): void {
  const { out, warn, errorLines } = st;
  if (errorLines.length > 0 && out.services.length === 0) {
    out.available = false;
    out.reason = errorLines.join('\n');
  } else if (errorLines.length > 0) {
    for (const e of errorLines) warn(`error text alongside the table: ${e}`);
  } else if (!st.sawHeader && !st.sawTitle && out.services.length === 0) {
    out.available = false;
    out.reason = (text ?? '').trim() === '' ? 'empty output' : 'no IPVS table in the output';
    if ((text ?? '').trim() === '') warn('empty output');
  } else if (!st.sawHeader) {
    warn('no "IP Virtual Server version" header (truncated at the start?)');
  }
}

/**
 * The firewall mark an iptables MARK target sets, as iptables-save prints it:
 * `--set-xmark 0x100/0xffffffff` → 256. Also accepts `0x100`, `256`, and
 * `--set-mark` values. With a partial mask only the masked bits are returned.
 * Returns NaN when the value cannot be read (never throws).
 */
export function fwmarkOf(setXmark: string): number {
  const s = (setXmark ?? '').trim();
  const m = /^(0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?$/i.exec(s);
  if (!m) return Number.NaN;
  const value = Number(m[1]);
  const mask = m[2] !== undefined ? Number(m[2]) : 0xffffffff;
  if (!Number.isFinite(value) || !Number.isFinite(mask) || value > 0xffffffff || mask > 0xffffffff) return Number.NaN;
  return (value & mask) >>> 0;
}

/** The fwmark service for a mark, if present. */
export function findFwmarkService(table: IpvsTable, fwmark: number): IpvsService | undefined {
  return table.services.find((s) => s.protocol === 'FWM' && s.fwmark === fwmark);
}

/** Real servers that receive new connections (weight > 0). Docker sets weight 0 on tasks being removed. */
export function activeRealServers(service: IpvsService): IpvsRealServer[] {
  return service.realServers.filter((r) => r.weight > 0);
}
