#!/usr/bin/env bash
# What the counters of --admin cost (docs/admin.md): echo through bench/spot.sh with and without
# `--admin 127.0.0.1:0` (without it nothing is counted), alternated, the order turned every round
# so that neither always runs first. Prints each spot.sh line and, per model and connection
# count, the mean req/s and server us/request of both and their ratios.
#
#   bench/admin_overhead.sh [BUILD_DIR]
#
# BUILD_DIR: a release build (default build/release). Environment: ROUNDS (default 5), CONNS
# (default "10 100"), MODELS (default "epoll thread"), DURATION (s per run, default 3, passed to
# spot.sh). Each run is one spot.sh: bounded by DURATION, its server killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

build=$(realpath "${1:-build/release}")
rounds=${ROUNDS:-5}
results=$(mktemp /tmp/admin_overhead.XXXXXX)
trap 'rm -f "$results"' EXIT

echo "build: $build; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for model in ${MODELS:-epoll thread}; do
    for conns in ${CONNS:-10 100}; do
      for i in 0 1; do
        if (((i + round) % 2 == 0)); then which=off flags=""; else which=on flags="--admin 127.0.0.1:0"; fi
        line=$(BUILD=$build SERVE_FLAGS=$flags bench/spot.sh "$model" "$conns")
        echo "round $round  metrics $which: $line"
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$model" "$conns" "$which" "$line" >>"$results"
      done
    done
  done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'PY'
import collections, re, statistics, sys
runs = collections.defaultdict(list)  # (model, conns, on/off) -> [(req/s, us/request)]
for line in open(sys.argv[1]):
    rnd, model, conns, which, text = line.rstrip("\n").split("\t", 4)
    rate = float(re.search(r": (\d+) req/s", text).group(1))
    us = float(re.search(r"= ([\d.]+) us/request", text).group(1))
    runs[(model, int(conns), which)].append((rate, us))
print("\nsummary: mean req/s, mean server us/request; on/off ratios (metrics on / off)")
for model, conns in sorted({(m, c) for m, c, _ in runs}):
    off, on = runs[(model, conns, "off")], runs[(model, conns, "on")]
    rate_off, rate_on = statistics.mean(r for r, _ in off), statistics.mean(r for r, _ in on)
    us_off, us_on = statistics.mean(u for _, u in off), statistics.mean(u for _, u in on)
    print(f"{model:6} c={conns:<4} off {rate_off:8.0f} req/s {us_off:5.2f} us/req | on {rate_on:8.0f} req/s "
          f"{us_on:5.2f} us/req | req/s x{rate_on / rate_off:.3f}, us/req x{us_on / us_off:.3f}")
PY
