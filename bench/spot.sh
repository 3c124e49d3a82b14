#!/usr/bin/env bash
# One point of the shoot-out, for before/after comparisons while profiling: starts a server
# pinned to core 0, drives it with `sockit bench` pinned to core 1, prints one line.
#
#   bench/spot.sh SYSTEM CONNS [WORKLOAD] [-- extra bench flags]
#
# SYSTEM: a model of `sockit serve --list-models` (served with --threads 1), `reference`
# (bench/reference/echo_epoll.cpp) or `redis` (PING). WORKLOAD: echo (default) or connect.
# Environment: DURATION (s, default 3), SERVE_FLAGS (added to `sockit serve`), BUILD (default
# build/release). Needs a release build: cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

system=${1:?usage: bench/spot.sh SYSTEM CONNS [WORKLOAD] [-- bench flags]}
conns=${2:?usage: bench/spot.sh SYSTEM CONNS [WORKLOAD] [-- bench flags]}
workload=${3:-echo}
shift $(($# < 3 ? $# : 3))
[[ ${1:-} == -- ]] && shift
build=${BUILD:-build/release}
sockit=$build/src/cli/sockit
port=$(free_port)

case $system in
  reference) taskset -c 0 "$build/bench/reference/reference_echo" "127.0.0.1:$port" >/dev/null & ;;
  redis) taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
           --maxclients 5000 >/dev/null & ;;
  *) # shellcheck disable=SC2086  # SERVE_FLAGS is a list of words
     taskset -c 0 "$sockit" serve "echo:$port" --listen 127.0.0.1 --tcp --quiet --max-conns 5000 \
       --model "$system" --threads 1 ${SERVE_FLAGS:-} >/dev/null & ;;
esac
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

wait_listening "$port"

if [[ $system == redis ]]; then
  workload=ping
  load=(raw --send 'PING\r\n' --expect '+PONG\r\n')
else
  load=("$workload" --size 64)
fi
taskset -c 1 "$sockit" bench "${load[0]}" "127.0.0.1:$port" "${load[@]:1}" --conns "$conns" --threads 1 \
  --duration "${DURATION:-3}" --warmup 0.5 --server-pid "$server" --json "$@" |
  python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r.get("server_cpu") or {}
system, workload, conns = sys.argv[1:4]
rate, p99 = r["requests_per_s"], r["latency_us"]["p99"]
print(f"{system} {workload} c={conns}: {rate:.0f} req/s, p99 {p99:.0f} us, "
      f"server {s.get('"'"'percent_of_core'"'"', 0):.0f}% of a core = {s.get('"'"'us_per_request'"'"', 0):.2f} us/request, "
      f"bench {r['"'"'client_cpu'"'"']['"'"'percent_of_core'"'"']:.0f}%, errors {r['"'"'error_total'"'"']}")
' "$system" "$workload" "$conns"
