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
docker netdoctor check
