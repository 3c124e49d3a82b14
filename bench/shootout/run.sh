#!/usr/bin/env bash
# The shoot-out, one command: builds sockit (release), then measures every TCP model of
# `sockit serve --list-models` on every workload and concurrency against the reference epoll
# echo loop and Redis, and writes docs/shootout.md, docs/shootout/*.csv and *.png.
#
#   bench/shootout/run.sh            # the full run (under 20 minutes on 2 cores)
#   bench/shootout/run.sh --quick    # a 1-minute smoke run of the same pipeline
#
# Environment: SHOOTOUT_DURATION (s, default 1), SHOOTOUT_WARMUP (default 0.3),
# SHOOTOUT_RUNS (default 3). Run it on a quiet machine: anything else on the two cores
# shows up in the numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v taskset >/dev/null || missing+=(util-linux)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "shootout: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  [[ " ${missing[*]} " == *" util-linux "* ]] && exit 1
  echo "shootout: going on without them (their rows and plots are left out)" >&2
fi
if [[ $(nproc) -lt 2 ]]; then
  echo "shootout: needs 2 cores (server on core 0, load on core 1); this machine has $(nproc)" >&2
  exit 1
fi

cmake --preset release >/dev/null
cmake --build --preset release >&2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 bench/shootout/shootout.py \
  --sockit build/release/src/cli/sockit \
  --reference build/release/bench/reference/reference_echo \
  --out docs "$@"
