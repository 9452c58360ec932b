/**
 * Connection tracking entries as the kernel prints them in
 * /proc/net/nf_conntrack (the family first):
 *   ipv4     2 udp      17 29 src=10.213.0.12 dst=10.213.0.11 sport=58448 dport=5514 [UNREPLIED] src=10.213.0.11 dst=10.213.0.12 sport=5514 dport=58448 mark=0 zone=0 use=2
 * and as `conntrack -L` prints them (no family columns):
 *   udp      17 29 src=10.213.0.12 dst=10.213.0.11 sport=58448 dport=5514 [UNREPLIED] src=172.17.0.2 dst=10.213.0.12 sport=514 dport=58448 mark=0 use=1
 * The first src/dst/sport/dport group is the original direction (what the
 * client sent), the second the reply direction the kernel expects: when it
 * differs from the original turned around, the flow was NATed, and the
 * reply's source is where the datagrams really go. Pure, linear (one split
 * per line), bounded in lines and line length.
 */

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
}

export interface ConntrackEntry {
  /** ipv4 / ipv6 (from /proc/net/nf_conntrack), null in `conntrack -L` output. */
  family: string | null;
  /** udp, tcp, icmp… */
  protocol: string;
  /** Seconds left before the entry expires. */
  timeout: number | null;
  orig: ConntrackTuple;
  /** The reply direction; null when the line holds only one tuple. */
  reply: ConntrackTuple | null;
  /** [UNREPLIED]: no packet was ever seen the other way. */
  unreplied: boolean;
  /** [ASSURED]: replies seen, the entry is kept past the short timeout. */
  assured: boolean;
}

export const CONNTRACK_LIMITS = { lines: 1000, lineChars: 1024 } as const;

const PORT = /^[0-9]{1,5}$/;
const port = (v: string | undefined): number | null => (v !== undefined && PORT.test(v) && Number(v) <= 65535 ? Number(v) : null);

/** One line, or null when it is not a conntrack entry. */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const t = line.trim().split(/\s+/);
  const proc = t[0] === 'ipv4' || t[0] === 'ipv6';
  const protocol = proc ? t[2] : t[0];
  const timeout = proc ? t[4] : t[2];
  if (protocol === undefined || !/^[a-z0-9]+$/.test(protocol)) return null;
  const tuples: Partial<Record<'src' | 'dst' | 'sport' | 'dport', string>>[] = [{}];
  let unreplied = false;
  let assured = false;
  for (const tok of t.slice(proc ? 5 : 3)) {
    if (tok === '[UNREPLIED]') unreplied = true;
    else if (tok === '[ASSURED]') assured = true;
    const eq = tok.indexOf('=');
    if (eq < 0) continue;
    const k = tok.slice(0, eq);
    if (k !== 'src' && k !== 'dst' && k !== 'sport' && k !== 'dport') continue;
    let cur = tuples[tuples.length - 1]!;
    if (cur[k] !== undefined) {
      if (tuples.length === 2) break;
      cur = {};
      tuples.push(cur);
    }
    cur[k] = tok.slice(eq + 1);
  }
  const tuple = (x: (typeof tuples)[number] | undefined): ConntrackTuple | null =>
    x?.src !== undefined && x.dst !== undefined ? { src: x.src, dst: x.dst, sport: port(x.sport), dport: port(x.dport) } : null;
  const orig = tuple(tuples[0]);
  if (orig === null) return null;
  return {
    family: proc ? t[0]! : null,
    protocol,
    timeout: timeout !== undefined && /^[0-9]{1,10}$/.test(timeout) ? Number(timeout) : null,
    orig,
    reply: tuple(tuples[1]),
    unreplied,
    assured,
  };
}

/** Every entry of the text, at most CONNTRACK_LIMITS.lines; lines that are not entries become warnings. */
export function parseConntrack(
  text: string,
  limits: { lines: number; lineChars: number } = CONNTRACK_LIMITS,
): { entries: ConntrackEntry[]; warnings: string[] } {
  const entries: ConntrackEntry[] = [];
  const warnings: string[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (entries.length >= limits.lines) {
      skipped++;
      continue;
    }
    const e = line.length > limits.lineChars ? null : parseConntrackLine(line);
    if (e) entries.push(e);
    else if (warnings.length < 10) warnings.push(`not a conntrack entry: ${line.slice(0, 120)}`);
  }
  if (skipped > 0) warnings.push(`${skipped} more line(s) past the first ${limits.lines} not read`);
  return { entries, warnings };
}

/** Whether the flow was NATed: the reply does not come back from where the client sent it. */
export const natted = (e: ConntrackEntry): boolean =>
  e.reply !== null && (e.reply.src !== e.orig.dst || (e.reply.sport !== null && e.orig.dport !== null && e.reply.sport !== e.orig.dport));
