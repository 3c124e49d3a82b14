#!/usr/bin/env bash
# Cascade over loopback, two builds side by side: a 200,000,000-byte file in 1 MiB blocks
# fetched by `sockit cascade peer --no-seed` from 1 seed and from 4 seeds, next to the two
# limits of docs/cascade.md (`sha256sum` of the file, a `socat` copy over TCP).
#
#   bench/cascade_fetch.sh OLD_SOCKIT NEW_SOCKIT
#
# Each round: sha256sum, socat, then old and new alternated (old first in odd rounds) from 1 seed,
# then the same from 4 seeds. Every fetch gets a fresh tracker (--allow-any) and fresh seeds (each
# a `sockit cascade peer` of the same build on the complete file, started before the clock and
# waited for until it prints "seeding"); the output is compared with `cmp` after the clock stops.
# Figures per fetch: wall time of the leecher; the seeds' CPU per MB served: utime+stime from
# /proc/PID/stat (clock ticks) just before and just after the fetch, summed over the seeds, in ms,
# divided by 200 (MB); the same from /proc/PID/task/*/schedstat (ns, finer than the 10 ms tick)
# as a cross-check; the leecher's own CPU (user+sys, /usr/bin/time); how many blocks came from each seed (--stats).
# Prints one line per measurement and a summary (mean, min, max per row).
#
# Environment: ROUNDS (default 3), WORK (scratch directory, default a new one under /tmp,
# removed at the end unless KEEP=1; needs ~600 MB), FETCH_TIMEOUT (s per fetch, default 120).
# Loopback only; every port is picked by the kernel (port 0) except socat's, taken from a probe.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
repo=$PWD

old=$(realpath "${1:?usage: bench/cascade_fetch.sh OLD_SOCKIT NEW_SOCKIT}")
new=$(realpath "${2:?usage: bench/cascade_fetch.sh OLD_SOCKIT NEW_SOCKIT}")
rounds=${ROUNDS:-3}
fetch_timeout=${FETCH_TIMEOUT:-120}
size=200000000
mb=$((size / 1000000))
tick_ms=$((1000 / $(getconf CLK_TCK)))
work=${WORK:-$(mktemp -d /tmp/cascade_fetch.XXXXXX)}
mkdir -p "$work"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
on_exit() {
  cleanup
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$work"
}
trap on_exit EXIT
trap 'exit 130' INT TERM



# Sum of utime+stime (ticks) over the given pids.
ticks() { for pid in "$@"; do cut -d' ' -f14,15 "/proc/$pid/stat"; done | awk '{t += $1 + $2} END {print t + 0}'; }
# Sum of on-CPU time (ns) over every thread of the given pids.
cpu_ns() { for pid in "$@"; do cat /proc/"$pid"/task/*/schedstat; done | awk '{t += $1} END {printf "%d\n", t}'; }

cd "$work"
if [[ ! -f big.bin.cascade ]]; then
  python3 -c "import sys; sys.path.insert(0, '$repo/tests/integration')
from cascade_support import make_data; make_data('big.bin', $size, seed=7)"
  "$new" cascade create big.bin --block-size 1MiB >/dev/null
fi
results=$work/results.tsv
: >"$results"

# fetch LABEL SOCKIT SEEDS ROUND
fetch() {
  local label=$1 sockit=$2 nseeds=$3 round=$4 seeds=() i port
  "$sockit" cascade tracker --listen 127.0.0.1:0 --allow-any --quiet >tracker.log 2>&1 &
  pids+=($!)
  wait_for tracker.log 'listening on 127\.0\.0\.1:[0-9]+'
  port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' tracker.log | head -1 | cut -d: -f2)
  for i in $(seq "$nseeds"); do
    "$sockit" cascade peer big.bin.cascade --tracker "127.0.0.1:$port" --listen 127.0.0.1:0 -o big.bin \
      >"seed$i.log" 2>&1 &
    pids+=($!)
    seeds+=($!)
  done
  for i in $(seq "$nseeds"); do wait_for "seed$i.log" '^seeding'; done
  rm -f out.bin stats.json
  local t0 t1 c0 c1 n0 n1
  c0=$(ticks "${seeds[@]}")
  n0=$(cpu_ns "${seeds[@]}")
  t0=$(date +%s.%N)
  timeout "$fetch_timeout" /usr/bin/time -f '%U %S' -o leech.time \
    "$sockit" cascade peer big.bin.cascade --tracker "127.0.0.1:$port" --listen 127.0.0.1:0 -o out.bin \
    --no-seed --list-interval 1 --stats stats.json >leech.log 2>&1
  t1=$(date +%s.%N)
  c1=$(ticks "${seeds[@]}")
  n1=$(cpu_ns "${seeds[@]}")
  cleanup
  cmp -s out.bin big.bin || { echo "$label: out.bin differs from big.bin" >&2; cat leech.log >&2; exit 1; }
  local peers
  peers=$(python3 -c 'import json
print("/".join(str(n) for n in json.load(open("stats.json"))["files"][0]["blocks_from"].values()))')
  awk -v l="$label" -v s="$nseeds" -v r="$round" -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" \
      -v n="$((n1 - n0))" -v mb="$mb" -v tick="$tick_ms" -v p="$peers" -v lt="$(cat leech.time)" 'BEGIN {
    split(lt, u, " ")
    printf "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.2f\t%s\n", l, s, r, t1 - t0, c * tick / mb, n / 1e6 / mb, u[1] + u[2], p
  }' | tee -a "$results" | awk -F'\t' '{
    printf "round %d  %-4s %d seed(s): %6.3f s  seeds %.3f ms/MB (stat), %.3f ms/MB (schedstat)  leecher CPU %.2f s  blocks per seed %s\n",
      $3, $1, $2, $4, $5, $6, $7, $8 }'
}

limit() {
  local label=$1 round=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v l="$label" -v r="$round" -v t0="$t0" -v t1="$t1" 'BEGIN {
    printf "%s\t0\t%d\t%.3f\t\t\t\t\n", l, r, t1 - t0 }' | tee -a "$results" |
    awk -F'\t' '{ printf "round %d  %s: %6.3f s\n", $3, $1, $4 }'
}

socat_copy() {
  local port
  port=$(free_port)
  rm -f copy.bin
  socat -u FILE:big.bin "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" &
  pids+=($!)
  # Not a probe connection: socat would send the file to it and exit.
  for _ in $(seq 200); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.05; done
  limit socat "$1" timeout "$fetch_timeout" socat -u "TCP:127.0.0.1:$port" CREATE:copy.bin
  cleanup
  cmp -s copy.bin big.bin || { echo "socat: copy.bin differs" >&2; exit 1; }
  rm -f copy.bin
}

echo "old: $old"
echo "new: $new"
echo "work: $work, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
cat big.bin >/dev/null  # warm the page cache
for round in $(seq "$rounds"); do
  limit sha256sum "$round" sh -c "sha256sum big.bin >/dev/null"
  socat_copy "$round"
  for nseeds in 1 4; do
    if ((round % 2)); then order=(old new); else order=(new old); fi
    for which in "${order[@]}"; do
      if [[ $which == old ]]; then fetch old "$old" "$nseeds" "$round"; else fetch new "$new" "$nseeds" "$round"; fi
    done
  done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, seeds, _, secs, stat, sched, leech, _ = line.rstrip("\n").split("\t")
    rows[(label, int(seeds))].append((float(secs), stat and float(stat), sched and float(sched), leech and float(leech)))
print("\nsummary (mean [min-max])")
for (label, seeds), runs in rows.items():
    name = label if not seeds else f"{label} {seeds} seed(s)"
    def col(i, fmt):
        v = [r[i] for r in runs]
        return f"{fmt.format(statistics.mean(v))} [{fmt.format(min(v))}-{fmt.format(max(v))}]"
    line = f"{name:16} wall {col(0, '{:.3f}')} s"
    if seeds:
        line += f"  seeds {col(1, '{:.3f}')} ms/MB (stat), {col(2, '{:.3f}')} ms/MB (schedstat)  leecher CPU {col(3, '{:.2f}')} s"
    print(line)
    print(f"{'':16} wall each: {', '.join(f'{r[0]:.2f}' for r in runs)}")
for seeds in (1, 4):
    o, n = rows.get(("old", seeds)), rows.get(("new", seeds))
    if o and n:
        m = lambda rs, i: statistics.mean(r[i] for r in rs)
        print(f"new/old {seeds} seed(s): wall {m(n, 0) / m(o, 0):.2f}x, seed CPU/MB {m(n, 1) / m(o, 1):.2f}x (stat), "
              f"{m(n, 2) / m(o, 2):.2f}x (schedstat)")
EOF
