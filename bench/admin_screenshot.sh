#!/usr/bin/env bash
# The screenshot of docs/admin.png: `sockit serve` with --admin under load (sockit bench drives
# echo over 100 connections and fib over 4; a burst of 80 more echo clients, 64 of them past
# --max-conns, is refused), and headless Chromium's picture of the status page. Everything runs
# in a network namespace of its own with only lo (root): the load stays on loopback and the
# browser reaches nothing else. Bounded: the load runs 25 s at most and every process is ended on exit.
#
#   bench/admin_screenshot.sh [BUILD_DIR] [OUT_PNG]
#
# BUILD_DIR: default build/release; OUT_PNG: default docs/admin.png.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build/release}")
out=$(realpath -m "${2:-docs/admin.png}")
if [[ -z ${ADMIN_SCREENSHOT_INSIDE:-} ]]; then
  exec env ADMIN_SCREENSHOT_INSIDE=1 unshare -n bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$build" "$out"
fi
. bench/lib.sh
sockit=$build/src/cli/sockit
work=$(mktemp -d /tmp/admin_screenshot.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$sockit" serve echo:0 fib:0 --listen 127.0.0.1 --tcp --quiet --max-conns 120 \
  --admin 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "$work/serve.log" "admin page on"
port_of() { grep -oE "listening on 127.0.0.1:[0-9]+ \\($1/tcp" "$work/serve.log" | head -1 | sed -E 's/.*:([0-9]+) .*/\1/'; }
echo_port=$(port_of echo) fib_port=$(port_of fib) 
admin=$(grep -oE "admin page on http://[0-9.:]+" "$work/serve.log" | sed 's|admin page on http://||')

"$sockit" bench echo "127.0.0.1:$echo_port" --conns 100 --duration 25 --warmup 0 >/dev/null 2>&1 &
pids+=($!)
"$sockit" bench fib "127.0.0.1:$fib_port" --conns 4 --n 25 --duration 25 --warmup 0 >/dev/null 2>&1 &
pids+=($!)
sleep 3
# 80 more echo clients: 64 past what --max-conns leaves room for, each refused and counted.
python3 - "$echo_port" <<'PY'
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) for _ in range(80)]
time.sleep(1)
for s in held:
    s.close()
PY
curl -s "http://$admin/status.json" >/dev/null  # the rates' window starts here
sleep 2
chromium --headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --disable-default-apps --disable-extensions --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size=1800,860 --virtual-time-budget=3000 \
  --screenshot="$out" "http://$admin/" >/dev/null 2>&1
echo "wrote $out"
