#!/usr/bin/env bash
# Debian packages the lab and the e2e tests need (root). Idempotent and quick
# when everything is already there.
set -euo pipefail
PKGS=(docker.io openssh-server openssh-client iptables iproute2 busybox-static tcpdump ipvsadm ethtool iputils-ping sudo tmux procps psmisc util-linux kmod chromium curl conntrack)
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

# Docker 26 for the lab (its default engine): Debian trixie's docker.io
# 26.1.5, unpacked (never installed) into $ND_DOCKER26_DIR. Its dockerd runs
# on bookworm's libraries, containerd and runc. The trixie source lives in a
# private apt state under a temporary directory for this one download: the
# machine's sources, package lists and installed packages are not touched.
D26=${ND_DOCKER26_DIR:-/opt/ndlab/docker-26}
D26_VERSION=26.1.5
if ! "$D26/usr/sbin/dockerd" --version 2>/dev/null | grep -qF "version $D26_VERSION"; then
  echo "fetching trixie's docker.io $D26_VERSION into $D26"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 0755 "$tmp" # apt's _apt user writes the download there
  mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl"
  : >"$tmp/none.list"
  cat >"$tmp/parts/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_private=(-o "Dir::Etc::SourceList=$tmp/none.list" -o "Dir::Etc::SourceParts=$tmp/parts"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
  apt-get "${apt_private[@]}" update -qq
  chmod 0777 "$tmp/dl"
  (cd "$tmp/dl" && apt-get "${apt_private[@]}" -qq download "docker.io=$D26_VERSION*" >/dev/null)
  deb=$(find "$tmp/dl" -maxdepth 1 -name "docker.io_${D26_VERSION}*.deb" -print -quit)
  [ -n "$deb" ] || { echo "install-deps: trixie has no docker.io $D26_VERSION" >&2; exit 1; }
  rm -rf "$D26.new"
  mkdir -p "$D26.new"
  dpkg -x "$deb" "$D26.new"
  "$D26.new/usr/sbin/dockerd" --version | grep -qF "version $D26_VERSION" ||
    { echo "install-deps: the unpacked dockerd does not run: $("$D26.new/usr/sbin/dockerd" --version 2>&1 | head -1)" >&2; exit 1; }
  rm -rf "$D26"
  mv "$D26.new" "$D26"
  rm -rf "$tmp"
  trap - EXIT
fi
