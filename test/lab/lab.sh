#!/usr/bin/env bash
# docker netdoctor LAB: a real N-node Docker Swarm on this one machine.
#
# Each node is its own set of namespaces (net + mount + UTS + PID) with PID 1
# `docker-init -- sleep infinity`, its own dockerd (two sockets: the node's
# /var/run/docker.sock and a host-visible $ND_LAB_DIR/nodes/NODE/docker.sock)
# and its own sshd on port 22 of the node IP. Nodes hang off the host bridge
# ndlab0 (10.213.0.1/24); node K is ndK at 10.213.0.(10+K). No default route
# exists in a node: lab traffic never leaves the namespaces made here.
# Per node, from $ND_LAB_DIR/nodes/NODE: /run (so /var/run/docker,
# /run/containerd, docker.sock), /var/lib/docker, /var/log (docker.log),
# /etc/docker, /tmp, /var/tmp and /root; /etc, /usr etc. are the host's.
# SSH-only nodes (for fan-out benchmarks): nsK at 10.213.0.(100+K) on the
# same bridge, the same namespaces and sshd but no dockerd; `down` removes
# them too.
# Standalone node (a real dockerd that is in no swarm): nd0 at 10.213.0.10,
# the swarm node recipe (namespaces, dockerd, sshd) but it never joins; not
# counted by status/wait; lab.json "standalone"; `down` removes it too.
#
# Engines: every node runs Docker 26.1.5 (Debian trixie's docker.io, unpacked
# by scripts/install-deps.sh into ND_LAB_DOCKER26, never installed) by
# default; --engine 20.10 runs bookworm's installed dockerd 20.10 instead, and
# --engine mixed a mixed-version swarm as during a rolling upgrade (managers on
# 26, workers on 20.10). The client docker CLI is the machine's either way.
#
# Usage: lab.sh up [N] [--engine 26|20.10|mixed] | down | status | wait [SECONDS]
#        lab.sh ssh-nodes up N | ssh-nodes down
#        lab.sh standalone up | standalone down
#        lab.sh exec NODE -- CMD... | ssh NODE [CMD...]
#        lab.sh dockerd-stop NODE | dockerd-start NODE [--slave]
#        lab.sh sshd-stop NODE | sshd-start NODE | link-down NODE | link-up NODE
#        (exec, ssh, sshd-*, link-* also take an SSH-only node nsK;
#        every NODE command also takes the standalone node nd0)
#        lab.sh logs NODE [LINES]
# Env:   ND_LAB_DIR (state dir, default /tmp/ndlab), ND_LAB_NODES (default 3),
#        ND_LAB_TIMEOUT (seconds to wait for convergence, default 90),
#        ND_LAB_ENGINE (26, 20.10 or mixed; default 26; --engine wins),
#        ND_LAB_DOCKER26 (the unpacked 26 tree, default /opt/ndlab/docker-26).
# Must run as root (except `ssh` and `logs`).
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

LAB_DIR=${ND_LAB_DIR:-/tmp/ndlab}
LAB_DIR=${LAB_DIR%/}
BRIDGE=ndlab0
NET_PREFIX=10.213.0
GATEWAY=$NET_PREFIX.1
SUBNET=$NET_PREFIX.0/24
MANAGER=nd1
NETWORK=ndnet
SERVICE=web
PUBLISHED_PORT=8080
IMAGE=ndlab/busybox:latest
MARKER=.ndlab-state
COMMENT=ndlab
TIMEOUT=${ND_LAB_TIMEOUT:-90}
ENGINE=${ND_LAB_ENGINE:-26}
DOCKER26=${ND_LAB_DOCKER26:-/opt/ndlab/docker-26}
DOCKER26=${DOCKER26%/}
MAX_NODES=40
# SSH-only nodes nsK sit at .(100+K): above every swarm node (.11-.50), below .255.
SSH_BASE=100
MAX_SSH_NODES=150
# The standalone node (never in a swarm) at .10, below every swarm node.
STANDALONE=nd0
(( 10 + MAX_NODES < SSH_BASE + 1 && SSH_BASE + MAX_SSH_NODES <= 254 )) || { echo "ndlab: bad address plan" >&2; exit 1; }

T0=$(date +%s%3N)

log() {
  local ms=$(( $(date +%s%3N) - T0 ))
  printf '[ndlab %d.%01ds] %s\n' $((ms / 1000)) $(((ms % 1000) / 100)) "$*" >&2
}
die() {
  printf 'ndlab: error: %s\n' "$*" >&2
  exit 1
}

# Swarm nodes are ndK, SSH-only nodes nsK (same namespaces, sshd, no dockerd).
is_ssh_node() { [[ $1 == ns* ]]; }
node_ip() {
  if is_ssh_node "$1"; then echo "$NET_PREFIX.$((SSH_BASE + 10#${1#ns}))"; else echo "$NET_PREFIX.$((10 + 10#${1#nd}))"; fi
}
node_dir() {
  if is_ssh_node "$1"; then echo "$LAB_DIR/ssh-nodes/$1"; else echo "$LAB_DIR/nodes/$1"; fi
}
node_sock() { echo "$LAB_DIR/nodes/$1/docker.sock"; }
veth_of() { echo "ndlab-$1"; }

valid_node_name() { [[ $1 =~ ^nd([1-9][0-9]?)$ ]] && (( ${BASH_REMATCH[1]} <= MAX_NODES )); }
valid_ssh_node_name() { [[ $1 =~ ^ns([1-9][0-9]{0,2})$ ]] && (( ${BASH_REMATCH[1]} <= MAX_SSH_NODES )); }
is_standalone() { [ "$1" = "$STANDALONE" ]; }

# The docker CLI, talking to one node's host-visible socket.
DOCKER_CLI=$(command -v docker || true)
dk() {
  local name=$1
  shift
  [ -n "$DOCKER_CLI" ] || die "no docker CLI on PATH"
  "$DOCKER_CLI" --host "unix://$(node_sock "$name")" "$@"
}

# Host PID of the node's PID 1 (docker-init), validated: alive, is docker-init,
# is PID 1 of its PID namespace and sits in the node's network namespace.
node_pid() {
  local name=$1 pid comm nspid
  pid=$(cat "$(node_dir "$name")/pid1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = docker-init ] || return 1
  nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status" 2>/dev/null) || return 1
  [ "$nspid" = 1 ] || return 1
  [ -e "/run/netns/$name" ] || return 1
  [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$(stat -L -c %i "/run/netns/$name" 2>/dev/null)" ] || return 1
  echo "$pid"
}

# Run a command inside a node's namespaces (net, mount, uts, pid).
in_node() {
  local name=$1 pid
  shift
  pid=$(node_pid "$name") || die "node $name is not running"
  # 9>&-: never leak the lab lock into daemons started in the node.
  nsenter -t "$pid" -n -m -u -p -- "$@" 9>&-
}

# wait_until SECONDS CMD...: poll CMD every 0.1s until it succeeds.
wait_until() {
  local secs=$1 deadline
  shift
  deadline=$(( $(date +%s%3N) + secs * 1000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%3N) < deadline )) || return 1
    sleep 0.1
  done
}

json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

node_count() { cat "$LAB_DIR/nodecount" 2>/dev/null; }
node_names() {
  local n k
  n=$(node_count) || return 0
  for ((k = 1; k <= n; k++)); do echo "nd$k"; done
}

# ---------------------------------------------------------------------------
# Engines: the lab's (26, 20.10 or mixed, in $LAB_DIR/engine once up) and
# each node's (26 or 20.10, in its state dir's `engine`, so a restarted
# dockerd is the same engine).

valid_engine() {
  case $1 in
    26 | 20.10 | mixed) ;;
    *) die "bad engine '$1' (expected 26, 20.10 or mixed)" ;;
  esac
}

# The Docker 26 tree, when the lab engine needs it; one line when it is missing.
require_engine() {
  valid_engine "$1"
  [ "$1" != 20.10 ] || return 0
  [[ $DOCKER26 =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "ND_LAB_DOCKER26 must be a plain absolute path (got '$DOCKER26')"
  [ -x "$DOCKER26/usr/sbin/dockerd" ] && [ -x "$DOCKER26/usr/sbin/docker-proxy" ] ||
    die "engine $1 needs Docker 26 in $DOCKER26, which is missing (run scripts/install-deps.sh as root, or use --engine 20.10)"
}

lab_engine() { cat "$LAB_DIR/engine" 2>/dev/null || echo 20.10; }

# engine_of_node LAB_ENGINE NODE: the engine a node of such a lab runs. In a
# mixed lab the manager (and the standalone node) run 26, the workers 20.10.
engine_of_node() {
  case $1 in
    mixed) if [ "$2" = "$MANAGER" ] || is_standalone "$2"; then echo 26; else echo 20.10; fi ;;
    *) echo "$1" ;;
  esac
}

node_engine() { cat "$(node_dir "$1")/engine" 2>/dev/null || echo 20.10; }

# The dockerd command line of a node's engine (26: its own docker-proxy and
# docker-init come first on PATH).
dockerd_cmd() {
  if [ "$(node_engine "$1")" = 26 ]; then
    echo "env PATH=$DOCKER26/usr/sbin:$DOCKER26/usr/bin:$PATH $DOCKER26/usr/sbin/dockerd"
  else
    echo dockerd
  fi
}

require_root() { [ "$(id -u)" = 0 ] || die "the lab needs root (network/mount/PID namespaces, iptables)"; }

# require_node NODE [ssh-ok]: a node of the lab, swarm ndK or the standalone
# nd0 (with ssh-ok, an SSH-only nsK too).
require_node() {
  [ -n "${1:-}" ] || die "missing NODE argument"
  if [ "${2:-}" = ssh-ok ] && valid_ssh_node_name "$1"; then :; elif is_standalone "$1"; then :; else
    valid_node_name "$1" || die "bad node name '$1' (expected nd1..nd$MAX_NODES, $STANDALONE${2:+ or ns1..ns$MAX_SSH_NODES})"
  fi
  [ -d "$(node_dir "$1")" ] || die "node $1 is not part of the lab in $LAB_DIR"
}

# Serialise up/down. The lock is taken on the state dir's parent directory
# (flock works on a directory fd), so no lock file is left behind.
take_lock() {
  local parent
  parent=$(dirname "$LAB_DIR")
  mkdir -p "$parent"
  exec 9<"$parent"
  flock -w 600 9 || die "could not lock $parent (another lab.sh up/down running?)"
}

# ---------------------------------------------------------------------------
# Inside a node: runs as PID 1 of the node's fresh PID namespace, in its own
# mount + UTS namespace (private propagation) and in its network namespace.
# KIND `ssh` (an SSH-only node): no cgroup mounts and no docker dirs, only
# what sshd and a login need (sysfs, /run, /var/log, /tmp, /var/tmp, /root).
node_init() {
  local name=$1 dir=$2 lab=$3 kind=${4:-swarm} fstype target opts keep o
  local -a cg=()
  # Remember the host's cgroup mounts before /sys is replaced (dockerd needs
  # them; an SSH-only node does not).
  [ "$kind" = ssh ] || mapfile -t cg < <(awk '$2 ~ "^/sys/fs/cgroup" && ($3 == "tmpfs" || $3 == "cgroup" || $3 == "cgroup2") {print $3, $2, $4}' /proc/self/mounts)
  # A sysfs for this netns (`ip netns exec` style remounts break dockerd's
  # cgroup detection; this does not), so /sys/class/net is the node's own.
  mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
  if [ "$kind" != ssh ]; then
    for line in "${cg[@]}"; do
      read -r fstype target opts <<<"$line"
      if [ "$fstype" = tmpfs ]; then
        mount -t tmpfs -o mode=755 tmpfs "$target"
        continue
      fi
      keep=
      IFS=, read -ra o <<<"$opts"
      for opt in "${o[@]}"; do
        case $opt in ro | release_agent=*) ;; *) keep+=${keep:+,}$opt ;; esac
      done
      mkdir -p "$target"
      mount -t "$fstype" -o "$keep" "$fstype" "$target" || echo "ndlab: warning: could not mount $fstype $opts on $target" >&2
    done
  fi
  # Per-node /run (so /var/run/docker, /run/containerd, /run/sshd,
  # /var/run/docker.sock, /run/xtables.lock are the node's own),
  # /var/lib/docker, /var/log and /etc/docker.
  # Drop this namespace's copies of the host's mounts under /run (e.g. the
  # /run/netns/ndK of nodes made earlier), then give the node its own /run.
  awk '$5 ~ "^/run/" {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  mount --bind "$dir/run" /run
  mkdir -p /run/docker /run/containerd /run/sshd /run/lock
  chmod 0755 /run/sshd
  if [ "$kind" != ssh ]; then
    mkdir -p /var/lib/docker /etc/docker
    mount --bind "$dir/lib-docker" /var/lib/docker
    mount --bind "$dir/etc-docker" /etc/docker
  fi
  mount --bind "$dir/log" /var/log
  # Its own /tmp, /var/tmp and /root, like a host of its own (what a tool
  # leaves behind on a node is then seen on that node only). The lab state dir
  # stays reachable at the same path inside the node (the host-visible docker
  # socket, sshd config, keys), moved over from a staging bind mount.
  local real stage=/run/.ndlab-state
  real=$(readlink -f "$lab")
  mkdir -p "$stage" /var/tmp
  mount --bind "$real" "$stage"
  dir=$stage/${dir#"$lab"/}
  mount --bind "$dir/tmp" /tmp
  mount --bind "$dir/var-tmp" /var/tmp
  mount --bind "$dir/root" /root
  if [ -e "$real/$MARKER" ]; then
    umount "$stage"
  else
    mkdir -p "$real"
    mount --move "$stage" "$real"
  fi
  rmdir "$stage"
  hostname "$name"
  cd /
  exec docker-init -- sleep infinity
}

# ---------------------------------------------------------------------------
# Daemons of a node.

dockerd_running() {
  local name=$1
  in_node "$name" sh -c 'p=$(cat /var/run/docker.pid 2>/dev/null) && kill -0 "$p" 2>/dev/null' 2>/dev/null
}

start_dockerd() {
  local name=$1 slave=${2:-} pre=
  [ "$slave" = slave ] && pre='unshare -m --propagation slave '
  # Detached from this script; reparented to the node's docker-init.
  [ "$(node_engine "$name")" = 20.10 ] || require_engine 26
  in_node "$name" sh -c "setsid ${pre}$(dockerd_cmd "$name") -H unix:///var/run/docker.sock -H unix://$(node_sock "$name") </dev/null >>/var/log/docker.log 2>&1 &"
}

stop_dockerd() {
  local name=$1
  in_node "$name" sh -c '
    p=$(cat /var/run/docker.pid 2>/dev/null) || exit 0
    kill -0 "$p" 2>/dev/null || exit 0
    kill -TERM "$p"
    i=0
    while kill -0 "$p" 2>/dev/null; do
      i=$((i + 1))
      if [ "$i" -eq 200 ]; then echo "ndlab: dockerd did not stop in 20s, killing it" >&2; kill -KILL "$p"; fi
      [ "$i" -gt 300 ] && exit 1
      sleep 0.1
    done
    rm -f /var/run/docker.pid'
}

# The version the node's dockerd reports (26.1.5+dfsg1, 20.10.24+dfsg1, ...).
engine_version() { dk "$1" version --format '{{.Server.Version}}' 2>/dev/null || echo unknown; }

dockerd_answers() { dk "$1" info --format '{{.ID}}' >/dev/null 2>&1; }

wait_dockerd() {
  local name=$1
  wait_until "$TIMEOUT" dockerd_answers "$name" || {
    echo "---- tail of $name /var/log/docker.log ($(node_dir "$name")/log/docker.log) ----" >&2
    tail -n 40 "$(node_dir "$name")/log/docker.log" >&2 || true
    die "dockerd on $name did not answer within ${TIMEOUT}s"
  }
}

write_sshd_config() {
  local name=$1 nd ip
  nd=$(node_dir "$name")
  ip=$(node_ip "$name")
  cat >"$nd/sshd_config" <<EOF
# ndlab sshd for $name
Port 22
ListenAddress $ip
HostKey $nd/ssh_host_ed25519_key
PidFile $nd/sshd.pid
AuthorizedKeysFile $LAB_DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
LogLevel INFO
EOF
}

sshd_running() {
  local name=$1 nd
  nd=$(node_dir "$name")
  in_node "$name" sh -c "p=\$(cat '$nd/sshd.pid' 2>/dev/null) && kill -0 \"\$p\" 2>/dev/null" 2>/dev/null
}

start_sshd() {
  local name=$1 nd
  nd=$(node_dir "$name")
  # sshd daemonizes itself; the daemon is reparented to the node's docker-init.
  in_node "$name" /usr/sbin/sshd -f "$nd/sshd_config" -E "$nd/sshd.log" </dev/null >/dev/null
}

stop_sshd() {
  local name=$1 nd
  nd=$(node_dir "$name")
  in_node "$name" sh -c "
    p=\$(cat '$nd/sshd.pid' 2>/dev/null) || exit 0
    kill -TERM \"\$p\" 2>/dev/null || exit 0
    i=0
    while kill -0 \"\$p\" 2>/dev/null; do i=\$((i + 1)); [ \"\$i\" -gt 100 ] && kill -KILL \"\$p\"; sleep 0.1; done
    rm -f '$nd/sshd.pid'"
}

ssh_port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/22" 2>/dev/null; }

wait_sshd() {
  local name=$1
  wait_until 20 ssh_port_open "$(node_ip "$name")" || {
    tail -n 20 "$(node_dir "$name")/sshd.log" >&2 || true
    die "sshd on $name did not listen on $(node_ip "$name"):22"
  }
}

# ---------------------------------------------------------------------------
# Swarm state helpers (asked of the manager).

swarm_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
swarm_active() { [ "$(swarm_state "$1")" = active ]; }

ready_nodes() { dk "$MANAGER" node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | awk '$2 == "Ready"' | wc -l; }
nodes_ready() { [ "$(ready_nodes)" -ge "$1" ]; }

node_updated_at() { dk "$MANAGER" node inspect "$1" --format '{{.UpdatedAt}}' 2>/dev/null || true; }
# node_ready NODE [UPDATED_AT]: Ready on the manager (and re-registered since UPDATED_AT).
node_ready() {
  local out
  out=$(dk "$MANAGER" node inspect "$1" --format '{{.Status.State}} {{.UpdatedAt}}' 2>/dev/null) || return 1
  [ "${out%% *}" = ready ] || return 1
  [ -z "${2:-}" ] || [ "${out#* }" != "$2" ]
}

# Nodes with a running task of the service (one task per node: the service
# has --replicas-max-per-node 1, so a stopped node's task waits for it rather
# than moving, and every node keeps its overlay sandbox).
running_task_nodes() {
  dk "$MANAGER" service ps "$SERVICE" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' 2>/dev/null |
    awk '$2 == "Running" {print $1}' | sort -u | wc -l
}
service_converged() { [ "$(running_task_nodes)" -ge "$1" ]; }

# The overlay's control plane agrees too: the manager's verbose view of the
# network lists every node as a gossip peer and every task endpoint.
overlay_converged() {
  local out
  out=$(dk "$MANAGER" network inspect --verbose "$NETWORK" \
    --format "{{len .Peers}} {{with index .Services \"$SERVICE\"}}{{len .Tasks}}{{end}}" 2>/dev/null) || return 1
  [ "$out" = "$1 $1" ]
}

# ---------------------------------------------------------------------------
# Health: is the lab up, complete and healthy (with N nodes if given)?

# healthy [N [ENGINE]]
healthy() {
  local want=${1:-} engine=${2:-} n name
  [ -f "$LAB_DIR/lab.json" ] || return 1
  n=$(node_count) || return 1
  [ -z "$want" ] || [ "$want" = "$n" ] || return 1
  [ -z "$engine" ] || [ "$engine" = "$(lab_engine)" ] || return 1
  [ -d "/sys/class/net/$BRIDGE" ] || return 1
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$COMMENT" -j ACCEPT 2>/dev/null || return 1
  for name in $(node_names); do
    node_pid "$name" >/dev/null || return 1
    [ "$(cat "/sys/class/net/$(veth_of "$name")/operstate" 2>/dev/null)" = up ] || return 1
    sshd_running "$name" || return 1
    swarm_active "$name" || return 1
  done
  nodes_ready "$n" || return 1
  service_converged "$n" || return 1
  overlay_converged "$n" || return 1
}

# ---------------------------------------------------------------------------
# Teardown.

# PIDs that belong to the lab: in a node's netns or PID namespace, or a lab
# process recognisable by its command line (naming a path under PREFIX,
# default the whole state dir; none if PREFIX is empty). Never this script
# or its parents.
lab_pids() {
  local netset=" $1 " pidset=" $2 " prefix=${3-$LAB_DIR/} self=" " p f c
  p=$$
  while [ -n "$p" ] && [ "$p" != 0 ]; do
    self+="$p "
    p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
  done
  self+="${BASHPID:-} "
  {
    if [ "$netset" != "  " ]; then
      stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null | awk -v set="$netset" 'index(set, " " $1 " ") { split($2, a, "/"); print a[3] }' || true
    fi
    if [ "$pidset" != "  " ]; then
      stat -L -c '%i %n' /proc/[0-9]*/ns/pid 2>/dev/null | awk -v set="$pidset" 'index(set, " " $1 " ") { split($2, a, "/"); print a[3] }' || true
    fi
    for f in $([ -z "$prefix" ] || grep -lasF -- "$prefix" /proc/[0-9]*/cmdline 2>/dev/null || true); do
      c=$(tr '\0' ' ' <"$f" 2>/dev/null || true)
      if [[ $c =~ (__node-init|(^|/)dockerd |(^|/)sshd |(^|/)containerd) ]]; then
        p=${f#/proc/}
        echo "${p%%/*}"
      fi
    done
  } | sort -un | while read -r p; do
    case $self in *" $p "*) ;; *) echo "$p" ;; esac
  done
}

do_down() {
  local quiet=${1:-} name names=() netinos=() pidinos=() pid ino victims link rule k
  require_root
  if [ -e "$LAB_DIR" ] && [ ! -e "$LAB_DIR/$MARKER" ] && [ -n "$(ls -A "$LAB_DIR" 2>/dev/null)" ]; then
    die "$LAB_DIR exists, is not empty and is not a lab state dir (no $MARKER): refusing to touch it"
  fi
  if [ -d "$LAB_DIR/nodes" ]; then
    for name in "$LAB_DIR"/nodes/*/; do
      name=$(basename "$name")
      if valid_node_name "$name" || is_standalone "$name"; then names+=("$name"); fi
    done
  fi
  if [ -d /run/netns ]; then
    for name in /run/netns/nd*; do
      name=$(basename "$name")
      if valid_node_name "$name" || is_standalone "$name"; then names+=("$name"); fi
    done
  fi
  [ ! -d "$LAB_DIR" ] || neigh_restore
  mapfile -t -O "${#names[@]}" names < <(ssh_node_names)
  mapfile -t names < <(printf '%s\n' "${names[@]}" | grep . | sort -u -V || true)
  for name in "${names[@]}"; do
    if [ -e "/run/netns/$name" ]; then
      ino=$(stat -L -c %i "/run/netns/$name" 2>/dev/null || true)
      [ -n "$ino" ] && netinos+=("$ino")
    fi
    pid=$(cat "$(node_dir "$name")/pid1" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = docker-init ]; then
      ino=$(stat -L -c %i "/proc/$pid/ns/pid" 2>/dev/null || true)
      [ -n "$ino" ] && pidinos+=("$ino")
    fi
  done
  # Kill every lab process (killing a node's PID 1 ends its whole PID
  # namespace, containers included); wait until they are all gone.
  for ((k = 0; k < 100; k++)); do
    victims=$(lab_pids "${netinos[*]:-}" "${pidinos[*]:-}")
    [ -z "$victims" ] && break
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
    sleep 0.1
  done
  victims=$(lab_pids "${netinos[*]:-}" "${pidinos[*]:-}")
  [ -z "$victims" ] || die "lab processes survive SIGKILL: $(echo $victims)"
  for name in "${names[@]}"; do
    if [ -e "/run/netns/$name" ]; then ip netns del "$name" 2>/dev/null || true; fi
  done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^ndlab-n[ds][0-9]+$' || true); do
    ip link del "$link" 2>/dev/null || true
  done
  if [ -e "/sys/class/net/$BRIDGE" ]; then ip link del "$BRIDGE"; fi
  while iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$COMMENT" -j ACCEPT 2>/dev/null; do :; done
  while read -r rule; do
    [ -n "$rule" ] || continue
    eval "iptables ${rule/#-A /-D }" || true
  done < <(iptables -S 2>/dev/null | grep -E -- "--comment \"?$COMMENT\"?( |$)" || true)
  # No lab mount is made in the host's mount namespace, but be thorough.
  awk -v d="$LAB_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  case $LAB_DIR in
    "" | / | /tmp | /var | /var/tmp | /root | /home | /etc | /usr | /run) die "refusing to remove state dir '$LAB_DIR'" ;;
  esac
  rm -rf "$LAB_DIR"
  # Verify nothing is left.
  local left=()
  victims=$(lab_pids "${netinos[*]:-}" "${pidinos[*]:-}")
  [ -z "$victims" ] || left+=("processes: $(echo $victims)")
  for name in "${names[@]}"; do
    [ ! -e "/run/netns/$name" ] || left+=("netns $name")
  done
  [ ! -e "/sys/class/net/$BRIDGE" ] || left+=("bridge $BRIDGE")
  if ip -o link show 2>/dev/null | grep -qE ': ndlab-n[ds][0-9]+[@:]'; then left+=("veth ndlab-*"); fi
  if iptables -S 2>/dev/null | grep -qE -- "--comment \"?$COMMENT\"?( |$)"; then left+=("iptables rules"); fi
  if awk -v d="$LAB_DIR" 'index($5, d) == 1' /proc/self/mountinfo | grep -q .; then left+=("mounts under $LAB_DIR"); fi
  [ ! -e "$LAB_DIR" ] || left+=("$LAB_DIR")
  [ ${#left[@]} -eq 0 ] || die "teardown left: ${left[*]}"
  [ -n "$quiet" ] || log "down: nothing left (${#names[@]} node(s) removed)"
}

# ---------------------------------------------------------------------------
# SSH-only nodes (nsK at .(100+K)): the node recipe without dockerd, for
# SSH fan-out benchmarks. Same namespaces, PID 1, sshd config, host key in
# the lab's known_hosts, lab key authorized; state in $LAB_DIR/ssh-nodes/nsK.

# SSH-only nodes present: a state dir under $LAB_DIR/ssh-nodes, or a netns
# nsK that is provably the lab's (its host veth exists, or it holds its lab
# address). Sorted ns1, ns2, ...
ssh_node_names() {
  local name
  {
    for name in "$LAB_DIR"/ssh-nodes/*/; do
      name=$(basename "$name")
      if valid_ssh_node_name "$name"; then echo "$name"; fi
    done
    for name in /run/netns/ns*; do
      name=$(basename "$name")
      valid_ssh_node_name "$name" || continue
      if [ -e "/sys/class/net/$(veth_of "$name")" ] ||
        ip -n "$name" -o -4 addr show 2>/dev/null | grep -qF " $(node_ip "$name")/24 "; then
        echo "$name"
      fi
    done
  } | sort -u -V
}

ssh_node_healthy() {
  local name=$1
  [ -d "$(node_dir "$name")" ] || return 1
  node_pid "$name" >/dev/null || return 1
  [ "$(cat "/sys/class/net/$(veth_of "$name")/operstate" 2>/dev/null)" = up ] || return 1
  [ "$(cat "/sys/class/net/$(veth_of "$name")/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$BRIDGE/ifindex" 2>/dev/null)" ] || return 1
  sshd_running "$name"
}

# The "sshNodes" member of lab.json: the running SSH-only nodes.
ssh_nodes_json() {
  local name pid sep=
  printf '  "sshNodes": ['
  for name in $(ssh_node_names); do
    pid=$(node_pid "$name") || continue
    printf '%s\n    {"name": "%s", "ip": "%s", "sshPort": 22, "pid": %d}' "$sep" "$name" "$(node_ip "$name")" "$pid"
    sep=,
  done
  [ -z "$sep" ] || printf '\n  '
  printf ']'
}

# The members of lab.json that come and go after `up`, last in the file:
# "standalone" (only while nd0 runs), then "sshNodes".
extra_state_json() {
  standalone_json
  ssh_nodes_json
}

# Replace (or add) the standalone and sshNodes members of an existing
# lab.json, atomically.
write_extra_state() {
  local f=$LAB_DIR/lab.json
  [ -f "$f" ] || return 0
  BLOCK=$(extra_state_json) awk '
    { line[NR] = $0 }
    END {
      s = 0
      for (i = 1; i <= NR; i++) if (line[i] ~ /^  "(standalone|sshNodes)":/) { s = i; break }
      if (!s) for (i = NR; i >= 1; i--) if (line[i] == "}") { s = i; break }
      if (s < 2) exit 1
      for (i = 1; i < s - 1; i++) print line[i]
      l = line[s - 1]
      sub(/,$/, "", l)
      print l ","
      print ENVIRON["BLOCK"]
      print "}"
    }' "$f" >"$f.ssh.tmp" || { rm -f "$f.ssh.tmp"; die "could not update $f"; }
  mv "$f.ssh.tmp" "$f"
}

# known_hosts: drop the lines of these IPs, then append LINES (atomically).
known_hosts_update() {
  local drop=" $1 " lines=$2 f=$LAB_DIR/known_hosts
  {
    [ ! -f "$f" ] || awk -v drop="$drop" '!index(drop, " " $1 " ")' "$f"
    [ -z "$lines" ] || printf '%s\n' "$lines"
  } >"$f.tmp"
  mv "$f.tmp" "$f"
}

# Remove SSH-only nodes (all of them: ALL, else only the named ones) and
# verify that nothing of them is left.
remove_ssh_nodes() {
  local all=$1 prefix=
  shift
  [ $# -gt 0 ] || return 0
  # Processes of removed nodes are also recognised by a command line naming
  # their state (matters only if a netns was lost); only when removing all.
  [ "$all" = ALL ] && prefix=$LAB_DIR/ssh-nodes/
  remove_nodes "$prefix" "$@"
  [ "$all" != ALL ] || rm -rf "$LAB_DIR/ssh-nodes"
}

# remove_nodes PREFIX NODE...: remove SSH-only nodes or the standalone node
# (never a swarm node: only `down` does that) and verify that nothing of them
# is left. PREFIX (may be empty): lab processes whose command line names a
# path under it are theirs too.
remove_nodes() {
  local prefix=$1 name pid ino victims k ips=() netinos=() pidinos=() left=()
  shift
  [ $# -gt 0 ] || return 0
  for name; do
    ips+=("$(node_ip "$name")")
    if [ -e "/run/netns/$name" ]; then
      ino=$(stat -L -c %i "/run/netns/$name" 2>/dev/null || true)
      [ -z "$ino" ] || netinos+=("$ino")
    fi
    pid=$(cat "$(node_dir "$name")/pid1" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = docker-init ]; then
      ino=$(stat -L -c %i "/proc/$pid/ns/pid" 2>/dev/null || true)
      [ -z "$ino" ] || pidinos+=("$ino")
    fi
  done
  for ((k = 0; k < 100; k++)); do
    victims=$(lab_pids "${netinos[*]:-}" "${pidinos[*]:-}" "$prefix")
    [ -z "$victims" ] && break
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
    sleep 0.1
  done
  for name; do
    if [ -e "/run/netns/$name" ]; then ip netns del "$name" 2>/dev/null || true; fi
    if [ -e "/sys/class/net/$(veth_of "$name")" ]; then ip link del "$(veth_of "$name")" 2>/dev/null || true; fi
    # The host's neighbour entry would point a node made again at the old MAC.
    ip neigh flush to "$(node_ip "$name")" dev "$BRIDGE" 2>/dev/null || true
  done
  [ ! -f "$LAB_DIR/known_hosts" ] || known_hosts_update "${ips[*]}" ""
  for name; do
    case $(node_dir "$name") in "$LAB_DIR"/ssh-nodes/ns[0-9]* | "$LAB_DIR/nodes/$STANDALONE") rm -rf "$(node_dir "$name")" ;; esac
  done
  victims=$(lab_pids "${netinos[*]:-}" "${pidinos[*]:-}" "$prefix")
  [ -z "$victims" ] || left+=("processes: $(echo $victims)")
  for name; do
    [ ! -e "/run/netns/$name" ] || left+=("netns $name")
    [ ! -e "/sys/class/net/$(veth_of "$name")" ] || left+=("veth $(veth_of "$name")")
    [ ! -e "$(node_dir "$name")" ] || left+=("$(node_dir "$name")")
  done
  if [ -f "$LAB_DIR/known_hosts" ] && awk -v drop=" ${ips[*]} " 'index(drop, " " $1 " ") { found = 1 } END { exit !found }' "$LAB_DIR/known_hosts"; then
    left+=("known_hosts lines")
  fi
  [ ${#left[@]} -eq 0 ] || die "removing node(s) $* left: ${left[*]}"
}

# ---------------------------------------------------------------------------
# The standalone node nd0 (.10): the swarm node recipe (namespaces, PID 1,
# dockerd with the per-node mounts and host-visible socket, sshd, host key in
# known_hosts) but it never joins the swarm, so its dockerd reports
# Swarm: inactive. State in $LAB_DIR/nodes/nd0; not in "nodes" of lab.json.

# Is anything of nd0 there: its state dir, or a netns nd0 that is provably
# the lab's (its host veth exists, or it holds the lab address)?
standalone_present() {
  local name=$STANDALONE
  [ -d "$(node_dir "$name")" ] && return 0
  [ -e "/run/netns/$name" ] || return 1
  [ -e "/sys/class/net/$(veth_of "$name")" ] ||
    ip -n "$name" -o -4 addr show 2>/dev/null | grep -qF " $(node_ip "$name")/24 "
}

standalone_healthy() {
  local name=$STANDALONE
  [ -d "$(node_dir "$name")" ] || return 1
  node_pid "$name" >/dev/null || return 1
  [ "$(cat "/sys/class/net/$(veth_of "$name")/operstate" 2>/dev/null)" = up ] || return 1
  [ "$(cat "/sys/class/net/$(veth_of "$name")/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$BRIDGE/ifindex" 2>/dev/null)" ] || return 1
  sshd_running "$name" || return 1
  [ "$(swarm_state "$name")" = inactive ]
}

# The "standalone" member of lab.json (with its trailing comma), while nd0 runs.
standalone_json() {
  local name=$STANDALONE pid
  [ -d "$(node_dir "$name")" ] || return 0
  pid=$(node_pid "$name") || return 0
  printf '  "standalone": {"name": "%s", "ip": "%s", "dockerSocket": %s, "pid": %d, "dockerLog": %s},\n' \
    "$name" "$(node_ip "$name")" "$(json_str "$(node_sock "$name")")" "$pid" "$(json_str "$(node_dir "$name")/log/docker.log")"
}

do_standalone_up() {
  local name=$STANDALONE ip c used=" " state missing=()
  require_root
  for c in dockerd containerd runc docker-init sshd ssh-keygen nsenter unshare ip flock setsid timeout; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [ -n "$DOCKER_CLI" ] || missing+=(docker)
  [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]}"
  take_lock
  [ -e "$LAB_DIR/$MARKER" ] && [ -f "$LAB_DIR/lab.json" ] && [ -d "/sys/class/net/$BRIDGE" ] ||
    die "the lab is not up in $LAB_DIR (run lab.sh up first): the standalone node hangs off its bridge and uses its key and known_hosts"
  ip=$(node_ip "$name")
  if standalone_healthy; then
    write_extra_state
    log "standalone: $name already up ($ip, Swarm: inactive)"
    return 0
  fi
  if standalone_present; then
    log "standalone: removing what is left of $name"
    remove_nodes "$(node_dir "$name")/" "$name"
  fi
  [ ! -e "/run/netns/$name" ] || die "a network namespace $name exists and is not the lab's: refusing to touch it"
  used+=$(ip -o -4 addr show 2>/dev/null | awk '{split($4, a, "/"); printf "%s ", a[1]}')
  for c in /run/netns/*; do
    [ -e "$c" ] || continue
    used+=$(ip -n "$(basename "$c")" -o -4 addr show 2>/dev/null | awk '{split($4, a, "/"); printf "%s ", a[1]}' || true)
  done
  [[ $used != *" $ip "* ]] || die "address $ip (for $name) is already in use"
  ip neigh flush to "$ip" dev "$BRIDGE" 2>/dev/null || true
  log "standalone: starting $name at $ip"
  mkdir -p "$LAB_DIR/nodes"
  start_node "$name"
  wait_node_pid1 "$name"
  start_dockerd "$name"
  start_sshd "$name"
  wait_sshd "$name"
  wait_dockerd "$name"
  state=$(swarm_state "$name" || true)
  [ "$state" = inactive ] || die "dockerd on $name answers but its swarm state is '$state' (expected inactive)"
  known_hosts_update "$ip" "$ip $(cut -d' ' -f1,2 "$(node_dir "$name")/ssh_host_ed25519_key.pub")"
  write_extra_state
  log "standalone: $name up ($ip, docker socket $(node_sock "$name"), Swarm: inactive)"
}

do_standalone_down() {
  local name=$STANDALONE
  require_root
  take_lock
  if [ -e "$LAB_DIR" ] && [ ! -e "$LAB_DIR/$MARKER" ] && [ -n "$(ls -A "$LAB_DIR" 2>/dev/null)" ]; then
    die "$LAB_DIR exists, is not empty and is not a lab state dir (no $MARKER): refusing to touch it"
  fi
  if standalone_present; then remove_nodes "$(node_dir "$name")/" "$name"; fi
  write_extra_state
  log "standalone down: nothing of $name left"
}

# The lab's namespaces share this kernel's neighbour (ARP) table, and its
# gc_thresh3 (1024 by default) counts the entries of every namespace: 60
# SSH-only nodes that each resolve their ~62 peers overflow it ("neighbor
# table overflow!" in dmesg, table_fulls in /proc/net/stat/arp_cache) and the
# kernel drops datagrams to the peers it could not resolve (seen as UDP
# probes "blocked" at 60 nodes). On a real cluster every node has its own
# table. So, for N nodes, raise the host's thresholds to what N machines
# would have between them, keep the old values, and put them back on down.
neigh_room() {
  local t=$(($1 + 10)) cur2 cur3 want2 want3
  want3=$((2 * t * t + 1024))
  want2=$((t * t + 512))
  cur2=$(sysctl -n net.ipv4.neigh.default.gc_thresh2) || return 0
  cur3=$(sysctl -n net.ipv4.neigh.default.gc_thresh3) || return 0
  ((cur3 < want3 || cur2 < want2)) || return 0
  [ -e "$LAB_DIR/neigh-thresh.orig" ] || echo "$cur2 $cur3" >"$LAB_DIR/neigh-thresh.orig"
  ((cur3 >= want3)) || sysctl -qw net.ipv4.neigh.default.gc_thresh3="$want3"
  ((cur2 >= want2)) || sysctl -qw net.ipv4.neigh.default.gc_thresh2="$want2"
  log "ssh-nodes: host neighbour table thresholds raised for $1 nodes (gc_thresh2 $want2, gc_thresh3 $want3; were $cur2, $cur3)"
}

neigh_restore() {
  local a b
  [ -f "$LAB_DIR/neigh-thresh.orig" ] || return 0
  read -r a b <"$LAB_DIR/neigh-thresh.orig" || true
  if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
    sysctl -qw net.ipv4.neigh.default.gc_thresh2="$a" net.ipv4.neigh.default.gc_thresh3="$b" || true
  fi
  rm -f "$LAB_DIR/neigh-thresh.orig"
}

do_ssh_nodes_up() {
  local n=$1 k name c ip keep=() stale=() new=() lines= used=" " missing=()
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= MAX_SSH_NODES )) ||
    die "SSH-only node count must be 1..$MAX_SSH_NODES (addresses $NET_PREFIX.$((SSH_BASE + 1))-$NET_PREFIX.$((SSH_BASE + MAX_SSH_NODES)) of $SUBNET; got '$n')"
  require_root
  for c in docker-init sshd ssh-keygen nsenter unshare ip flock setsid timeout; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]}"
  take_lock
  [ -e "$LAB_DIR/$MARKER" ] && [ -f "$LAB_DIR/lab.json" ] && [ -d "/sys/class/net/$BRIDGE" ] ||
    die "the lab is not up in $LAB_DIR (run lab.sh up first): SSH-only nodes hang off its bridge and use its key and known_hosts"
  # Sort what is there: keep healthy nodes of 1..N, remove the rest.
  for name in $(ssh_node_names); do
    k=${name#ns}
    if (( k <= n )) && ssh_node_healthy "$name"; then keep+=("$name"); else stale+=("$name"); fi
  done
  remove_ssh_nodes SOME "${stale[@]}"
  for ((k = 1; k <= n; k++)); do
    name=ns$k
    [[ " ${keep[*]} " == *" $name "* ]] || new+=("$name")
  done
  # No clash: a netns of that name that is not the lab's, or the address
  # already held on the host or in any namespace (swarm nodes use .11-.$((10 + MAX_NODES))).
  if [ ${#new[@]} -gt 0 ]; then
    for name in "${new[@]}"; do
      [ ! -e "/run/netns/$name" ] || die "a network namespace $name exists and is not the lab's: refusing to touch it"
    done
    used+=$(ip -o -4 addr show 2>/dev/null | awk '{split($4, a, "/"); printf "%s ", a[1]}')
    for c in /run/netns/*; do
      [ -e "$c" ] || continue
      used+=$(ip -n "$(basename "$c")" -o -4 addr show 2>/dev/null | awk '{split($4, a, "/"); printf "%s ", a[1]}' || true)
    done
    for name in "${new[@]}"; do
      ip=$(node_ip "$name")
      [[ $used != *" $ip "* ]] || die "address $ip (for $name) is already in use"
      ip neigh flush to "$ip" dev "$BRIDGE" 2>/dev/null || true
    done
    neigh_room "$n"
    log "ssh-nodes: starting ${#new[@]} SSH-only node(s) (${#keep[@]} already up)"
    mkdir -p "$LAB_DIR/ssh-nodes"
    for name in "${new[@]}"; do start_node "$name"; done
    for name in "${new[@]}"; do wait_node_pid1 "$name"; done
    for name in "${new[@]}"; do start_sshd "$name"; done
    for name in "${new[@]}"; do wait_sshd "$name"; done
  fi
  # Every wanted node's current host key, and only those, for its address.
  for ((k = 1; k <= n; k++)); do
    name=ns$k
    lines+="${lines:+$'\n'}$(node_ip "$name") $(cut -d' ' -f1,2 "$(node_dir "$name")/ssh_host_ed25519_key.pub")"
  done
  known_hosts_update "$(for ((k = 1; k <= n; k++)); do printf '%s ' "$(node_ip "ns$k")"; done)" "$lines"
  write_extra_state
  log "ssh-nodes: $n SSH-only node(s) up (ns1..ns$n at $(node_ip ns1)-$(node_ip "ns$n"))"
}

do_ssh_nodes_down() {
  local names=()
  require_root
  take_lock
  mapfile -t names < <(ssh_node_names)
  remove_ssh_nodes ALL "${names[@]}"
  rm -rf "$LAB_DIR/ssh-nodes"
  neigh_restore
  write_extra_state
  log "ssh-nodes down: nothing left (${#names[@]} node(s) removed)"
}

# ---------------------------------------------------------------------------
# Bring-up.

check_prereqs() {
  local c missing=()
  for c in dockerd containerd runc docker-init sshd ssh-keygen busybox nsenter unshare ip iptables flock setsid timeout; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [ -n "$DOCKER_CLI" ] || missing+=(docker)
  [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]} (packages: docker.io openssh-server iptables iproute2 busybox-static util-linux, and a docker CLI)"
  (( ${#LAB_DIR} + 24 < 108 )) || die "ND_LAB_DIR is too long for unix socket paths: $LAB_DIR"
  case $LAB_DIR/ in
    /* ) ;;
    *) die "ND_LAB_DIR must be an absolute path (got '$LAB_DIR')" ;;
  esac
  case $LAB_DIR/ in
    /run/* | /var/run/* | /var/log/* | /var/lib/docker/* | /etc/docker/* | /sys/* | /proc/*)
      die "ND_LAB_DIR must not be under a directory the lab replaces inside nodes (got '$LAB_DIR')" ;;
  esac
}

make_rootfs() {
  local root=$LAB_DIR/rootfs applet
  mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,var/www}
  chmod 1777 "$root/tmp"
  cp "$(readlink -f "$(command -v busybox)")" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo '<html><body>ndlab</body></html>' >"$root/index.html"
}

start_node() {
  local name=$1 nd ip veth u c kind=swarm
  nd=$(node_dir "$name")
  ip=$(node_ip "$name")
  veth=$(veth_of "$name")
  if is_ssh_node "$name"; then
    kind=ssh
    mkdir -p "$nd"/{run,log,tmp,var-tmp,root}
  else
    mkdir -p "$nd"/{run,lib-docker,log,etc-docker,tmp,var-tmp,root}
    engine_of_node "$(lab_engine)" "$name" >"$nd/engine"
  fi
  chmod 1777 "$nd/tmp" "$nd/var-tmp"
  chmod 0700 "$nd/root"
  ip netns add "$name"
  ip link add "$veth" type veth peer name eth0 netns "$name"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$name" link set lo up
  ip -n "$name" addr add "$ip/24" dev eth0
  ip -n "$name" link set eth0 up
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$nd/ssh_host_ed25519_key"
  write_sshd_config "$name"
  # The node's PID 1. setsid: its own session, so it outlives this script and
  # whoever ran it; --kill-child: the node dies with its unshare parent too.
  setsid nsenter --net="/run/netns/$name" \
    unshare -m -u -p -f --kill-child --mount-proc --propagation private \
    bash "$SELF" __node-init "$name" "$nd" "$LAB_DIR" "$kind" </dev/null >>"$nd/init.log" 2>&1 9>&- &
  u=$!
  echo "$u" >"$nd/unshare.pid"
}

wait_node_pid1() {
  local name=$1 nd u c deadline
  nd=$(node_dir "$name")
  u=$(cat "$nd/unshare.pid")
  deadline=$(( $(date +%s%3N) + 15000 ))
  while :; do
    c=$(cat "/proc/$u/task/$u/children" 2>/dev/null || pgrep -P "$u" 2>/dev/null || true)
    c=${c%% *}
    c=${c// /}
    if [ -n "$c" ] && [ "$(cat "/proc/$c/comm" 2>/dev/null || true)" = docker-init ]; then
      echo "$c" >"$nd/pid1"
      node_pid "$name" >/dev/null && return 0
    fi
    if ! kill -0 "$u" 2>/dev/null || (( $(date +%s%3N) > deadline )); then
      cat "$nd/init.log" >&2 || true
      die "node $name: PID 1 did not start"
    fi
    sleep 0.05
  done
}

write_state() {
  local n=$1 k name role sep=
  {
    printf '{\n'
    printf '  "dir": %s,\n' "$(json_str "$LAB_DIR")"
    printf '  "engine": "%s",\n' "$(lab_engine)"
    printf '  "bridge": "%s",\n  "subnet": "%s",\n  "gateway": "%s",\n' "$BRIDGE" "$SUBNET" "$GATEWAY"
    printf '  "sshKey": %s,\n' "$(json_str "$LAB_DIR/id_ed25519")"
    printf '  "knownHosts": %s,\n' "$(json_str "$LAB_DIR/known_hosts")"
    printf '  "user": "root",\n  "network": "%s",\n  "service": "%s",\n' "$NETWORK" "$SERVICE"
    printf '  "publishedPort": %d,\n  "image": "%s",\n  "nodes": [' "$PUBLISHED_PORT" "$IMAGE"
    for ((k = 1; k <= n; k++)); do
      name=nd$k
      role=worker
      [ "$name" = "$MANAGER" ] && role=manager
      printf '%s\n    {"name": "%s", "ip": "%s", "role": "%s", "dockerSocket": %s, "sshPort": 22, "pid": %d, "dockerLog": %s, "engine": %s}' \
        "$sep" "$name" "$(node_ip "$name")" "$role" "$(json_str "$(node_sock "$name")")" "$(node_pid "$name")" \
        "$(json_str "$(node_dir "$name")/log/docker.log")" "$(json_str "$(engine_version "$name")")"
      sep=,
    done
    printf '\n  ],\n%s\n}\n' "$(extra_state_json)"
  } >"$LAB_DIR/lab.json.tmp"
  mv "$LAB_DIR/lab.json.tmp" "$LAB_DIR/lab.json"
}

dump_failure() {
  local name
  echo "---- docker service ps $SERVICE ----" >&2
  dk "$MANAGER" service ps --no-trunc "$SERVICE" >&2 2>&1 || true
  echo "---- docker node ls ----" >&2
  dk "$MANAGER" node ls >&2 2>&1 || true
  for name in $(node_names); do
    echo "---- tail of $name /var/log/docker.log ($(node_dir "$name")/log/docker.log) ----" >&2
    tail -n 25 "$(node_dir "$name")/log/docker.log" >&2 || true
  done
}

do_up() {
  local n=$1 name k pids=() fail=0 token ip
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= MAX_NODES )) || die "node count must be 1..$MAX_NODES (got '$n')"
  require_root
  require_engine "$ENGINE"
  check_prereqs
  take_lock
  if healthy "$n" "$ENGINE"; then
    log "up: lab already up and healthy with $n node(s), engine $ENGINE"
    cat "$LAB_DIR/lab.json"
    return 0
  fi
  do_down quiet
  log "up: building a $n-node swarm in $LAB_DIR (engine $ENGINE)"
  mkdir -p "$LAB_DIR/nodes"
  touch "$LAB_DIR/$MARKER"
  echo "$n" >"$LAB_DIR/nodecount"
  echo "$ENGINE" >"$LAB_DIR/engine"
  make_rootfs
  ssh-keygen -q -t ed25519 -N '' -C ndlab -f "$LAB_DIR/id_ed25519"
  cp "$LAB_DIR/id_ed25519.pub" "$LAB_DIR/authorized_keys"
  : >"$LAB_DIR/known_hosts"

  ip link add "$BRIDGE" type bridge
  ip addr add "$GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # bridge-nf-call-iptables makes bridged frames traverse the host FORWARD
  # chain, whose policy may be DROP (any dockerd sets it).
  iptables -I FORWARD 1 -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$COMMENT" -j ACCEPT

  for ((k = 1; k <= n; k++)); do start_node "nd$k"; done
  for ((k = 1; k <= n; k++)); do wait_node_pid1 "nd$k"; done
  log "up: $n node namespaces ready"
  for ((k = 1; k <= n; k++)); do
    name=nd$k
    start_dockerd "$name"
    start_sshd "$name"
    echo "$(node_ip "$name") $(cut -d' ' -f1,2 "$(node_dir "$name")/ssh_host_ed25519_key.pub")" >>"$LAB_DIR/known_hosts"
  done
  for ((k = 1; k <= n; k++)); do wait_sshd "nd$k"; done
  for ((k = 1; k <= n; k++)); do wait_dockerd "nd$k"; done
  log "up: $n dockerd and sshd answering ($(for ((k = 1; k <= n; k++)); do printf 'nd%d %s ' "$k" "$(engine_version "nd$k")"; done | sed 's/ $//'))"

  # Image import on every node, in parallel with forming the swarm.
  pids=()
  for ((k = 1; k <= n; k++)); do
    tar -C "$LAB_DIR/rootfs" -c . | dk "nd$k" import --change 'CMD ["sh"]' - "$IMAGE" >/dev/null &
    pids+=($!)
  done
  dk "$MANAGER" swarm init --advertise-addr "$(node_ip "$MANAGER")" >/dev/null
  token=$(dk "$MANAGER" swarm join-token -q worker)
  for ((k = 2; k <= n; k++)); do
    name=nd$k
    dk "$name" swarm join --token "$token" --advertise-addr "$(node_ip "$name")" "$(node_ip "$MANAGER"):2377" >/dev/null &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || fail=1; done
  [ "$fail" = 0 ] || { dump_failure; die "image import or swarm join failed"; }
  wait_until "$TIMEOUT" nodes_ready "$n" || { dump_failure; die "not all $n nodes became Ready in the swarm within ${TIMEOUT}s"; }
  log "up: swarm formed ($n node(s) Ready)"

  dk "$MANAGER" network create -d overlay --attachable "$NETWORK" >/dev/null
  dk "$MANAGER" service create --detach --quiet --name "$SERVICE" --replicas "$n" --replicas-max-per-node 1 --network "$NETWORK" \
    --publish "published=$PUBLISHED_PORT,target=80,mode=ingress" --no-resolve-image \
    --init "$IMAGE" httpd -f -p 80 -h / >/dev/null
  wait_until "$TIMEOUT" service_converged "$n" || {
    dump_failure
    die "service $SERVICE did not reach $n running task(s) within ${TIMEOUT}s"
  }
  wait_until "$TIMEOUT" overlay_converged "$n" || {
    dump_failure
    die "network $NETWORK did not list $n peers and $n task endpoints within ${TIMEOUT}s"
  }
  write_state "$n"
  log "up: service $SERVICE converged ($n/$n); lab is up"
  cat "$LAB_DIR/lab.json"
}

# ---------------------------------------------------------------------------

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    __node-init) node_init "$@" ;;
    up)
      local count=${ND_LAB_NODES:-3}
      while [ $# -gt 0 ]; do
        case $1 in
          --engine) [ $# -ge 2 ] || die "--engine needs a value (26, 20.10 or mixed)"; ENGINE=$2; shift 2 ;;
          --engine=*) ENGINE=${1#--engine=}; shift ;;
          *) count=$1; shift ;;
        esac
      done
      do_up "$count"
      ;;
    down)
      take_lock
      do_down
      ;;
    ssh-nodes)
      case ${1:-} in
        up) do_ssh_nodes_up "${2:-}" ;;
        down) do_ssh_nodes_down ;;
        *) die "usage: lab.sh ssh-nodes up N | ssh-nodes down" ;;
      esac
      ;;
    standalone)
      case ${1:-} in
        up) do_standalone_up ;;
        down) do_standalone_down ;;
        *) die "usage: lab.sh standalone up | standalone down" ;;
      esac
      ;;
    status)
      require_root
      if healthy; then cat "$LAB_DIR/lab.json"; else
        echo "ndlab: lab in $LAB_DIR is not up and healthy" >&2
        exit 1
      fi
      ;;
    wait)
      # Wait (bounded) until the lab is healthy again, e.g. after a fault was undone.
      require_root
      wait_until "${1:-$TIMEOUT}" healthy || { dump_failure; die "lab not healthy within ${1:-$TIMEOUT}s"; }
      cat "$LAB_DIR/lab.json"
      ;;
    exec)
      local name=${1:-} pid
      require_root
      require_node "$name" ssh-ok
      shift
      [ "${1:-}" = -- ] && shift
      [ $# -gt 0 ] || die "usage: lab.sh exec NODE -- CMD..."
      pid=$(node_pid "$name") || die "node $name is not running"
      exec nsenter -t "$pid" -n -m -u -p -- "$@" 9>&-
      ;;
    ssh)
      local name=${1:-}
      require_node "$name" ssh-ok
      shift
      [ "${1:-}" = -- ] && shift
      exec ssh -i "$LAB_DIR/id_ed25519" -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o StrictHostKeyChecking=yes \
        -o BatchMode=yes -o ConnectTimeout=5 "root@$(node_ip "$name")" "$@"
      ;;
    dockerd-stop)
      require_root
      require_node "${1:-}"
      stop_dockerd "$1"
      log "dockerd on $1 stopped"
      ;;
    dockerd-start)
      local name=${1:-} slave=
      require_root
      require_node "$name"
      [ "${2:-}" = --slave ] && slave=slave
      [ -z "${2:-}" ] || [ -n "$slave" ] || die "usage: lab.sh dockerd-start NODE [--slave]"
      local before=
      if dockerd_running "$name"; then
        log "dockerd on $name is already running"
      else
        # The manager's record of the node changes (UpdatedAt) when the
        # restarted agent registers again: wait for that, not a stale Ready.
        [ "$name" = "$MANAGER" ] || before=$(node_updated_at "$name")
        start_dockerd "$name" "$slave"
      fi
      wait_dockerd "$name"
      if ! is_standalone "$name" && [ -d "$(node_dir "$name")/lib-docker/swarm" ]; then
        wait_until "$TIMEOUT" swarm_active "$name" || die "dockerd on $name answers but its swarm state is '$(swarm_state "$name")'"
        wait_until "$TIMEOUT" node_ready "$name" "$before" || die "$name did not come back Ready in the swarm within ${TIMEOUT}s"
      fi
      log "dockerd on $name started${slave:+ (mount propagation slave)}"
      ;;
    sshd-stop)
      require_root
      require_node "${1:-}" ssh-ok
      stop_sshd "$1"
      log "sshd on $1 stopped"
      ;;
    sshd-start)
      require_root
      require_node "${1:-}" ssh-ok
      sshd_running "$1" || start_sshd "$1"
      wait_sshd "$1"
      log "sshd on $1 started"
      ;;
    link-down | link-up)
      require_root
      require_node "${1:-}" ssh-ok
      ip link set "$(veth_of "$1")" "${cmd#link-}"
      log "host link $(veth_of "$1") ${cmd#link-}"
      ;;
    logs)
      require_node "${1:-}"
      tail -n "${2:-100}" "$(node_dir "$1")/log/docker.log"
      ;;
    -h | --help | help | "") usage ;;
    *)
      echo "ndlab: unknown command '$cmd'" >&2
      usage
      ;;
  esac
}

main "$@"
