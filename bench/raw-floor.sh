#!/bin/sh
# The raw floor for `docker netdoctor collect` (bench/collect.mjs compares
# them): the same data with nothing but curl, OpenSSH and a plain shell loop.
#  1. The manager's Engine API over its unix socket, as netdoctor's discovery
#     asks it (info, swarm, nodes, networks with --verbose, services, tasks).
#  2. One `ssh` per node, all in parallel, each running one plain script on
#     the node: the host facts and every docker sandbox's state, the commands
#     of netdoctor's node script (src/collect/script.ts) without its framing,
#     limits or fallbacks.
# Output goes to /dev/null (netdoctor parses it; the floor only receives it).
#
#   sh bench/raw-floor.sh MANAGER_SOCKET KEY KNOWN_HOSTS NODE_IP...
set -eu
sock=$1 key=$2 kh=$3
shift 3
api() { curl -sf --unix-socket "$sock" "http://docker/v1.41$1" >/dev/null; }
api /info
api /swarm
api /nodes
for id in $(curl -sf --unix-socket "$sock" 'http://docker/v1.41/networks?filters=%7B%22driver%22%3A%5B%22overlay%22%5D%7D' | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
  api "/networks/$id?verbose=true&scope=swarm"
done
api /services
api /tasks

node_script='
export LC_ALL=C
date -u +%s.%N; hostname; uname -srm; cat /etc/os-release; id -u
D=$(pidof dockerd | cut -d" " -f1); tr "\0" " " < /proc/$D/cmdline; echo
readlink /proc/self/ns/mnt /proc/$D/ns/mnt
docker version --format "{{json .}}"; docker info --format "{{json .}}"
containerd --version; cat /etc/docker/daemon.json 2>/dev/null
for m in overlay vxlan br_netfilter ip_vs ip_vs_rr nf_nat xt_conntrack esp4 xfrm_user; do [ -d /sys/module/$m ] && echo "$m present"; done
for s in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables net/ipv4/conf/all/rp_filter net/ipv4/conf/default/rp_filter net/ipv4/vs/conntrack net/ipv4/neigh/default/gc_thresh1; do [ -r /proc/sys/$s ] && echo "$s=$(cat /proc/sys/$s)"; done
iptables -V; iptables-save; iptables-legacy-save; iptables-nft-save
ip -j -d link show; ip -j addr show; ip -j route show
ss -Htulnp "( sport = :2377 or sport = :7946 or sport = :4789 )"
for ns in /var/run/docker/netns/*; do
  [ -e "$ns" ] || continue
  echo "== $ns"
  nsenter --net="$ns" sh -c "ip -j -d link show; ip -j addr show; ip -j route show; ip -j neigh show; bridge -j fdb show; ip xfrm state; ip xfrm policy; iptables-save -t mangle; iptables-save -t nat; ipvsadm -Ln 2>/dev/null"
done
'
for ip in "$@"; do
  ssh -n -T -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$kh" -o IdentitiesOnly=yes -i "$key" -F none "root@$ip" "$node_script" >/dev/null 2>&1 &
done
wait
