/**
 * Node-side probe programs (POSIX sh). Everything is bounded by `timeout`,
 * runs in the foreground of its SSH channel (so it ends when the channel
 * does), and writes nothing to disk.
 *
 * Sender (one per node, all its pairs at once, each probe a background job):
 *   T <ip> <port> <rc>            TCP connect (bash /dev/tcp, else nc -z)
 *   U <ip> <port> <rc>            UDP datagrams sent (confirmed by the receiver's capture)
 *   P <ip> <payload> <rc> <text>  ICMP with DF set (path MTU), payload bytes
 *   B <ip> <rc>                   small ICMP (baseline, tells "ICMP filtered" from "MTU")
 *   D <sbox> <ip> <size> <rc>     ping inside a docker sandbox (overlay data path); size 0 = small
 * Receiver: a short tcpdump for our magic UDP payload, printing `C <src> <dst> <dport>`.
 */

/** First 4 payload bytes of every probe datagram: "NDPR". */
export const UDP_MAGIC_HEX = '0x4e445052';
export const UDP_PAYLOAD = 'NDPROBE';

export interface SenderPlan {
  tcp: { ip: string; port: number }[];
  udp: { ip: string; port: number }[];
  /** Path MTU probes: ICMP payload with DF set. */
  mtu: { ip: string; payload: number }[];
  /** Pings inside a sandbox; `network` and `peer` say what each one tests. */
  dataPath: { sandbox: string; ip: string; payload: number | null; network: string; peer: string }[];
  /** Docker's netns folder on this node and how to enter it. */
  netnsDir: string;
  viaDockerdMountNs: boolean;
  timeoutSec: number;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const safeIp = (ip: string): string => {
  if (!/^[0-9a-fA-F.:]+$/.test(ip)) throw new Error(`not an IP address: ${ip}`);
  return ip;
};

export function buildSenderScript(p: SenderPlan): string {
  const t = Math.max(1, Math.round(p.timeoutSec));
  const lines: string[] = [
    'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
    'PING=ping; command -v ping >/dev/null 2>&1 || PING="busybox ping"',
    'HAVEBASH=0; command -v bash >/dev/null 2>&1 && HAVEBASH=1',
    `tcp() { if [ $HAVEBASH = 1 ]; then timeout ${t} bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; else timeout ${t} busybox nc -z -w ${t} "$1" "$2" 2>/dev/null; fi; echo "T $1 $2 $?"; }`,
    `udp() { i=0; while [ $i -lt 3 ]; do if [ $HAVEBASH = 1 ]; then bash -c "printf ${UDP_PAYLOAD} > /dev/udp/$1/$2" 2>/dev/null; else printf ${UDP_PAYLOAD} | timeout 1 busybox nc -u -w 1 "$1" "$2" 2>/dev/null; fi; i=$((i+1)); sleep 0.2; done; echo "U $1 $2 0"; }`,
    `mtu() { out=$(timeout ${t + 1} $PING -n -c 1 -W ${t} -M do -s "$2" "$1" 2>&1); rc=$?; echo "P $1 $2 $rc $(printf %s "$out" | grep -Eio 'message too long.*|mtu[ =][0-9]+|frag needed.*' | head -n1)"; }`,
    `base() { timeout ${t + 1} $PING -n -c 1 -W ${t} "$1" >/dev/null 2>&1; echo "B $1 $?"; }`,
    p.viaDockerdMountNs ? 'NSPFX="nsenter -t $(pidof dockerd | cut -d" " -f1) -m --"' : 'NSPFX=""',
    `dp() { if [ "$3" = 0 ]; then $NSPFX nsenter --net="$NSDIR/$1" -- timeout ${t + 1} $PING -n -c 1 -W ${t} "$2" >/dev/null 2>&1; else $NSPFX nsenter --net="$NSDIR/$1" -- timeout ${t + 1} $PING -n -c 1 -W ${t} -M do -s "$3" "$2" >/dev/null 2>&1; fi; echo "D $1 $2 $3 $?"; }`,
    `NSDIR=${q(p.netnsDir)}`,
  ];
  for (const u of p.udp) lines.push(`udp ${safeIp(u.ip)} ${u.port} &`);
  for (const c of p.tcp) lines.push(`tcp ${safeIp(c.ip)} ${c.port} &`);
  const baselines = new Set<string>();
  for (const m of p.mtu) {
    lines.push(`mtu ${safeIp(m.ip)} ${m.payload} &`);
    baselines.add(m.ip);
  }
  for (const ip of baselines) lines.push(`base ${safeIp(ip)} &`);
  for (const d of p.dataPath) {
    if (!/^[\w.-]+$/.test(d.sandbox)) throw new Error(`not a sandbox name: ${d.sandbox}`);
    lines.push(`dp ${d.sandbox} ${safeIp(d.ip)} 0 &`);
    if (d.payload !== null) lines.push(`dp ${d.sandbox} ${safeIp(d.ip)} ${d.payload} &`);
  }
  lines.push('wait', 'echo DONE');
  return `${lines.join('\n')}\n`;
}

/** Receiver: capture our probe datagrams for `seconds`, then stop. */
export function buildCaptureScript(ports: number[], seconds: number): string {
  const portExpr = [...new Set(ports)].map((p) => `dst port ${Math.trunc(p)}`).join(' or ');
  return [
    'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
    'command -v tcpdump >/dev/null 2>&1 || { echo "NOTCPDUMP"; exit 0; }',
    `timeout ${Math.max(1, seconds)} tcpdump -i any -n -l -q -p 'udp and (${portExpr}) and udp[8:4] = ${UDP_MAGIC_HEX}' 2>/dev/null | sed -nE 's/.* IP ([0-9.]+)\\.[0-9]+ > ([0-9.]+)\\.([0-9]+):.*/C \\1 \\2 \\3/p'`,
    'echo DONE',
  ].join('\n') + '\n';
}

export interface SenderLine {
  kind: 'T' | 'U' | 'P' | 'B' | 'D';
  fields: string[];
}

export function parseProbeLines(text: string): { lines: SenderLine[]; done: boolean; noTcpdump: boolean } {
  const lines: SenderLine[] = [];
  let done = false;
  let noTcpdump = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === 'DONE') done = true;
    else if (l === 'NOTCPDUMP') noTcpdump = true;
    else if (/^[TUPBD] /.test(l)) {
      const [kind, ...fields] = l.split(' ');
      lines.push({ kind: kind as SenderLine['kind'], fields });
    }
  }
  return { lines, done, noTcpdump };
}

/** Captured datagrams `C <src> <dst> <dport>`. */
export function parseCaptures(text: string): { src: string; dst: string; port: number }[] {
  const out: { src: string; dst: string; port: number }[] = [];
  for (const l of text.split('\n')) {
    const m = /^C (\S+) (\S+) (\d+)$/.exec(l.trim());
    if (m) out.push({ src: m[1]!, dst: m[2]!, port: Number(m[3]) });
  }
  return out;
}
