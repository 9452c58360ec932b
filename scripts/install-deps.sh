#!/usr/bin/env bash
# Debian packages the lab and the e2e tests need (root). Idempotent and quick
# when everything is already there.
set -euo pipefail
PKGS=(docker.io openssh-server openssh-client iptables iproute2 busybox-static tcpdump ipvsadm ethtool iputils-ping sudo tmux procps psmisc util-linux kmod chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The docker CLI that loads our plugin: the machine's (28.x) when present,
# else the one docker.io ships.
command -v docker >/dev/null
