#!/usr/bin/env bash
# The main job for a newcomer: build, install the plugin into a private docker
# config, and diagnose a swarm. With DOCKER_HOST/--context pointing at a swarm
# manager it uses that; otherwise it starts the lab (root, Linux) and uses it.
#   npm run demo                 # against the lab
#   npm run demo -- nodes --json # any netdoctor arguments
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
export DOCKER_CONFIG="${DOCKER_CONFIG:-$PWD/.demo-docker-config}"
./bin/docker-netdoctor plugin install >/dev/null
if [ -z "${DOCKER_HOST:-}" ] && [ -z "${DOCKER_CONTEXT:-}" ]; then
  bash scripts/install-deps.sh
  bash test/lab/lab.sh up >/dev/null
  lab="${ND_LAB_DIR:-/tmp/ndlab}"
  export DOCKER_HOST="unix://$lab/nodes/nd1/docker.sock"
  export NETDOCTOR_SSH_IDENTITY="$lab/id_ed25519" NETDOCTOR_SSH_KNOWN_HOSTS="$lab/known_hosts"
  echo "lab swarm up; DOCKER_HOST=$DOCKER_HOST (tear down with: npm run lab -- down)" >&2
fi
if [ "$#" -gt 0 ]; then
  exec docker netdoctor "$@"
fi
docker netdoctor nodes
rc=0
docker netdoctor check || rc=$?
if [ "$rc" = 1 ]; then
  # Exit 1 means "checks ran and something failed": the demo did its job.
  echo "docker netdoctor exited 1: it found failures (on the lab: what this kernel lacks, IPVS)." >&2
  exit 0
fi
exit "$rc"
