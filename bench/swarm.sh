#!/usr/bin/env bash
# One seed and N leechers on a lab of network namespaces, Cascade's swarm and BitTorrent's (aria2c,
# bench/bittorrent_swarm.py) on the same labs, file and limits, kinds alternating, each against the
# P2P distribution bound max(F/u_s, F/d_min, N*F/(u_s + sum u_i)): bench/swarm.py does the work,
# docs/swarm.md has the figures.
#
#   bench/swarm.sh                         N = 5, 10, 20; 3 runs each; the defaults below
#   bench/swarm.sh --sizes 20 --repeat 5   any option of bench/swarm.py (--help lists them)
#   bench/swarm.sh --kinds cascade         Cascade alone (BitTorrent needs scripts/bootstrap --bench)
#
# Defaults: F = 32 MiB in 32 KiB blocks, every uplink 10 Mbit/s, 0.5% of IP packets lost on
# every uplink (why 10 and not 50 Mbit/s: docs/swarm.md). Needs root (the lab), a release build
# (SOCKIT, default build/release/src/cli/sockit:
#   cmake --preset release && cmake --build --preset release --target sockit)
# and about 32 MiB x (N + 1) in /tmp. NICE (default -10) runs the swarm above other work on a
# shared machine; every lab is torn down at the end, on Ctrl-C and after --timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
[[ -x $SOCKIT ]] || { echo "no sockit at $SOCKIT: build the release preset first" >&2; exit 2; }
export SOCKIT
exec nice -n "${NICE:--10}" python3 bench/swarm.py --kinds cascade,bittorrent "$@"
