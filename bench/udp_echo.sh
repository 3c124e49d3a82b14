#!/usr/bin/env bash
# UDP echo throughput, two builds side by side: `sockit serve echo:0 --udp --threads T` loaded by
# `sockit bench echo --udp` (closed loop, CONNS sockets, 64-byte datagrams), server CPU per request
# from --server-pid. For the UDP socket design of issue 11, item 3: the old build gives each
# thread a SO_REUSEPORT socket of its own, the new one shares one socket among its threads.
#
#   bench/udp_echo.sh OLD_SOCKIT NEW_SOCKIT
#
# Each round runs every variant once, in a new order each round (old and new alternate who goes
# first). Variants: "old T" (OLD with --threads T), "new T" (NEW with --threads T --udp-rate 0:
# the socket design alone), "new+guard T" (NEW with --udp-rate 1e9: every datagram goes through
# the reflection checks and the per-source table, which never says no). Prints one line per run
# and, per variant, the median and range of requests/s and of server µs per request.
#
# Environment: ROUNDS (default 5), THREADS (default "1 2"), CONNS (default 32), DURATION
# (seconds, default 5). Loopback, port 0; every wait is bounded; servers are killed on exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

old=$(realpath "${1:?usage: bench/udp_echo.sh OLD_SOCKIT NEW_SOCKIT}")
new=$(realpath "${2:?usage: bench/udp_echo.sh OLD_SOCKIT NEW_SOCKIT}")
rounds=${ROUNDS:-5}
conns=${CONNS:-32}
duration=${DURATION:-5}
work=$(mktemp -d /tmp/udp_echo.XXXXXX)

pid=
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=
}
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# run NAME BINARY THREADS EXTRA...: one server, one bench; appends "NAME rps us" to results.
run() {
  local name=$1 binary=$2 threads=$3
  shift 3
  : >"$work/server.log"  # now: the server's own truncation may come after wait_for's first look
  "$binary" serve echo:0 --udp --listen 127.0.0.1 --quiet --threads "$threads" "$@" >"$work/server.log" 2>&1 &
  pid=$!
  wait_for "$work/server.log" 'listening on 127\.0\.0\.1:[0-9]+ \(echo/udp'
  local port
  port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+) \(echo\/udp.*/\1/p' "$work/server.log" | head -1)
  "$new" bench echo "127.0.0.1:$port" --udp --conns "$conns" --duration "$duration" --warmup 1 \
    --server-pid "$pid" --json >"$work/bench.json"
  cleanup
  python3 - "$name" "$work/bench.json" >>"$work/results" <<'EOF'
import json, sys
r = json.load(open(sys.argv[2]))
if r["error_total"]:
    sys.exit(f"{sys.argv[1]}: {r['error_total']} errors: {r['errors']}")
print(sys.argv[1].replace(" ", "_"), r["requests_per_s"], r["server_cpu"]["us_per_request"])
EOF
  tail -1 "$work/results"
}

: >"$work/results"
for round in $(seq "$rounds"); do
  for threads in ${THREADS:-1 2}; do
    if (( round % 2 )); then
      run "old $threads" "$old" "$threads"
      run "new $threads" "$new" "$threads" --udp-rate 0
      run "new+guard $threads" "$new" "$threads" --udp-rate 1e9
    else
      run "new+guard $threads" "$new" "$threads" --udp-rate 1e9
      run "new $threads" "$new" "$threads" --udp-rate 0
      run "old $threads" "$old" "$threads"
    fi
  done
done

python3 - "$work/results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rps, us = line.split()
    runs.setdefault(name.replace("_", " "), []).append((float(rps), float(us)))
print(f"{'variant':<14} {'requests/s median [min-max]':<32} {'server us/request median [min-max]'}")
for name, values in runs.items():
    rps = [v[0] for v in values]
    us = [v[1] for v in values]
    print(f"{name:<14} {statistics.median(rps):>9.0f} [{min(rps):.0f}-{max(rps):.0f}]{'':<8}"
          f"{statistics.median(us):>6.2f} [{min(us):.2f}-{max(us):.2f}]")
EOF
