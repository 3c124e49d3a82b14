#!/usr/bin/env bash
# Echo, epoll model against the hand-written reference loop, alternated: bench/spot.sh runs of
# `reference` and `epoll` of the new build and `epoll` of an old build, at each connection count,
# the order rotated every round so that none always runs first. Prints each spot.sh line and a
# summary: mean req/s and server us/request per system, and new epoll / reference (the ratio of
# the means, and each round's ratio, reference measured next to it in the same round).
#
#   bench/echo_vs_reference.sh NEW_BUILD_DIR [OLD_BUILD_DIR]
#
# A build dir is a release build (build/release). The reference loop comes from NEW_BUILD_DIR.
# Environment: ROUNDS (default 3), CONNS (default "100 1000"), DURATION (s per run, default 3,
# passed to spot.sh). Each run is one spot.sh: bounded by DURATION, its server killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

new_build=$(realpath "${1:?usage: bench/echo_vs_reference.sh NEW_BUILD_DIR [OLD_BUILD_DIR]}")
old_build=${2:+$(realpath "$2")}
rounds=${ROUNDS:-3}
results=$(mktemp /tmp/echo_vs_reference.XXXXXX)
trap 'rm -f "$results"' EXIT

systems=(reference new)
[[ -n $old_build ]] && systems+=(old)

echo "new: $new_build${old_build:+, old: $old_build}; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for conns in ${CONNS:-100 1000}; do
    n=${#systems[@]}
    for i in $(seq 0 $((n - 1))); do
      which=${systems[$(((i + round) % n))]}
      case $which in
        reference) line=$(BUILD=$new_build bench/spot.sh reference "$conns") ;;
        new) line=$(BUILD=$new_build bench/spot.sh epoll "$conns") ;;
        old) line=$(BUILD=$old_build bench/spot.sh epoll "$conns") ;;
      esac
      echo "round $round  $which: $line"
      printf '%s\t%s\t%s\t%s\n' "$round" "$conns" "$which" "$line" >>"$results"
    done
  done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import collections, re, statistics, sys
runs = collections.defaultdict(dict)  # (conns, system) -> round -> (req/s, us/request)
for line in open(sys.argv[1]):
    rnd, conns, system, text = line.rstrip("\n").split("\t", 3)
    rate = float(re.search(r": (\d+) req/s", text).group(1))
    us = float(re.search(r"= ([\d.]+) us/request", text).group(1))
    runs[(int(conns), system)][int(rnd)] = (rate, us)
print("\nsummary: mean req/s [min-max], mean server us/request")
for conns in sorted({c for c, _ in runs}):
    for system in ("reference", "new", "old"):
        r = runs.get((conns, system))
        if not r:
            continue
        rates, uss = [v[0] for v in r.values()], [v[1] for v in r.values()]
        print(f"c={conns:<5} {system:9} {statistics.mean(rates):8.0f} [{min(rates):.0f}-{max(rates):.0f}] req/s, "
              f"{statistics.mean(uss):.2f} us/request")
    ref = runs[(conns, "reference")]
    for system in ("new", "old"):
        r = runs.get((conns, system))
        if not r:
            continue
        per_round = [r[k][0] / ref[k][0] for k in sorted(r) if k in ref]
        cpu = [r[k][1] / ref[k][1] for k in sorted(r) if k in ref]
        mean = lambda d, i: statistics.mean(v[i] for v in d.values())
        print(f"c={conns:<5} {system} epoll / reference: req/s {mean(r, 0) / mean(ref, 0):.3f}x "
              f"(rounds: {', '.join(f'{x:.2f}' for x in per_round)}), "
              f"us/request {mean(r, 1) / mean(ref, 1):.3f}x (rounds: {', '.join(f'{x:.2f}' for x in cpu)})")
EOF
