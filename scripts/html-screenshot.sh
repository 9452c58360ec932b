#!/usr/bin/env bash
# The README's picture of the HTML report: the example bundle's page, rendered
# by this build (`check --from-bundle … --format html`), screenshotted by
# Debian's headless Chromium in an empty network namespace (root: unshare),
# so the page is shown exactly as it renders with no network access.
#   npm run build && bash scripts/html-screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/report-html.png}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rc=0
./bin/docker-netdoctor check --from-bundle examples/netdoctor-lab-fdb-wrong-dst.tar.gz --format html -o "$tmp/report.html" >/dev/null || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || { echo "check --from-bundle exited $rc" >&2; exit "$rc"; }
unshare --net -- chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1480 \
  --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
mv "$tmp/shot.png" "$out"
echo "wrote $out" >&2
