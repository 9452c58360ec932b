/**
 * Node-side probe programs (POSIX sh). Everything is bounded by `timeout`,
 * runs in the foreground of its SSH channel (so it ends when the channel
 * does), and writes nothing to disk.
 *
 * Sender (one per node, all its pairs at once, each probe a background job):
 *   T <ip> <port> <rc>            TCP connect (bash /dev/tcp, else nc -z)
 *   P <ip> <payload> <rc> <text>  ICMP with DF set (path MTU), payload bytes
 *   B <ip> <rc>                   small ICMP, only after a failed DF ping (tells "ICMP filtered" from "MTU")
 *   D <sbox> <ip> <size> <rc>     ping inside a docker sandbox (overlay data path); size 0 = small
 *   S <sbox>                      the sandbox's pings are started (or it could not be entered): the client
 *                                 starts the other probes once every node's pings are (run.ts earlyProbes)
 *   U <ip> <port> 0               UDP datagrams sent (all of a sender's from one process; confirmed by the receiver's capture)
 *   E <ip> <rc> <tool> [error]    ESP packets (IP protocol 50, our SPI) sent through a raw socket by perl or
 *                                 python3: rc 0 sent, 1 refused (error text), 127 neither tool on the node
 * Receiver: tcpdump for our magic UDP payload (and our ESP SPI), printing READY once it listens,
 * `C <src> <dst> <dport|esp>` per source and port (its first datagram), COMPLETE when every expected datagram
 * arrived (it then stops at once), DONE at the end; when stopped before that,
 * tcpdump's own counts as `STAT captured|received|dropped <n>`.
 */

/** First 4 payload bytes of every probe datagram: "NDPR". */
export const UDP_MAGIC_HEX = '0x4e445052';
export const UDP_PAYLOAD = 'NDPROBE';

/**
 * ESP probe packets: SPI (4 bytes, per run, from 1..255: the range RFC 4303
 * reserves, which no SA uses, so no receiver's kernel ever matches a real SA
 * to it), sequence number 1..3, then "NDPROBE!". The receiver's kernel drops
 * them (no SA); its capture sees them first.
 */
export const ESP_SPI_MIN = 1;
export const ESP_SPI_MAX = 255;

export interface SenderPlan {
  tcp: { ip: string; port: number }[];
  udp: { ip: string; port: number }[];
  /** Path MTU probes: ICMP payload with DF set. */
  mtu: { ip: string; payload: number }[];
  /** Pings inside a sandbox; `network` and `peer` say what each one tests. */
  dataPath: { sandbox: string; ip: string; payload: number | null; network: string; peer: string }[];
  /** ESP (IP protocol 50) to these IPv4 addresses, with this SPI; absent: no encrypted overlay between this node and its peers. */
  esp?: { spi: number; ips: string[] };
  /**
   * Docker's netns folder on this node and how to enter it; null when the plan was made before the
   * node was collected: the script then finds both as the collection does and prints them (`N` line).
   */
  netnsDir: string | null;
  viaDockerdMountNs: boolean | null;
  timeoutSec: number;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const safeIp = (ip: string): string => {
  if (!/^[0-9a-fA-F.:]+$/.test(ip)) throw new Error(`not an IP address: ${ip}`);
  return ip;
};

const safeSpi = (spi: number): number => {
  if (!Number.isInteger(spi) || spi < ESP_SPI_MIN || spi > ESP_SPI_MAX) throw new Error(`not a probe SPI: ${spi}`);
  return spi;
};

// Perl (perl-base's Socket is on every Debian/Ubuntu node) or python3 (RHEL 8/9 minimal has no perl):
// 3 rounds 0.05 s apart, one line per address; an address whose send failed carries the first error
// (EPERM: netfilter OUTPUT dropped it). No single quotes inside: each is one sh single-quoted word.
const ESP_PERL = [
  'my ($spi, @ips) = @ARGV; my %e; my $s;',
  'socket($s, PF_INET, SOCK_RAW, 50) or do { my $w = "socket: $!"; $e{$_} = $w for @ips; undef $s };',
  'if ($s) { for my $r (1 .. 3) { for my $ip (@ips) { send($s, pack("NNa8", $spi, $r, "NDPROBE!"), 0, pack_sockaddr_in(0, inet_aton($ip))) // ($e{$ip} //= "$!") }',
  'select(undef, undef, undef, 0.05) if $r < 3 } }',
  'print "E $_ ", (exists $e{$_} ? "1 perl $e{$_}" : "0 perl"), "\\n" for @ips;',
].join(' ');
const ESP_PYTHON = [
  'import socket, struct, sys, time',
  'spi = int(sys.argv[1]); ips = sys.argv[2:]; e = {}; s = None',
  'try:',
  '  s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)',
  'except OSError as x:',
  '  e = dict((i, "socket: " + str(x.strerror)) for i in ips)',
  'for r in (1, 2, 3):',
  '  for i in ips:',
  '    try:',
  '      s is None or s.sendto(struct.pack("!II", spi, r) + b"NDPROBE!", (i, 0))',
  '    except OSError as x:',
  '      e.setdefault(i, str(x.strerror))',
  '  if r < 3 and s is not None: time.sleep(0.05)',
  'for i in ips: print("E " + i + (" 1 python3 " + e[i] if i in e else " 0 python3"))',
].join('\n');

/** The sender's ESP function: perl, else python3, else RHEL's platform-python, else `E <ip> 127 -` per address. */
function espFunction(t: number): string {
  return [
    'esp() { spi=$1; shift',
    `  if perl -MSocket -e 1 >/dev/null 2>&1; then timeout ${t} perl -MSocket -e '${ESP_PERL}' "$spi" "$@" 2>/dev/null`,
    `  elif command -v python3 >/dev/null 2>&1; then timeout ${t} python3 -I -c '${ESP_PYTHON}' "$spi" "$@" 2>/dev/null`,
    `  elif [ -x /usr/libexec/platform-python ]; then timeout ${t} /usr/libexec/platform-python -I -c '${ESP_PYTHON}' "$spi" "$@" 2>/dev/null`,
    '  else for x in "$@"; do echo "E $x 127 -"; done; fi; }',
  ].join('\n');
}

const safeIpv4 = (ip: string): string => {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  return ip;
};

/**
 * NSDIR and NSPFX for the overlay pings. Known from the collection: as given. Unknown (planned before
 * it): the exec root from dockerd's command line (--exec-root, else /var/run/docker, as
 * parse/host.ts execRootOf reads it), entered directly when the first sandbox can be, else through
 * dockerd's mount namespace (MountFlags=slave); printed as `N <netns dir> <direct|dockerd-mount-ns>`.
 */
function netnsAccess(p: SenderPlan): string[] {
  if (p.netnsDir !== null && p.viaDockerdMountNs !== null) {
    return [p.viaDockerdMountNs ? 'NSPFX="nsenter -t $(pidof dockerd | cut -d" " -f1) -m --"' : 'NSPFX=""', `NSDIR=${q(p.netnsDir)}`];
  }
  const first = p.dataPath[0]?.sandbox;
  if (first === undefined) return ['NSPFX=""', 'NSDIR=/var/run/docker/netns'];
  if (!SANDBOX_NAME.test(first)) throw new Error(`not a sandbox name: ${first}`);
  return [
    'DPID=$(pidof dockerd 2>/dev/null); DPID=${DPID%% *}; R=',
    String.raw`[ -n "$DPID" ] && R=$(tr '\0' '\n' < /proc/$DPID/cmdline | awk 'p { if (r == "") r = $0; p = 0; next } /^--exec-root$/ { p = 1; next } /^--exec-root=/ { if (r == "") { sub(/^--exec-root=/, ""); r = $0 } } END { print r }')`,
    'NSDIR=${R:-/var/run/docker}/netns; NSPFX=""; A=direct',
    `if ! nsenter --net="$NSDIR/${first}" -- true 2>/dev/null && [ -n "$DPID" ] && nsenter -t "$DPID" -m -- nsenter --net="$NSDIR/${first}" -- true 2>/dev/null; then NSPFX="nsenter -t $DPID -m --"; A=dockerd-mount-ns; fi`,
    'echo "N $NSDIR $A"',
  ];
}

const SANDBOX_NAME = /^[\w.-]+$/;

export function buildSenderScript(p: SenderPlan): string {
  const { head, tail } = senderScriptParts(p);
  return head + tail;
}

/**
 * The sender script in two parts: `head` defines the probe functions and finds how sandboxes are
 * entered, `tail` runs the probes. Sent as one, or the head first and the tail when the probes may
 * start (ExecOptions.stdinTail): then only the probes themselves are left when the moment comes.
 */
export function senderScriptParts(p: SenderPlan): { head: string; tail: string } {
  const t = Math.max(1, Math.round(p.timeoutSec));
  const lines: string[] = [
    'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
    'PING=ping; command -v ping >/dev/null 2>&1 || PING="busybox ping"',
    'HAVEBASH=0; command -v bash >/dev/null 2>&1 && HAVEBASH=1',
    `tcp() { if [ $HAVEBASH = 1 ]; then timeout ${t} bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; else timeout ${t} busybox nc -z -w ${t} "$1" "$2" 2>/dev/null; fi; echo "T $1 $2 $?"; }`,
    // Every datagram from one process (bash), 3 rounds 0.05 s apart; the receivers' captures confirm them.
    `udp() { if [ $HAVEBASH = 1 ]; then bash -c 'for r in 1 2 3; do for x in "$@"; do printf ${UDP_PAYLOAD} >"/dev/udp/\${x%:*}/\${x##*:}"; done; [ $r = 3 ] || sleep 0.05; done' udp "$@" 2>/dev/null; else for r in 1 2 3; do for x in "$@"; do printf ${UDP_PAYLOAD} | timeout 1 busybox nc -u -w 1 "\${x%:*}" "\${x##*:}" >/dev/null 2>&1 & done; [ $r = 3 ] || sleep 0.05; done; wait; fi; for x in "$@"; do echo "U \${x%:*} \${x##*:} 0"; done; }`,
    // Only when the DF ping fails: ping's reason, and the small ping that tells "MTU" from "ICMP
    // filtered" (5 processes fewer per peer when it passes, all a healthy run needs). A DF ping
    // that got no answer at all while the small one did is tried once more: on a node too busy
    // to answer in time (60 lab nodes on 2 CPUs) the first one timed out, and that is no MTU.
    `df() { out=$(timeout ${t + 1} $PING -n -c 1 -W ${t} -M do -s "$2" "$1" 2>&1); rc=$?; why=""; [ $rc = 0 ] || why=$(printf %s "$out" | grep -Eio 'message too long.*|mtu[ =][0-9]+|frag needed.*' | head -n1); }`,
    `mtu() { df "$1" "$2"; if [ $rc != 0 ] && base "$1" && [ -z "$why" ]; then df "$1" "$2"; fi; echo "P $1 $2 $rc $why"; }`,
    `base() { timeout ${t + 1} $PING -n -c 1 -W ${t} "$1" >/dev/null 2>&1; b=$?; echo "B $1 $b"; return $b; }`,
    ...netnsAccess(p),
    // Every ping of one sandbox from one nsenter (IP:SIZE each, size 0 = small), all at once, then
    // `S <sandbox>`; when the sandbox cannot be entered, nsenter's status stands for each of them.
    `dps() { s=$1; shift; $NSPFX nsenter --net="$NSDIR/$s" -- sh -c 'S=$1; P=$2; shift 2; for x; do i=$\{x%:*}; z=$\{x##*:}; { if [ "$z" = 0 ]; then timeout ${t + 1} $P -n -c 1 -W ${t} "$i"; else timeout ${t + 1} $P -n -c 1 -W ${t} -M do -s "$z" "$i"; fi >/dev/null 2>&1; echo "D $S $i $z $?"; } & done; echo "S $S"; wait' dps "$s" "$PING" "$@" || { r=$?; for x; do echo "D $s $\{x%:*} $\{x##*:} $r"; done; echo "S $s"; }; }`,
  ];
  const head = `${lines.join('\n')}\n`;
  lines.length = 0;
  // UDP and ESP first: the receivers' captures are waiting for them. Then every other probe, all at once.
  if (p.udp.length > 0) lines.push(`udp ${p.udp.map((u) => `${safeIp(u.ip)}:${Math.trunc(u.port)}`).join(' ')} &`);
  if (p.esp && p.esp.ips.length > 0) lines.push(espFunction(t), `esp ${safeSpi(p.esp.spi)} ${p.esp.ips.map(safeIpv4).join(' ')} &`);
  for (const c of p.tcp) lines.push(`tcp ${safeIp(c.ip)} ${Math.trunc(c.port)} &`);
  for (const m of p.mtu) lines.push(`mtu ${safeIp(m.ip)} ${Math.trunc(m.payload)} &`);
  const pings = new Map<string, string[]>();
  for (const d of p.dataPath) {
    if (!SANDBOX_NAME.test(d.sandbox)) throw new Error(`not a sandbox name: ${d.sandbox}`);
    const list = pings.get(d.sandbox) ?? [];
    list.push(`${safeIp(d.ip)}:0`);
    if (d.payload !== null) list.push(`${safeIp(d.ip)}:${Math.trunc(d.payload)}`);
    pings.set(d.sandbox, list);
  }
  for (const [sandbox, list] of pings) lines.push(`dps ${sandbox} ${list.join(' ')} &`);
  lines.push('wait', 'echo DONE');
  return { head, tail: `${lines.join('\n')}\n` };
}

/** One datagram the receiver waits for: from this source address to this port. */
export interface ExpectedDatagram {
  src: string;
  /** A UDP port, or 'esp' for the ESP probe packets. */
  port: number | 'esp';
}

/**
 * Receiver: capture our probe datagrams until one has arrived from every
 * expected source on every expected port (then COMPLETE), or until the client
 * stops it (buildCaptureStopScript, once every sender is done), or `seconds`
 * have passed, whichever comes first. Prints `PID <pid>` (what to stop),
 * READY once tcpdump is listening (the senders start then), `C <src> <dst>
 * <dport>` once per source and port, DONE at the end; NOTCPDUMP when there is no tcpdump.
 * The reading loop is plain sh `read` (unbuffered on a pipe, unlike mawk), and
 * it stops tcpdump itself when the count is in.
 */
export function buildCaptureScript(ports: number[], seconds: number, expect: readonly ExpectedDatagram[] = [], espSpi: number | null = null): string {
  const portExpr = [...new Set(ports)].map((p) => `dst port ${Math.trunc(p)}`).join(' or ');
  const keys = [...new Set(expect.map((e) => `${safeIp(e.src)}/${e.port === 'esp' ? 'esp' : Math.trunc(e.port)}`))];
  const udp = `udp and (${portExpr}) and udp[8:4] = ${UDP_MAGIC_HEX}`;
  // ESP: our SPI (the first 4 bytes after a 20-byte IPv4 header, which a raw socket's packets have) and our payload.
  const filter = espSpi === null ? udp : `(${udp}) or (ip proto 50 and ip[20:4] = ${safeSpi(espSpi)} and ip[28:4] = ${UDP_MAGIC_HEX})`;
  return (
    [
      'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
      'command -v tcpdump >/dev/null 2>&1 || { echo "NOTCPDUMP"; exit 0; }',
      'set -f',
      `WANT=' ${keys.join(' ')} '`,
      `LEFT=${keys.length}`,
      "SEEN=' '",
      // inbound: the node's own outgoing probes are not read (half the lines); -s 128: headers and
      // magic only, so the kernel ring holds many small blocks and a starved tcpdump drops nothing;
      // -t: no timestamps (sh reads a pipe byte by byte).
      `{ timeout ${Math.max(1, Math.round(seconds))} tcpdump -i any -n -l -q -p -t -s 128 -B 4096 'inbound and ${espSpi === null ? udp : `(${filter})`}' 2>&1 & echo "PID $!"; wait; } | {`,
      '  pid=""',
      '  while IFS= read -r l; do',
      '    case $l in',
      '      "PID "*) pid=${l#PID }; echo "$l" ;;',
      '      *"listening on"*) echo READY ;;',
      // tcpdump's counts at exit (stopped before its count was in): did it read all that matched?
      '      *" packet captured"|*" packets captured") echo "STAT captured ${l%% *}" ;;',
      '      *" received by filter") echo "STAT received ${l%% *}" ;;',
      '      *" dropped by kernel") echo "STAT dropped ${l%% *}" ;;',
      '      *" IP "*" > "*)',
      '        set -- ${l#* IP }',
      // ESP has no ports: `IP <src> > <dst>: ESP(spi=…,seq=…), length n`.
      '        case $l in *": ESP("*) s=$1; d=${3%:}; p=esp ;; *) s=${1%.*}; d=${3%:}; p=${d##*.}; d=${d%.*} ;; esac',
      // Each source and port once (every sender sends 3 rounds): a third of the lines to carry back.
      '        case $SEEN in *" $s/$p "*) continue ;; esac',
      '        SEEN="$SEEN$s/$p "',
      '        echo "C $s $d $p"',
      '        case $WANT in',
      '          *" $s/$p "*)',
      '            pre=${WANT%% $s/$p *}; post=${WANT#* $s/$p }; WANT="$pre $post"; LEFT=$((LEFT - 1))',
      '            if [ $LEFT -le 0 ]; then [ -n "$pid" ] && kill "$pid" 2>/dev/null; echo COMPLETE; break; fi ;;',
      '        esac ;;',
      '    esac',
      '  done',
      '}',
      'echo DONE',
    ].join('\n') + '\n'
  );
}

/**
 * Stop a capture that is still waiting (its senders are all done): TERM to
 * the pid it printed, only if that pid is still its `timeout` or tcpdump.
 */
export function buildCaptureStopScript(pid: number): string {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`not a capture pid: ${pid}`);
  return `case "$(cat /proc/${pid}/comm 2>/dev/null)" in timeout|tcpdump) kill ${pid} 2>/dev/null ;; esac; true\n`;
}

export interface SenderLine {
  kind: 'T' | 'U' | 'P' | 'B' | 'D' | 'E';
  fields: string[];
}

export function parseProbeLines(text: string): { lines: SenderLine[]; done: boolean; noTcpdump: boolean; complete: boolean } {
  const lines: SenderLine[] = [];
  let done = false;
  let noTcpdump = false;
  let complete = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l === 'DONE') done = true;
    else if (l === 'NOTCPDUMP') noTcpdump = true;
    else if (l === 'COMPLETE') complete = true;
    else if (/^[TUPBDE] /.test(l)) {
      const [kind, ...fields] = l.split(' ');
      lines.push({ kind: kind as SenderLine['kind'], fields });
    }
  }
  return { lines, done, noTcpdump, complete };
}

/** tcpdump's counts at exit (`STAT` lines): datagrams that matched the filter, were read, were dropped by the kernel. */
export interface CaptureStats {
  received: number;
  captured: number;
  dropped: number;
}

export function parseCaptureStats(text: string): CaptureStats | null {
  const got: Partial<Record<keyof CaptureStats, number>> = {};
  for (const l of text.split('\n')) {
    const m = /^STAT (captured|received|dropped) (\d{1,15})$/.exec(l.trim());
    if (m) got[m[1] as keyof CaptureStats] = Number(m[2]);
  }
  if (got.received === undefined || got.captured === undefined) return null;
  return { received: got.received, captured: got.captured, dropped: got.dropped ?? 0 };
}

export function parseCaptures(text: string): { src: string; dst: string; port: number | 'esp' }[] {
  const out: { src: string; dst: string; port: number | 'esp' }[] = [];
  for (const l of text.split('\n')) {
    const m = /^C (\S+) (\S+) (\d+|esp)$/.exec(l.trim());
    if (m) out.push({ src: m[1]!, dst: m[2]!, port: m[3] === 'esp' ? 'esp' : Number(m[3]) });
  }
  return out;
}
