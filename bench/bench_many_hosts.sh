#!/usr/bin/env bash
# Load from many hosts (issue 14, item 6; docs/bench.md): K `sockit bench` processes on K lab
# hosts against one `sockit serve` on another, started together; prints each command and the
# merged report of `sockit bench merge`. Needs root (the lab: docs/lab.md) and a build.
#
#   bench/bench_many_hosts.sh                         # 3 load hosts, echo, 10 conns each, 5 s
#   bench/bench_many_hosts.sh -k 5 --duration 10 --rate-mbit 100
#   bench/bench_many_hosts.sh --sockit build/asan/src/cli/sockit -k 2 -- --pipeline 4
#
# Options: -k/--load-hosts K, --workload echo|fib|connect|stream, --conns N (per host),
# --duration S, --warmup S, --model M and --server-threads N (the server's), --rate-mbit R (each
# uplink), --out DIR (the reports), --sockit PATH (default build/release/src/cli/sockit); after
# --, more `sockit bench` flags. Bounded: every run stops by itself and the lab is torn down.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PYTHONPATH="$root/tests/integration${PYTHONPATH:+:$PYTHONPATH}" exec python3 bench/bench_many_hosts.py "$@"
