#!/usr/bin/env bash
# Record examples/netdoctor-lab-fdb-wrong-dst.tar.gz: a support bundle of the
# lab swarm with one real fault in it. In nd2's sandbox of the overlay ndnet,
# the FDB entry of a task running on nd3 is pointed at nd1 instead
# (`bridge fdb replace <task MAC> dev vxlan0 dst 10.213.0.11`), so nd2 sends
# that task's traffic to the wrong node. The fault is undone on every exit
# path, and the bundle is checked: the fault is found offline, no secret is in it.
#
#   bash scripts/record-example-bundle.sh            # root, Linux; starts the lab if needed
#   docker netdoctor check --from-bundle examples/netdoctor-lab-fdb-wrong-dst.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-examples/netdoctor-lab-fdb-wrong-dst.tar.gz}"
lab="${ND_LAB_DIR:-/tmp/ndlab}"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
bash test/lab/lab.sh up >/dev/null
bash test/lab/lab.sh wait 60 >/dev/null

nd=./bin/docker-netdoctor
dock() { docker --host "unix://$lab/nodes/nd1/docker.sock" "$@"; }
ip_of() { node -e 'const s=require(process.argv[1]);console.log(s.nodes.find(n=>n.name===process.argv[2]).ip)' "$lab/lab.json" "$1"; }
nd1=$(ip_of nd1)
nd3=$(ip_of nd3)
netid=$(dock network inspect ndnet --format '{{.Id}}')
sbox="1-${netid:0:10}"
# A task of the lab's service on nd3, and its Docker MAC (02:42 + the IPv4 octets).
task_ip=$(dock network inspect ndnet --verbose --format '{{range $s := .Services}}{{range .Tasks}}{{.Name}} {{.EndpointIP}} {{index .Info "Host IP"}}{{"\n"}}{{end}}{{end}}' \
  | awk -v h="$nd3" '$3 == h && $1 !~ /-endpoint$/ { split($2, a, "/"); print a[1]; exit }')
[ -n "$task_ip" ] || { echo "no task of ndnet on nd3" >&2; exit 1; }
mac=$(printf '02:42:%02x:%02x:%02x:%02x' $(echo "$task_ip" | tr '.' ' '))
in_sbox() { bash test/lab/lab.sh exec nd2 -- nsenter --net="/var/run/docker/netns/$sbox" "$@"; }

restore() { in_sbox bridge fdb replace "$mac" dev vxlan0 dst "$nd3" self permanent || true; }
trap restore EXIT
echo "fault: on nd2, $sbox: $mac ($task_ip, on nd3) → dst $nd1" >&2
in_sbox bridge fdb replace "$mac" dev vxlan0 dst "$nd1" self permanent

mkdir -p "$(dirname "$out")"
rm -f "$out"
"$nd" -H "unix://$lab/nodes/nd1/docker.sock" bundle -o "$out" --log-lines 300 \
  --identity "$lab/id_ed25519" --known-hosts "$lab/known_hosts" --ssh-config none
restore
trap - EXIT

# The fault must be in it, found offline; and no secret.
report=$("$nd" check --from-bundle "$out" --only overlay.fdb --format json || true)
printf '%s' "$report" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));const f=r.findings.filter(x=>x.id==="overlay.fdb.wrong-dst"&&x.status==="fail"&&x.node==="nd2"&&x.peer==="nd3"&&x.network==="ndnet");if(!f.length){console.error("the FDB fault is not in the bundle");process.exit(1)}console.error("found offline: "+f[0].detail)'
if tar -xzOf "$out" | grep -aEq 'SWMTKN-1-[0-9a-z]{20,}|0x[0-9a-fA-F]{16,}|\[[0-9]{1,3}( [0-9]{1,3}){15,}\]'; then
  echo "secret material in $out" >&2
  exit 1
fi
"$nd" bundle inspect "$out"
