#!/usr/bin/env bash
# The soak, one command (issue 12 item 7): builds sockit (release), then runs every event model of
# `sockit serve` and a Cascade swarm under well-behaved and hostile clients for MINUTES, sampling
# RSS, open fds and p99 latency every few seconds, and writes docs/soak.md, docs/soak/*.csv and
# docs/soak/{rss,fds,p99,downloads}.png with the drift between the first and last windows.
#
#   bench/soak.sh          # 30 minutes
#   bench/soak.sh 1        # a one-minute smoke run of the same pipeline (samples every 2 s)
#   nice -n 5 bench/soak.sh 30
#   SOAK_OUT=/tmp/soak bench/soak.sh 1   # anywhere but docs/ (a smoke run would overwrite its files)
#
# Bounded: it ends after MINUTES (plus start-up and at most two minutes of shutdown), and every
# process it starts is stopped on exit, Ctrl-C or error. Traffic goes to 127.0.0.1 only.
# Exit status: 0 when every curve is flat, 1 when one is not or a server died, 2 on bad usage
# (a run under 10 minutes is a smoke run: only a server that died fails it).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-30}
if ! [[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v m="$minutes" 'BEGIN { exit !(m > 0 && m <= 1440) }'; then
  echo "usage: bench/soak.sh [MINUTES]   (more than 0, at most 1440; default 30)" >&2
  exit 2
fi

if ! command -v gnuplot >/dev/null; then
  echo "soak: gnuplot is missing (the plots are left out); install it with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends gnuplot-nox" >&2
fi

cmake --preset release >/dev/null
cmake --build --preset release -j2 >&2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 bench/soak.py --sockit build/release/src/cli/sockit --minutes "$minutes" --out "${SOAK_OUT:-docs}" \
  --command "bench/soak.sh${*:+ $*}" "${@:2}"
