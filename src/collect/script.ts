/**
 * The node-side collection script: one POSIX sh program sent on stdin of a
 * single SSH exec (`sh -s`, or `sudo -n sh -s` for non-root users), so a node
 * costs one connection and one round trip.
 *
 * Read-only by construction: it only runs readers (ip, bridge, iptables-save,
 * ipvsadm -Ln, cat of /proc and /sys), writes no file and starts nothing that
 * outlives it. IPsec key material is cut on the node (`redactXfrm`) so it never
 * crosses the wire.
 *
 * Output framing: every section is
 *   <M> BEGIN <name>
 *   …stdout…
 *   <M> ERR <name> <one stderr line>     (any number, after stdout)
 *   <M> END <name> <rc>
 * where <M> is a per-run random marker. A command whose stdout lacks a final
 * newline can put the marker mid-line; the parser splits on the marker, not on
 * line starts. Section names double as file paths in the support bundle
 * (`host/…`, `netns/<sandbox>/…`).
 */
import { randomBytes } from 'node:crypto';
import { nodeSedArgs } from '../bundle/secrets.js';
import type { ClusterFacts } from '../snapshot/types.js';

/** Kernel modules whose absence breaks a layer (checked in /sys/module and /proc/modules). */
export const KERNEL_MODULES = [
  'vxlan',
  'ip_vs',
  'ip_vs_rr',
  'xt_mark',
  'br_netfilter',
  'esp4',
  'xfrm_user',
  'nf_conntrack',
  'overlay',
  'veth',
  'bridge',
  'xt_u32',
] as const;

export const SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/bridge/bridge-nf-call-iptables',
  'net/bridge/bridge-nf-call-ip6tables',
  'net/ipv4/conf/all/rp_filter',
  'net/ipv4/conf/default/rp_filter',
  'net/ipv4/conf/all/forwarding',
  'net/ipv4/neigh/default/gc_thresh3',
  'net/netfilter/nf_conntrack_count',
  'net/netfilter/nf_conntrack_max',
] as const;

export interface ScriptOptions {
  /** The swarm's data-path (VXLAN) port, 4789 unless the swarm was created with --data-path-port. */
  dataPathPort: number;
  /** Id prefixes (10 chars) of encrypted overlays: with any, the host's `ip xfrm` state and policies are read. */
  encryptedPrefixes?: string[];
  /** Per-run marker; random by default. */
  marker?: string;
  /**
   * The tail of dockerd's log as section `host/docker-log` (only the support
   * bundle asks for it): at most `lines` lines, from `since` (seconds since
   * the epoch) on. Redacted on the node (see REDACT_LOG).
   */
  dockerLog?: { lines: number; since?: number; bytes?: number };
  /**
   * Underlay addresses of the swarm's nodes (their VXLAN endpoints): the
   * host namespace's `ip route get` for each says which source address the
   * kernel gives VXLAN frames toward it (section `host/route-get`).
   */
  underlayPeers?: string[];
  /** Names to resolve at the embedded DNS of each network's lb sandbox (dnsPlan); none when absent. */
  dns?: DnsPlan[];
  /** The swarm's published UDP ports (ingress and host mode): their host conntrack entries are read (section `host/conntrack-udp`). */
  udpPorts?: number[];
  /**
   * Ids of the swarm's overlays as the manager lists them: each node's own
   * verbose view of them is read in the same curl as /version and /info
   * (host/network-views). Without them the node lists its own.
   */
  overlayIds?: string[];
}

/**
 * What `check` and `collect` read of the logs by default (the `log` layer):
 * dockerd's lines of the last hour, at most 2000 lines and 1 MiB, and the
 * kernel's table-overflow / conntrack / vxlan lines of the same window.
 */
export const LOG_DEFAULTS = { lines: 2000, bytes: 2 ** 20, sinceSec: 3600 } as const;

/**
 * Kernel lines the log layer looks for (grep -E on the node: a DFA, linear):
 * table overflows and vxlan lines that report trouble, as the kernel
 * signatures read them (model/log-signatures.ts). Not every line naming a
 * vxlan device: those are mostly ports of br0 changing state, hundreds on
 * a busy node.
 */
export const KERNEL_LOG_PATTERN = 'table overflow|table full|vxlan.*(error|failed|Failed|non-ECT|Cannot)|(error|failed|Failed|non-ECT|Cannot).*vxlan';

export const newMarker = (): string => `@@ND${randomBytes(6).toString('hex')}@@`;

/**
 * `sec NAME CMD…`: CMD's stdout goes straight out on fd 4; its stderr comes
 * back through one command substitution (whose status is CMD's: POSIX, an
 * assignment's status is its last substitution's) and is tagged with shell
 * builtins (one subshell per section, no sed), which keeps the node-side cost
 * of a collection low. CMD is the subshell's only command, so the shell execs
 * it there instead of forking once more. Commands read /dev/null, never the
 * script on our stdin.
 *
 * `secout NAME TEXT`: a section whose stdout is TEXT (already read, e.g. one
 * line of an `ip -batch`), framed as `sec NAME printf '%s\n' TEXT` would
 * frame it, without the subshell.
 */
const SEC = String.raw`sec() {
  n=$1; shift
  printf '%s BEGIN %s\n' "$M" "$n"
  e=$( "$@" </dev/null 2>&1 1>&4 ); rc=$?
  if [ -n "$e" ]; then
    set -f; OIFS=$IFS; IFS=$NL
    for l in $e; do printf '%s ERR %s %s\n' "$M" "$n" "$l"; done
    IFS=$OIFS; set +f
  fi
  printf '\n%s END %s %s\n' "$M" "$n" "$rc"
}
secout() {
  if [ -n "$2" ]; then printf '%s BEGIN %s\n%s\n\n%s END %s 0\n' "$M" "$1" "$2" "$M" "$1"
  else printf '%s BEGIN %s\n\n%s END %s 0\n' "$M" "$1" "$M" "$1"; fi
}`;

/**
 * `ndsysctl KEY…`: `key=value` per key of /proc/sys, `key=<absent>` when
 * missing, with one grep for all (not a cat per key). Not the shell's own
 * `read`: dash reads byte by byte, and a /proc/sys file read at a non-zero
 * offset ends there (gc_thresh3 "1024" reads as "1").
 */
const READ_SYSCTLS = String.raw`ndsysctl() {
  p=; for s in "$@"; do if [ -r /proc/sys/$s ]; then p="$p $s"; else echo "$s=<absent>"; fi; done
  [ -n "$p" ] || return 0
  o=$(cd /proc/sys && grep -H '' $p)
  set -f; OIFS=$IFS; IFS='
'
  for l in $o; do echo "$${'{'}l%%:*}=$${'{'}l#*:}"; done
  IFS=$OIFS; set +f
  return 0
}`;

/**
 * (A held text is cut into lines by field splitting, `set -- $TEXT` with IFS
 * a newline: linear. dash matches `${X#*NL}` and `${X##*NL}` by retrying the
 * pattern at every position: quadratic, 0.2 s on a 30 KB text.)
 *
 * `ndlinkaddr PREFIX [all]`: sections PREFIX/link and PREFIX/addr from one
 * `ip -j -d addr show` (its objects hold every field `ip -d link` gives
 * that the parsers read, and the addresses): one ip where there were two.
 * With `all`, PREFIX/route and PREFIX/neigh come from the same ip
 * (`-batch`: three commands, one JSON array a line; `-d` then applies to
 * the routes too, which gain their type, protocol and scope, and leaves
 * the neighbours as they are). Where that is not exactly three arrays,
 * each section runs its own command, as before.
 */
const LINK_ADDR = String.raw`ndip3() {
  [ $# = 3 ] || return 1
  for l in "$@"; do case $l in "["*"]") ;; *) return 1 ;; esac; done
}
ndlinkaddr() {
  if [ "$2" = all ]; then
    LA=$(ip -j -d -batch - 2>/dev/null <<'NDIP'
addr show
route show
neigh show
NDIP
) || LA=
    p=$1
    set -f; OIFS=$IFS; IFS=$NL; set -- $LA; IFS=$OIFS; set +f
    if ndip3 "$@"; then
      secout "$p/link" "$1"; secout "$p/addr" "$1"; secout "$p/route" "$2"; secout "$p/neigh" "$3"
      LA=; return 0
    fi
    set -- "$p" all
  fi
  LA=$(ip -j -d addr show 2>/dev/null)
  if [ -n "$LA" ]; then secout "$1/link" "$LA"; secout "$1/addr" "$LA"
  else sec "$1/link" ip -j -d link show; sec "$1/addr" ip -j addr show; fi
  LA=
  if [ "$2" = all ]; then sec "$1/route" ip -j route show; sec "$1/neigh" ip -j neigh show; fi
  return 0
}`;

/**
 * Shell functions shared by all sections. `sec NAME CMD…` runs CMD with
 * stdout passed through, stderr tagged line by line, and the exit status
 * reported; `nssec` does the same inside a docker network namespace, through
 * dockerd's mount namespace when the file cannot be entered from ours (the
 * MountFlags=slave case).
 */
function prelude(marker: string): string {
  return String.raw`
M='${marker}'
export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
exec 4>&1
NL='
'
${SEC}
have() { command -v "$1" >/dev/null 2>&1; }
# ndrun TOOL ARG…: TOOL run with its arguments, or "TOOL: command not found" on stderr and status 127 (no sh -c for that).
ndrun() { have "$1" || { echo "$1: command not found" >&2; return 127; }; "$@"; }
${READ_SYSCTLS}
${LINK_ADDR}
NSPFX=""
nsrun() { $NSPFX nsenter --net="$NSF" -- "$@"; }
nssec() { n=$1; shift; sec "$n" nsrun "$@"; }
# One sandbox ($NSF), all its sections in one sh inside it (NDSB: sandboxBatch); then the names its DNS is asked.
ndsandbox() { $NSPFX nsenter --net="$NSF" -- sh -c "$NDSB" ndsb "$M" "$@" </dev/null 2>/dev/null || sec "netns/$1/enter" nsrun true; }
`;
}

/** Key material never leaves the node: any 0x-hex of 16+ digits (enc/auth/aead keys) is cut. */
const REDACT_XFRM = `sed -E "s/0x[0-9a-fA-F]{16,}/<redacted>/g"`;

/**
 * Secrets cut on the node from every text that may hold one, before it
 * leaves the node: dockerd's log, daemon.json, `docker info`, dockerd's
 * command line and its unit: hex keys of 16+ digits (`Key: 0x…` of the SAs
 * it fails to add for encrypted overlays), byte lists of 16+ bytes
 * (memberlist gossip `Keys:[[54 62 …] …]`), swarm join tokens and unlock
 * keys, `"Env":[…]` of API requests logged in debug mode (matched as JSON
 * strings, as is and escaped inside the log line's quoted message; one that
 * cannot be read as JSON loses the rest of its line), logging-driver options
 * (`LogDriver.Options`, `LogConfig.Config`, `log-opts`, `--log-opt k=v`),
 * values of secret-named keys (token, secret, password, credential, *-key),
 * and credentials in URLs. The rules are those of the bundle's last scan
 * (bundle/secrets.ts), so both learn a new rule together.
 */
export const REDACT_LOG = `sed -E ${nodeSedArgs()}`;

/** The same rules over a whole file at once (daemon.json: an object may span lines). */
export const REDACT_FILE = `sed -E -e ':a' -e '$!N' -e '$!ba' ${nodeSedArgs()}`;

/** Where dockerd logs when systemd does not run it (the lab: /var/log/docker.log), then syslog files. */
export const DOCKER_LOG_FILES = { own: ['/var/log/docker.log'], syslog: ['/var/log/daemon.log', '/var/log/messages', '/var/log/syslog'] };

/**
 * journald: dockerd's own entries only. `-u docker` would also return what
 * containers log through the journald log driver (dockerd writes those
 * entries itself: same unit, same _COMM). So: entries written by dockerd
 * (`_COMM=dockerd`) or tagged dockerd (`SYSLOG_IDENTIFIER=dockerd`), read
 * as journalctl's JSON (one entry a line), and every entry with a
 * `CONTAINER_ID` field dropped on the node: a container can choose its tag,
 * never the absence of that field.
 */
export const JOURNAL_MATCH = '_COMM=dockerd + SYSLOG_IDENTIFIER=dockerd';

/**
 * `journalctl -o json` lines to `dockerd[PID]: MESSAGE`. A key is the only
 * place a bare `"CONTAINER_ID":` can appear (inside a value its quotes are
 * escaped), so a line holding it is an entry to drop. MESSAGE is
 * unescaped (`\"`, `\\`, `\/`, `\t`); `\n` and `\uXXXX` stay escaped, so a
 * control character never reaches the output raw; a binary MESSAGE (an
 * array of bytes) is replaced by a note.
 */
export const JOURNAL_JSON_AWK = String.raw`awk 'index($0, "\"CONTAINER_ID\":") { next }
{ p = ""; if (match($0, /"_PID":"[0-9]+"/)) p = substr($0, RSTART + 8, RLENGTH - 9)
  if (match($0, /"MESSAGE":"([^"\\]|\\.)*"/)) {
    m = substr($0, RSTART + 11, RLENGTH - 12); o = ""
    while ((i = index(m, "\\")) > 0) {
      c = substr(m, i + 1, 1); o = o substr(m, 1, i - 1)
      if (c == "\"" || c == "\\" || c == "/") o = o c; else if (c == "t") o = o "\t"; else o = o "\\" c
      m = substr(m, i + 2)
    }
    m = o m
  } else if (index($0, "\"MESSAGE\":[")) m = "<binary message not shown>"
  else next
  print "dockerd[" p "]: " m }'`;

/**
 * The `host/docker-log` section: journald when systemd runs and has the
 * docker unit's log, else dockerd's own log file (from `since` on: lines
 * are kept from the first `time="…"` / `"time":"…"` stamp at or after it),
 * else the syslog files filtered for dockerd. Which source was read is
 * noted on stderr. The file's last `lines` lines are read before the
 * since filter (the same lines, as the filter keeps a suffix of a log
 * written in time order): awk parses at most `lines` stamps, however
 * long the file.
 */
export function dockerLogSection(o: { lines: number; since?: number; bytes?: number }, files = DOCKER_LOG_FILES): string {
  const lines = Math.max(1, Math.floor(o.lines));
  const since = o.since === undefined ? '' : String(Math.floor(o.since));
  if (!/^[0-9]*$/.test(since)) throw new Error(`docker log since must be seconds since the epoch, got ${since}`);
  const cap = o.bytes !== undefined && o.bytes > 0 ? ` | head -c ${Math.floor(o.bytes)}` : '';
  const quoted = (list: string[]) => list.map((f) => `'${f.replace(/'/g, '')}'`).join(' ');
  // Seconds since the epoch of an RFC 3339 stamp (Z or ±hh:mm), in any POSIX awk.
  // (In the pipeline itself, not in a function: dash forks once more to run a function there.)
  const sinceAwk = String.raw`awk -v S=${since} 'function ep(t,  y,m,d,H,M,s,o,z,era,yoe,doy,doe){y=substr(t,1,4)+0;m=substr(t,6,2)+0;d=substr(t,9,2)+0;H=substr(t,12,2)+0;M=substr(t,15,2)+0;s=substr(t,18,2)+0;o=0;z=substr(t,length(t)-5);if(z~/^[+-][0-9][0-9]:[0-9][0-9]$/){o=(substr(z,2,2)*3600+substr(z,5,2)*60);if(substr(z,1,1)=="-")o=-o};if(m<=2)y--;era=int(y/400);yoe=y-era*400;doy=int((153*(m+(m>2?-3:9))+2)/5)+d-1;doe=yoe*365+int(yoe/4)-int(yoe/100)+doy;return (era*146097+doe-719468)*86400+H*3600+M*60+s-o}
BEGIN{keep=1}
{t="";if(match($0,/time="[0-9][0-9][0-9][0-9]-[^"]*"/))t=substr($0,RSTART+6,RLENGTH-7);else if(match($0,/"time":"[0-9][0-9][0-9][0-9]-[^"]*"/))t=substr($0,RSTART+8,RLENGTH-9);if(t!="")keep=(ep(t)>=S+0);if(keep)print}'`;
  return String.raw`
ndlog() {
  if [ -d /run/systemd/system ] && have journalctl && [ -n "$(journalctl ${JOURNAL_MATCH} -n 1 --no-pager -q 2>/dev/null)" ]; then
    echo "docker log: journald (dockerd's own entries: journalctl ${JOURNAL_MATCH} -n ${lines}${since ? ` --since @${since}` : ''}, entries with CONTAINER_ID left out)" >&2
    journalctl ${JOURNAL_MATCH} -o json --no-pager -n ${lines}${since ? ` --since @${since}` : ''} | ${JOURNAL_JSON_AWK} | ${REDACT_LOG}${cap}
    return 0
  fi
  for f in ${quoted(files.own)}; do
    if [ -r "$f" ]; then
      echo "docker log: $f (last ${lines} lines${since ? ` since @${since}` : ''})" >&2
      ${since ? `tail -n ${lines} "$f" | ${sinceAwk}` : `tail -n ${lines} "$f"`} | ${REDACT_LOG}${cap}
      return 0
    fi
  done
  for f in ${quoted(files.syslog)}; do
    if [ -r "$f" ]; then
      echo "docker log: $f, dockerd lines (last ${lines})" >&2
      grep -E 'dockerd(\[[0-9]+\])?:' "$f" | tail -n ${lines} | ${REDACT_LOG}${cap}
      return 0
    fi
  done
  echo "no docker log found: systemd is not running docker, and none of ${[...files.own, ...files.syslog].join(', ')} is readable" >&2
  return 1
}
sec host/docker-log ndlog
`;
}

/**
 * The `host/kernel-log` section: the kernel's own lines about neighbour and
 * conntrack tables and vxlan, from journald (`journalctl -k`, ISO stamps,
 * from `since` on) or else `dmesg`, filtered on the node, at most `lines`
 * lines, redacted like dockerd's log. Finding nothing is not a failure.
 * One awk does the pattern (KERNEL_LOG_PATTERN, as grep -E would), the
 * since filter of dmesg's lines and the last `lines` (where grep, date, awk
 * and tail were four processes); the reader's failure comes through as a
 * last `ndkrc=N` line.
 */
export function kernelLogSection(o: { lines: number; since?: number }): string {
  const lines = Math.max(1, Math.floor(o.lines));
  const since = o.since === undefined ? '' : String(Math.floor(o.since));
  if (!/^[0-9]*$/.test(since)) throw new Error(`kernel log since must be seconds since the epoch, got ${since}`);
  // dmesg stamps lines in seconds since boot: those from @since on have stamp >= since - boot time
  // (/proc/stat's btime: the epoch second the kernel booted, as now - /proc/uptime gives it).
  const pick = (s: string) =>
    String.raw`awk -v s=${s || 0} -v N=${lines} 'BEGIN { c = -1; if (s > 0) { while ((getline l < "/proc/stat") > 0) if (l ~ /^btime /) { split(l, f, " "); c = s - f[2] }; close("/proc/stat") } }
    /^ndkrc=/ { rc = $0; next }
    !/${KERNEL_LOG_PATTERN}/ { next }
    c >= 0 && match($0, /^\[ *[0-9]+\.[0-9]+\]/) { if (substr($0, 2, RLENGTH - 2) + 0 < c) next }
    { b[n++ % N] = $0 }
    END { for (i = (n > N ? n - N : 0); i < n; i++) print b[i % N]; if (rc != "") print rc }'`;
  return String.raw`
ndklog() {
  if [ -d /run/systemd/system ] && have journalctl; then
    echo "kernel log: journald (journalctl -k${since ? ` --since @${since}` : ''})" >&2
    o=$( { journalctl -k -o short-iso --no-pager -q${since ? ` --since @${since}` : ''} || echo "ndkrc=$?"; } | ${pick('')} )
  elif have dmesg; then
    echo "kernel log: dmesg${since ? ` (lines stamped since @${since}, from /proc/stat's boot time)` : ''}" >&2
    o=$( { dmesg || echo "ndkrc=$?"; } | ${pick(since)} )
  else
    echo "no kernel log: neither journald nor dmesg is available" >&2; return 127
  fi
  r=0
  case $o in *ndkrc=*) r=$${'{'}o##*ndkrc=}; o=$${'{'}o%ndkrc=*}; o=$${'{'}o%'
'} ;; esac
  case $r in ''|*[!0-9]*) r=1 ;; esac
  [ -n "$o" ] && ${REDACT_LOG} <<NDTXT
$o
NDTXT
  return $r
}
sec host/kernel-log ndklog
`;
}

/**
 * awk rule joining dockerd's command line (one argument a record) into `c`
 * with spaces, the value of every `--log-opt k=v` / `--log-opt=k=v` cut
 * whatever it holds (spaces included).
 */
const CMDLINE_JOIN = String.raw`{ a = $0; if (v) { i = index(a, "="); a = (i ? substr(a, 1, i) : "") "<redacted>"; v = 0 } else if (a == "--log-opt") v = 1; else if (substr(a, 1, 10) == "--log-opt=") { q = substr(a, 11); i = index(q, "="); a = "--log-opt=" (i ? substr(q, 1, i) : "") "<redacted>" } c = c (n++ ? " " : "") a }`;

/**
 * Readers of texts that may hold secrets, each filtered through REDACT_LOG
 * (REDACT_FILE for daemon.json) on the node; the reader's exit status is
 * kept. Output is held in a shell variable, never in a file.
 *  - dockerd's command line: argument by argument (NUL-separated in /proc),
 *    the value of every `--log-opt k=v` / `--log-opt=k=v` cut whatever it
 *    holds (spaces included), then joined with spaces.
 */
export const SECRET_FILTERS = String.raw`
# A held text goes to a filter as a here-document (no process for printf: dash forks one per pipeline part).
ndredacted() {
  o=$("$@"); r=$?
  [ -n "$o" ] && ${REDACT_LOG} <<NDTXT
$o
NDTXT
  return $r
}
# NDCMDL: the joined line, from the awk that reads the socket and exec root (hostSections), else read here.
ndcmdline() {
  [ -n "$NDCMDL" ] || NDCMDL=$(tr '\0' '\n' < /proc/$DPID/cmdline | awk '${CMDLINE_JOIN} END { print c }')
  ${REDACT_LOG} <<NDCL
$NDCMDL
NDCL
}
# dockerd's API, read with curl on its unix socket when the node has curl (a
# C binary: a few ms, where each docker CLI run costs 25-80 ms of CPU, and
# 'docker info' also runs every CLI plugin's metadata command); else the CLI.
ndapi() { have curl && [ -S "$DSOCK" ] && curl -sS --fail --max-time 10 --unix-socket "$DSOCK" "http://docker$1"; }
# 'docker version' as the CLI prints it ({"Server": …}; the API's /version is that Server object), with containerd among its Components.
ndversion() {
  [ -n "$NDV" ] && { printf '{"Server":%s}\n' "$NDV"; return 0; }
  o=$(ndapi /version 2>/dev/null) && [ -n "$o" ] && { printf '{"Server":%s}\n' "$o"; return 0; }
  have docker || { echo "docker: command not found" >&2; return 127; }
  docker version --format '{{json .}}'
}
ndinfo() {
  if [ -n "$NDI" ]; then
    ${REDACT_LOG} <<NDTXT
$NDI
NDTXT
    return 0
  fi
  o=$(ndapi /info 2>/dev/null) && [ -n "$o" ] && { printf '%s\n' "$o" | ${REDACT_LOG}; return 0; }
  have docker || { echo "docker: command not found" >&2; return 127; }
  ndredacted docker info --format '{{json .}}'
}
nddaemonjson() {
  o=$(cat /etc/docker/daemon.json); r=$?
  [ -n "$o" ] && ${REDACT_FILE} <<NDTXT
$o
NDTXT
  return $r
}
`;

/** The swarm-scoped overlays the manager knows (their ids): each node's own view of them is read (host/network-views). */
export function overlayIds(c: Pick<ClusterFacts, 'networks'>): string[] {
  return c.networks.filter((n) => n.driver === 'overlay' && n.scope === 'swarm').map((n) => n.id);
}

/** At most this much of the API's answers is held (the views' own cap, plus /version and /info). */
const API_HOLD_BYTES = 5 * 2 ** 20;

/**
 * dockerd's API in one curl (each curl costs ~10 ms of CPU in dynamic
 * loading alone): /version, when the manager's overlay ids are given each
 * one's verbose view, and /info last, one JSON document a line (dockerd
 * ends every answer with a newline). Held in NDV, NDI and NDN for the sections
 * that print them; an answer that is not what was asked (an error body,
 * nothing) leaves its variable empty, and the section asks again its own way.
 */
function apiFetch(overlayIds: readonly string[] | undefined): string {
  const ids = [...new Set((overlayIds ?? []).filter((i) => /^[0-9a-z]{1,64}$/.test(i)))].slice(0, NETWORK_VIEW_LIMITS.networks);
  const views = ids.map((i) => ` http://docker/networks/${i}?verbose=true`).join('');
  return String.raw`NDV=; NDI=; NDN=; NDVIEWS=
if have curl && [ -S "$DSOCK" ]; then
  o=$(curl -sS --max-time ${NETWORK_VIEW_LIMITS.seconds} --unix-socket "$DSOCK" http://docker/version${views} http://docker/info 2>/dev/null | head -c ${API_HOLD_BYTES})
  # /version first, /info last, the views between (lines by field splitting: see LINK_ADDR;
  # the views as they came: the text less its first line, /version's, and its last).
  set -f; OIFS=$IFS; IFS=$NL; set -- $o; IFS=$OIFS; set +f
  [ $# -ge 1 ] && NDV=$1
  [ $# -ge 2 ] && eval "NDI=\$${'{'}$#}"
  if [ $# -ge 3 ]; then m=$${'{'}o%"$NL"*}; NDN=$${'{'}m#*"$NL"}; m=; fi
  set --
  case $NDV in *'"ApiVersion"'*) ;; *) NDV= ;; esac
  case $NDI in *'"ServerVersion"'*) NDVIEWS=${ids.length ? 'read' : ''} ;; *) NDI= ;; esac
fi
`;
}

/**
 * dockerd's command line, read once: its API socket, its exec root and the
 * line host/dockerd-cmdline prints (DSOCK, NDROOT, NDCMDL).
 */
const DOCKERD_ARGS = String.raw`# From dockerd's command line, read once: its API socket (ndapi: the first
# unix:// of -H/--host, else the default), its exec root (--exec-root,
# where the sandboxes' netns files are; default /var/run/docker), and the
# line host/dockerd-cmdline prints (NDCMDL, --log-opt values cut).
DSOCK=/var/run/docker.sock; NDROOT=; NDCMDL=
if [ -n "$DPID" ]; then
  o=$(tr '\0' '\n' < /proc/$DPID/cmdline | awk '
    ${CMDLINE_JOIN}
    p == "H" { if (sub(/^unix:\/\//, "") && s == "") s = $0; p = ""; next }
    p == "R" { if (r == "") r = $0; p = ""; next }
    /^(-H|--host)$/ { p = "H"; next }
    /^--exec-root$/ { p = "R"; next }
    /^(-H=?|--host=)unix:\/\// { if (s == "") { sub(/^(-H=?|--host=)unix:\/\//, ""); s = $0 } next }
    /^--exec-root=/ { if (r == "") { sub(/^--exec-root=/, ""); r = $0 } next }
    END { print "c:" c; print "s:" s; print "r:" r }')
  h=; set -f; OIFS=$IFS; IFS=$NL; set -- $o; IFS=$OIFS; set +f
  for l in "$@"; do
    case $l in c:*) NDCMDL=$${'{'}l#c:} ;; s:*) h=$${'{'}l#s:} ;; r:*) NDROOT=$${'{'}l#r:} ;; esac
  done
  set --
  [ -n "$h" ] && DSOCK=$h
fi
`;

/** The node's clock (first: compared with ours at the exec's start), and dockerd's pid and exec root (the sandboxes need them). */
function clockAndDockerdSections(): string {
  return String.raw`${SECRET_FILTERS}
sec host/clock date -u +%s.%N
DPIDS=$(pidof dockerd 2>/dev/null); DPID=$${'{'}DPIDS%% *}
ndpid() { [ -n "$DPIDS" ] || { echo "dockerd is not running" >&2; return 1; }; echo "$DPIDS"; }
if [ -n "$DPIDS" ]; then secout host/dockerd-pid "$DPIDS"; else sec host/dockerd-pid ndpid; fi
${DOCKERD_ARGS}`;
}

/** Who the node is (read after the sandboxes: nothing waits for these). */
function hostIdentitySections(): string {
  return String.raw`sec host/hostname hostname
sec host/uname uname -srm
sec host/os-release cat /etc/os-release
sec host/id id -u`;
}

/** Host-level sections: versions, dockerd, kernel, sysctls, firewall, links, sockets. */
function hostSections(opts: ScriptOptions): string {
  const modules = KERNEL_MODULES.join(' ');
  const sysctls = SYSCTLS.join(' ');
  const port = opts.dataPathPort;
  return String.raw`${apiFetch(opts.overlayIds)}if [ -n "$DPID" ]; then
  sec host/dockerd-cmdline ndcmdline
  ndmountns() { echo "self=$(readlink /proc/self/ns/mnt) dockerd=$(readlink /proc/$DPID/ns/mnt)"; }
  sec host/mountns ndmountns
fi
if [ -n "$NDV" ]; then secout host/docker-version "{\"Server\":$NDV}"; else sec host/docker-version ndversion; fi
sec host/docker-info ndinfo
sec host/daemon-json nddaemonjson
${opts.dockerLog && opts.dockerLog.lines > 0 ? dockerLogSection(opts.dockerLog) + kernelLogSection(opts.dockerLog) : ''}if [ -d /run/systemd/system ] && have systemctl; then
  sec host/systemd-docker ndredacted systemctl show docker --property=MountFlags,ExecStart,FragmentPath,DropInPaths,ActiveState
else
  ndnosystemd() { echo "systemd is not running on this node" >&2; return 127; }
  sec host/systemd-docker ndnosystemd
fi
# The unit files that exist, each as "# FILE" and its MountFlags/ExecStart lines: one awk for all.
ndunits() {
  set --; for f in /etc/systemd/system/docker.service /lib/systemd/system/docker.service /usr/lib/systemd/system/docker.service /etc/systemd/system/docker.service.d/*.conf; do [ -f "$f" ] && set -- "$@" "$f"; done
  [ $# -gt 0 ] || return 0
  awk 'FNR == 1 { print "# " FILENAME } /^[[:space:]]*(MountFlags|ExecStart)=/' "$@"
}
sec host/unit-files ndredacted ndunits
# A module is present when /sys/module has it, else when /proc/modules lists it (read once, only if needed).
ndmodules() {
  pm=; rd=
  for m in "$@"; do
    if [ -d /sys/module/$m ]; then echo "$m present"; continue; fi
    [ -n "$rd" ] || { pm=$(cat /proc/modules 2>/dev/null); rd=1; }
    case "$NL$pm" in *"$NL$m "*) echo "$m present" ;; *) echo "$m absent" ;; esac
  done
}
sec host/modules ndmodules ${modules}
sec host/sysctl ndsysctl ${sysctls}
sec host/iptables-version ndrun iptables -V
sec host/iptables-save ndrun iptables-save
sec host/iptables-legacy-save ndrun iptables-legacy-save
sec host/iptables-nft-save ndrun iptables-nft-save
ndlinkaddr host
sec host/route ip -j route show
# Physical links only (those with a device); the glob is sorted as ls sorts under LC_ALL=C.
ndethtool() {
  have ethtool || { echo "ethtool: command not found" >&2; return 127; }
  for d in /sys/class/net/*; do
    i=$${'{'}d##*/}
    [ -e /sys/class/net/$i/device ] || continue; echo "## $i $(basename $(readlink /sys/class/net/$i/device/driver) 2>/dev/null)"; ethtool -k $i 2>&1 | grep -E "^[[:space:]]*(tx-checksum|tx-checksumming|rx-checksumming|tx-udp_tnl|generic-segmentation|tcp-segmentation)"
  done
}
sec host/ethtool ndethtool
sec host/listen ndrun ss -Htulnp "( sport = :2377 or sport = :7946 or sport = :${port} )"
`;
}

/**
 * Sandboxes: everything under dockerd's exec root netns folder. The exec root
 * comes from dockerd's command line (--exec-root), default /var/run/docker.
 */
function sandboxSections(opts: ScriptOptions): string {
  const encrypted = (opts.encryptedPrefixes ?? []).filter((p) => /^[0-9a-z]+$/.test(p)).join(' ');
  return String.raw`
ENCRYPTED="${encrypted}"
EXECROOT=$${'{'}NDROOT:-/var/run/docker}
NSDIR=$EXECROOT/netns
# One ls: the section, the first sandbox and the loop (the failure's own words come from a second ls).
if NSLS=$(ls -1 $NSDIR 2>/dev/null); then secout netns/list "$NSLS"; else sec netns/list sh -c "ls -1 $NSDIR"; fi
# Decide once how sandboxes are entered: directly, or through dockerd's mount namespace.
ACCESS=direct
FIRST=$${'{'}NSLS%%"$NL"*}
if [ -n "$FIRST" ] && ! nsenter --net="$NSDIR/$FIRST" -- true 2>/dev/null && [ -n "$DPID" ]; then
  if nsenter -t "$DPID" -m -- nsenter --net="$NSDIR/$FIRST" -- true 2>/dev/null; then
    ACCESS=dockerd-mount-ns
    NSPFX="nsenter -t $DPID -m --"
  fi
fi
secout netns/access "$ACCESS"
NDSB=${quoteSh(sandboxBatch())}
${dnsSections(opts.dns ?? [])}# Overlay sandboxes (libnetwork's <epoch>-<network id>) first: the client starts the overlay pings,
# whose VXLAN frames can teach their FDBs a learned entry, once these are read (probe/run.ts earlyProbes).
for S in $NSLS; do case $S in [0-9]*-*) NSF=$NSDIR/$S; ndqnames "$S"; ndsandbox "$S" $NDQA ;; esac; done
for S in $NSLS; do case $S in [0-9]*-*) ;; *) NSF=$NSDIR/$S; ndqnames "$S"; ndsandbox "$S" $NDQA ;; esac; done
# IPsec of encrypted overlays: libnetwork programs its SAs and policies through
# its netlink handle of dockerd's own (host) namespace, not in the sandboxes.
if [ -n "$ENCRYPTED" ]; then
  sec host/xfrm-state sh -c 'ip xfrm state | ${REDACT_XFRM}'
  sec host/xfrm-policy ip xfrm policy
fi
`;
}

/** Above this many bytes of `iptables-save`, the sandbox's tables are read one by one (see IPT_SPLIT). */
export const IPT_SPLIT_MAX_BYTES = 65536;

/**
 * `ndipt`, in a load-balancer or ingress sandbox: sections iptables-mangle and
 * iptables-nat from one `iptables-save` of every table, each the table's
 * block as `iptables-save -t TABLE` prints it (`# Generated by` … `*TABLE` …
 * `COMMIT` … `# Completed on`); a table the dump lacks (the nft backend
 * lists only tables that exist, where `-t` prints an empty one: the lab's
 * mangle without IPVS) by its own command. Its stderr is held with its
 * stdout, so anything that is not such a block (a warning, a line cut by
 * one), a failure, or a dump above IPT_SPLIT_MAX_BYTES (the blocks are
 * joined line by line) and each table is read by its own command, as before.
 */
const IPT_SPLIT = String.raw`ndipt() {
  A=$(iptables-save 2>&1) && [ -n "$A" ] && [ $${'{'}#A} -le ${IPT_SPLIT_MAX_BYTES} ] || { ndipt1; return 0; }
  T=; B=; MG=; NT=; bad=
  set -f; OIFS=$IFS; IFS=$NL; set -- $A; IFS=$OIFS; set +f
  A=
  for l in "$@"; do
    case $l in
      "# Generated by "*) [ -z "$T" ] || bad=1; T=-; B=$l ;;
      "*"*) [ "$T" = - ] || bad=1; T=$${'{'}l#?}; B=$B$NL$l ;;
      :*|"-A "*|COMMIT) case $T in ""|-) bad=1 ;; esac; B=$B$NL$l ;;
      "# Completed on "*)
        case $T in ""|-) bad=1 ;; esac
        B=$B$NL$l
        case $T in mangle) MG=$B ;; nat) NT=$B ;; esac
        T=; B= ;;
      *) bad=1 ;;
    esac
  done
  if [ -n "$bad$T" ]; then ndipt1; return 0; fi
  # A table the dump does not hold (nft lists only the tables that exist; -t prints an empty one) by its own command.
  if [ -n "$MG" ]; then secout netns/$S/iptables-mangle "$MG"; else sec netns/$S/iptables-mangle iptables-save -t mangle; fi
  if [ -n "$NT" ]; then secout netns/$S/iptables-nat "$NT"; else sec netns/$S/iptables-nat iptables-save -t nat; fi
  MG=; NT=; B=
}
ndipt1() {
  sec netns/$S/iptables-mangle iptables-save -t mangle
  sec netns/$S/iptables-nat iptables-save -t nat
}`;

/** Sysctls read inside each load-balancer sandbox (/proc/sys/net is per network namespace). */
export const LB_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv4/vs/conn_reuse_mode',
  'net/ipv4/vs/expire_nodest_conn',
  'net/ipv4/vs/expire_quiescent_template',
] as const;

/** A string as one single-quoted shell word. */
export const quoteSh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Everything read inside one sandbox, as one `sh` run inside it (one
 * `nsenter` per sandbox, not one per section: most of a collection's node
 * CPU was those execs). Arguments: the run's marker, the sandbox name, and
 * the names to ask its embedded DNS (none for most sandboxes).
 * Its `sec` is the prelude's; its sections are those the sandbox kind has:
 *  - every sandbox: link, addr;
 *  - overlay (`<epoch>-*`, `1-*` unless libnetwork re-made it), load-balancer (`lb_*`) and `ingress_sbox`: route, neigh;
 *  - overlay: the bridge FDB;
 *  - load-balancer and ingress: mangle and nat tables, IPVS (`ipvsadm -Ln`
 *    only when the kernel already has IPVS: ipvsadm would otherwise modprobe
 *    ip_vs, and the doctor must not change the node), the namespace's own
 *    sysctls (`/proc/sys/net` is per network namespace: `<absent>` when the
 *    key does not exist, e.g. net/ipv4/vs/* without IPVS) and IPVS timeouts;
 *  - a load-balancer sandbox that has a DNS plan: its embedded DNS
 *    (section dns; the names follow the sandbox name, see dnsSections).
 * It ends with status 0, so a failure of the batch is a failure to enter.
 */
export function sandboxBatch(): string {
  return String.raw`M=$1; S=$2; shift 2
NL='
'
exec 4>&1
${SEC}
ndipvs() {
  if [ ! -e /proc/net/ip_vs ]; then echo "IPVS is not available in this kernel (no /proc/net/ip_vs; ip_vs module not loaded)" >&2; return 3; fi
  command -v ipvsadm >/dev/null 2>&1 || { echo "ipvsadm: command not found" >&2; return 127; }
  ipvsadm "$@"
}
${READ_SYSCTLS}
${LINK_ADDR}
${IPT_SPLIT}
case "$S" in
  [0-9]*-*|lb_*|ingress_sbox) ndlinkaddr netns/$S all ;;
  *) ndlinkaddr netns/$S ;;
esac
case "$S" in
  [0-9]*-*)
    sec netns/$S/fdb bridge -j fdb show
    ;;
  lb_*|ingress_sbox)
    ndipt
    sec netns/$S/ipvs ndipvs -Ln
    sec netns/$S/sysctl ndsysctl ${LB_SYSCTLS.join(' ')}
    sec netns/$S/ipvs-timeout ndipvs -L --timeout
    ;;
esac
# The embedded DNS of a load-balancer sandbox: the names left in "$@" (dnsSections), with the resolver in NDQ.
if [ $# -gt 0 ]; then
  if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1 && command -v od >/dev/null 2>&1; then sec netns/$S/dns bash -c "$NDQ" ndq "$@"
  else
    ndnodns() { echo "bash, timeout (coreutils) or od missing: cannot query the embedded DNS" >&2; return 127; }
    sec netns/$S/dns ndnodns
  fi
fi
exit 0`;
}

/** The swarm's underlay addresses: nodes' advertise addresses and the hosts of network endpoints and peers. */
export function underlayPeers(c: Pick<ClusterFacts, 'nodes' | 'networks'>): string[] {
  const all = [
    ...c.nodes.map((n) => n.advertiseAddress ?? ''),
    ...c.networks.flatMap((n) => [...n.peers.map((p) => p.ip), ...n.endpoints.map((e) => e.hostIp)]),
  ];
  return [...new Set(all.filter((a) => a !== ''))];
}

/** At most this many `ip route get` (one per underlay peer). */
export const ROUTE_GET_MAX = 64;

const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]{2,39})$/;

/**
 * `host/route-get`: the host namespace's route toward every underlay peer
 * (`ip -j route get <ip>`, one JSON array a line): its `prefsrc` is the outer
 * source of VXLAN frames toward that peer when vxlan0 has no `local`.
 * Addresses come from the swarm, so only IP literals pass.
 */
export function routeGetSection(peers: readonly string[]): string {
  const ips = [...new Set(peers.filter((p) => IP_LITERAL.test(p)))].slice(0, ROUTE_GET_MAX);
  if (ips.length === 0) return '';
  // One ip for all (-batch; -force goes on past a peer with no route, whose line is then missing).
  return `ndroutes() { have ip || { echo "ip: command not found" >&2; return 127; }; printf 'route get %s\\n' "$@" | ip -j -force -batch -; return 0; }
sec host/route-get ndroutes ${ips.join(' ')}\n`;
}

/**
 * Host tables and neighbours of the host sections, read-only and bounded:
 *  - host/resolv: the nameserver lines of /etc/resolv.conf and of
 *    systemd-resolved's upstream file (Docker reads the latter when the
 *    former points at 127.0.0.53), at most 16 per file;
 *  - host/arp-cache: /proc/net/stat/arp_cache (the IPv4 neighbour table's
 *    entry count and table_fulls; one line per CPU, at most 1025 lines; only
 *    the host's network namespace has it);
 *  - host/nmcli: NetworkManager's view of the devices, terse, at most 2048
 *    lines and 5 s (where nmcli exists; `timeout` when the node has it).
 */
function hostTableSections(): string {
  return String.raw`
# Every readable file as "# FILE" and its first 16 nameserver lines: one awk for both.
ndresolv() {
  set --; for f in /etc/resolv.conf /run/systemd/resolve/resolv.conf; do [ -r "$f" ] && set -- "$@" "$f"; done
  [ $# -gt 0 ] || return 0
  awk 'BEGIN { for (i = 1; i < ARGC; i++) { f = ARGV[i]; print "# " f; n = 0
    while (n < 16 && (getline l < f) > 0) if (l ~ /^[[:space:]]*nameserver[[:space:]]/) { print l; n++ }
    close(f) } }' "$@"
}
sec host/resolv ndresolv
ndarpcache() {
  [ -r /proc/net/stat/arp_cache ] || { echo "no /proc/net/stat/arp_cache: not the host network namespace, or no IPv4" >&2; return 1; }
  head -n 1025 /proc/net/stat/arp_cache
}
sec host/arp-cache ndarpcache
ndnmcli() {
  have nmcli || { echo "nmcli: command not found" >&2; return 127; }
  T=""; have timeout && T="timeout 5"
  o=$($T nmcli -t -f DEVICE,STATE,CONNECTION device); r=$?
  [ -n "$o" ] && printf '%s
' "$o" | head -n 2048
  return $r
}
sec host/nmcli ndnmcli
`;
}

/**
 * The package dockerd came from (`host/docker-package`), so a remediation
 * names what the node really upgrades (docker.io, docker-ce, moby-engine…).
 * The binary is the running dockerd's (/proc/PID/exe), else the one on PATH.
 * dpkg: its file lists of packages named *docker* or *moby* only (a full
 * `dpkg -S` reads every list on the host: too slow); rpm: `rpm -qf`; a
 * snap by its path. Prints `exe PATH` and `package MANAGER NAME`, or
 * `package none` when no package owns it (a static binary, an unpacked tree).
 */
export const DOCKER_PACKAGE = String.raw`
ndpkg() {
  b=""
  [ -n "$DPID" ] && b=$(readlink -f /proc/$DPID/exe 2>/dev/null)
  [ -n "$b" ] || b=$(command -v dockerd 2>/dev/null)
  [ -n "$b" ] || { echo "dockerd: not running and not on PATH" >&2; return 1; }
  echo "exe $b"
  case $b in /snap/*/*) b=$${'{'}b#/snap/}; echo "package snap $${'{'}b%%/*}"; return 0 ;; esac
  if [ -d /var/lib/dpkg/info ]; then
    # One grep over every list (-l: the lists holding the path, in the globs' order; the first wins).
    set --; for f in /var/lib/dpkg/info/*docker*.list /var/lib/dpkg/info/*moby*.list; do [ -f "$f" ] && set -- "$@" "$f"; done
    f=; [ $# -gt 0 ] && f=$(grep -lxF -- "$b" "$@")
    if [ -n "$f" ]; then f=$${'{'}f%%"$NL"*}; f=$${'{'}f##*/}; f=$${'{'}f%.list}; echo "package dpkg $${'{'}f%%:*}"; return 0; fi
  fi
  if have rpm; then
    p=$(rpm -qf --qf '%{NAME}\n' "$b" 2>/dev/null | head -n1)
    case $p in ""|*" "*|*"not owned"*) ;; *) echo "package rpm $p"; return 0 ;; esac
  fi
  echo "package none"
}
sec host/docker-package ndpkg
`;

/**
 * Caps of the node's own network view (section `host/network-views`): at most
 * this many swarm overlays, this much output, this long for the docker CLI.
 */
export const NETWORK_VIEW_LIMITS = { networks: 64, bytes: 4 * 2 ** 20, seconds: 10 } as const;

/**
 * The node's own NetworkDB view (FAILURES.md #7): `docker network inspect
 * --verbose` of every swarm-scoped overlay the node has, read-only, one JSON
 * object a line, bounded in networks, bytes and time. Through dockerd's API
 * socket with curl where the node has it (the whole object, through the
 * same secret filter as `docker info`; the parser keeps Id, Name, Peers and
 * Services), else through the node's docker CLI with only those four fields.
 * A node with neither curl nor the CLI (or without `timeout`) says so on stderr.
 */
export function networkViewSection(limits = NETWORK_VIEW_LIMITS): string {
  // index, not .Peers: a network the node knows only by its swarm record has no Peers/Services key, and docker's templates fail on a missing key.
  const fmt = `{"Id":{{json .Id}},"Name":{{json .Name}},"Peers":{{json (index . "Peers")}},"Services":{{json (index . "Services")}}}`;
  return String.raw`
ndnetviews() {
  # Read with /version and /info (apiFetch) when the manager's overlay ids were given.
  if [ -n "$NDVIEWS" ]; then
    [ -n "$NDN" ] && ${REDACT_LOG} <<NDTXT | head -c ${limits.bytes}
$NDN
NDTXT
    return 0
  fi
  # Else through the API when curl is there (two short C processes, not two docker
  # CLI runs): the same objects, one a line, each cut to its fields by the parser.
  if l=$(ndapi '/networks?filters=%7B%22driver%22%3A%5B%22overlay%22%5D%2C%22scope%22%3A%5B%22swarm%22%5D%7D' 2>/dev/null); then
    set --
    for i in $(printf '%s\n' "$l" | grep -oE '"Id":"[0-9a-z]+"' | head -n ${limits.networks}); do
      i=$${'{'}i#'"Id":"'}; set -- "$@" "http://docker/networks/$${'{'}i%'"'}?verbose=true"
    done
    [ $# -gt 0 ] || return 0
    curl -sS --max-time ${limits.seconds} --unix-socket "$DSOCK" -w '\n' "$@" | grep -v '^$' | ${REDACT_LOG} | head -c ${limits.bytes}
    return 0
  fi
  have docker || { echo "docker: command not found" >&2; return 127; }
  have timeout || { echo "timeout: command not found (coreutils), the docker CLI is not run unbounded" >&2; return 127; }
  ids=$(timeout ${limits.seconds} docker network ls -q --no-trunc --filter driver=overlay --filter scope=swarm) || return $?
  ids=$(printf '%s\n' "$ids" | grep -E '^[0-9a-z]+$' | head -n ${limits.networks})
  [ -n "$ids" ] || return 0
  o=$(timeout ${limits.seconds} docker network inspect --verbose --format '${fmt}' $ids); r=$?
  [ -n "$o" ] && printf '%s\n' "$o" | head -c ${limits.bytes}
  return $r
}
sec host/network-views ndnetviews
`;
}

/** Caps of the embedded-DNS queries (sections `netns/lb_<prefix>/dns`): per node, per answer, and timeouts in a row before a sandbox's resolver is taken for dead. */
export const DNS_LIMITS = { queries: 32, answerSec: 0.3, deadAfter: 3 } as const;

/** What to ask the embedded DNS of one network's load-balancer sandbox (`lb_<first 9 of the network id>`). */
export interface DnsPlan {
  prefix: string;
  names: string[];
}

/** Names docker's embedded DNS answers for: service names ([a-zA-Z0-9][a-zA-Z0-9_.-]*), `tasks.` prefixed. */
const DNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,250}$/;

/**
 * Per swarm overlay (not ingress, which has no service records): every
 * service attached to it, as `<service>` (its VIP, or its tasks for dnsrr)
 * and `tasks.<service>`, capped at DNS_LIMITS.queries per node over all networks.
 */
export function dnsPlan(cluster: {
  networks: { id: string; driver: string; ingress: boolean }[];
  services: { name: string; networks: string[]; vips: { networkId: string }[] }[];
}): DnsPlan[] {
  let left: number = DNS_LIMITS.queries;
  const out: DnsPlan[] = [];
  for (const n of cluster.networks) {
    if (n.driver !== 'overlay' || n.ingress || !/^[0-9a-z]{9,}$/.test(n.id)) continue;
    const names: string[] = [];
    for (const s of cluster.services) {
      if (!DNS_NAME.test(s.name) || left < 2) continue;
      if (!s.networks.includes(n.id) && !s.vips.some((v) => v.networkId === n.id)) continue;
      names.push(s.name, `tasks.${s.name}`);
      left -= 2;
    }
    if (names.length) out.push({ prefix: n.id.slice(0, 9), names });
  }
  return out;
}

/**
 * A tiny resolver for docker's embedded DNS (127.0.0.11:53), in bash: every
 * A query sent at once, one datagram each through one /dev/udp socket
 * (built with `printf -v`, no subshell), then all the answers read by one
 * `dd` under one `timeout` (one datagram a read) and one `od`, and decoded
 * by one awk, which walks the answers one after the other (header,
 * question, every record) and matches them to the queries by id: three
 * processes for any number of names, where one process set a name cost
 * 5 ms of node CPU each. Prints, in the order asked, `NAME rcode=N IP…`,
 * `NAME timeout` (no answer in time: docker's resolver forwards names it
 * does not know to the node's upstream servers, so a missing record often
 * looks like this), or `NAME skipped` for every name after the first
 * `deadAfter` when those all went unanswered and none before them was
 * answered (the sandbox's resolver is not answering at all; as when the
 * queries went one by one). Nothing is written but to its own socket; no
 * image, no tool beyond bash, coreutils and awk.
 */
export const DNS_RESOLVER = String.raw`ndq() {
  id=4660
  if ! exec 3<>/dev/udp/127.0.0.11/53; then for name in "$@"; do echo "$name error"; done; return 0; fi
  for name in "$@"; do
    id=$((id + 1))
    printf -v q '\\%03o\\%03o\\001\\000\\000\\001\\000\\000\\000\\000\\000\\000' $((id / 256)) $((id % 256))
    rest=$name
    while [ -n "$rest" ]; do
      l=$${'{'}rest%%.*}
      if [ "$l" = "$rest" ]; then rest=; else rest=$${'{'}rest#*.}; fi
      printf -v h '\\%03o' $${'{'}#l}; q+="$h$l"
    done
    q+="\\000\\000\\001\\000\\001"
    printf "$q" >&3 2>/dev/null
  done
  timeout ${DNS_LIMITS.answerSec} dd bs=1500 count=$# <&3 2>/dev/null | od -An -v -tu1 | awk -v names="$*" -v dead=${DNS_LIMITS.deadAfter} '
    function skip(p) { while (p < c) { if (b[p] == 0) return p + 1; if (b[p] >= 192) return p + 2; p += b[p] + 1 } return p }
    { for (i = 1; i <= NF; i++) b[c++] = $i }
    END {
      p = 0
      while (p + 12 <= c && b[p + 2] >= 128) {
        id = b[p] * 256 + b[p + 1]; rc = b[p + 3] % 16; qd = b[p + 4] * 256 + b[p + 5]; an = b[p + 6] * 256 + b[p + 7]
        rr = an + b[p + 8] * 256 + b[p + 9] + b[p + 10] * 256 + b[p + 11]; p += 12
        for (k = 0; k < qd && p < c; k++) p = skip(p) + 4
        out = " rcode=" rc
        for (k = 0; k < rr && p < c; k++) {
          p = skip(p); t = b[p] * 256 + b[p + 1]; len = b[p + 8] * 256 + b[p + 9]; p += 10
          if (k < an && t == 1 && len == 4 && p + 3 < c) out = out " " b[p] "." b[p + 1] "." b[p + 2] "." b[p + 3]
          p += len }
        if (!(id in res)) res[id] = out
      }
      n = split(names, nm, " "); ok = 0; lost = 0
      for (i = 1; i <= n; i++) {
        if (!ok && lost >= dead) { print nm[i] " skipped"; continue }
        if ((4660 + i) in res) { ok = 1; print nm[i] res[4660 + i] } else { lost++; print nm[i] " timeout" }
      }
    }'
  exec 3<&-
}
ndq "$@"`;

/** The plans' names, checked again (service names, `tasks.` prefixed), for the lb sandboxes that have a plan. */
function dnsNames(plans: readonly DnsPlan[]): { sandbox: string; names: string[] }[] {
  return plans
    .filter((p) => /^[0-9a-z]+$/.test(p.prefix))
    .map((p) => ({
      sandbox: `lb_${p.prefix}`,
      names: p.names.filter((n) => DNS_NAME.test(n) || (n.startsWith('tasks.') && DNS_NAME.test(n.slice(6)))),
    }))
    .filter((p) => p.names.length > 0);
}

/**
 * Embedded DNS as each node's load-balancer sandbox of a network sees it
 * (FAILURES.md #23): the plan's names resolved at 127.0.0.11 inside
 * `lb_<prefix>`, by the sandbox's own batch (sandboxBatch: no second
 * nsenter): `ndqnames SANDBOX` sets NDQA to the names to ask there (none
 * for a sandbox without a plan), and NDQ (exported, so the batch's sh has
 * it) holds the resolver. Bounded by DNS_LIMITS.
 */
export function dnsSections(plans: readonly DnsPlan[]): string {
  const asks = dnsNames(plans);
  if (asks.length === 0) return 'ndqnames() { NDQA=; }\n';
  const cases = asks.map((a) => `  ${a.sandbox}) NDQA='${a.names.join(' ')}' ;;`).join('\n');
  return `NDQ=${quoteSh(DNS_RESOLVER)}; export NDQ
ndqnames() {
  case $1 in
${cases}
  *) NDQA= ;;
  esac
}
`;
}

/** At most this many conntrack entries, and this many published UDP ports asked about. */
export const CONNTRACK_UDP_LIMITS = { entries: 1000, ports: 256 } as const;

/** Where the kernel shows the table, and whether nf_conntrack is loaded at all. */
export const CONNTRACK_FILES = { table: '/proc/net/nf_conntrack', count: '/proc/sys/net/netfilter/nf_conntrack_count' } as const;

/** Every UDP port a service publishes, ingress or host mode (integers 1–65535 only). */
export function publishedUdpPorts(c: Pick<ClusterFacts, 'services'>): number[] {
  const ports = c.services.flatMap((s) => s.ports.filter((p) => p.protocol.toLowerCase() === 'udp').map((p) => p.publishedPort));
  return [...new Set(ports.filter((p): p is number => Number.isInteger(p) && p !== null && p > 0 && p <= 65535))].sort((a, b) => a - b);
}

/**
 * `host/conntrack-udp` (FAILURES.md #13): the host namespace's UDP conntrack
 * entries whose original destination port is a published UDP port, as the
 * kernel prints them: one grep -F and one awk over /proc/net/nf_conntrack, else
 * `conntrack -L -p udp` where the proc file is absent and the tool exists; at most
 * CONNTRACK_UDP_LIMITS.entries lines. Nothing when no UDP port is published;
 * no output (rc 0, a note on stderr) when nf_conntrack is not loaded.
 */
export function conntrackUdpSection(
  ports: readonly number[],
  limits: { entries: number; ports: number } = CONNTRACK_UDP_LIMITS,
  files: { table: string; count: string } = CONNTRACK_FILES,
): string {
  const q = (f: string) => `'${f.replace(/'/g, '')}'`;
  const valid = [...new Set(ports.filter((p) => Number.isInteger(p) && p > 0 && p <= 65535))].slice(0, limits.ports);
  if (valid.length === 0) return '';
  // The first dport= is the original direction's; proc lines start with the family (udp is field 3), conntrack -L's with udp.
  // conntrack -L's exit status comes through the pipe as a last `ndrc N` line (POSIX sh has no pipefail).
  const awk = (rc = '') =>
    `awk -v P=" ${valid.join(' ')} " -v N=${limits.entries} '${rc}$1 == "udp" || $3 == "udp" { for (i = 2; i <= NF; i++) if (substr($i, 1, 6) == "dport=") { if (index(P, " " substr($i, 7) " ")) { print; if (++n >= N) exit } break } }'`;
  // grep -F first (one pass, many fixed strings: ~20 times cheaper than awk's field loop over a full 262144-entry table).
  const grep = `grep -F ${valid.map((p) => `-e ' dport=${p} '`).join(' ')}`;
  return String.raw`
ndctudp() {
  if [ -r ${q(files.table)} ]; then
    ${grep} ${q(files.table)} | ${awk()}
  elif [ ! -e ${q(files.count)} ]; then
    echo "nf_conntrack is not loaded: nothing is tracked" >&2
  elif have conntrack; then
    echo "no /proc/net/nf_conntrack: read with conntrack -L -p udp" >&2
    { conntrack -L -p udp; echo "ndrc $?"; } | ${grep} -e 'ndrc ' | ${awk('$1 == "ndrc" { exit $2 } ')}
  else
    echo "no /proc/net/nf_conntrack, and no conntrack tool (package conntrack) to list the table" >&2; return 127
  fi
}
sec host/conntrack-udp ndctudp
`;
}

/** The whole script for one node. */
export function buildCollectScript(opts: ScriptOptions): { script: string; marker: string } {
  const marker = opts.marker ?? newMarker();
  // `times` (POSIX) last and at the top level (in a subshell it would only
  // count that subshell): the CPU the whole collection cost, shell and children.
  const times = `printf '%s BEGIN meta/times\\n' "$M"; times; printf '\\n%s END meta/times 0\\n' "$M"`;
  const script = [
    prelude(marker),
    clockAndDockerdSections(),
    // The sandboxes (overlays first: FDB and neighbour tables) before anything else that takes time:
    // overlay pings that run alongside the collection wait until every node is past its overlays
    // (probe/run.ts earlyProbes).
    sandboxSections(opts),
    hostIdentitySections(),
    hostSections(opts),
    hostTableSections(),
    routeGetSection(opts.underlayPeers ?? []),
    DOCKER_PACKAGE,
    networkViewSection(),
    conntrackUdpSection(opts.udpPorts ?? []),
    times,
    `printf '%s DONE\\n' "$M"\n`,
  ].join('\n');
  return { script, marker };
}
