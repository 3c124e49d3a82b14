#!/usr/bin/env bash
# `sockit bench http` against wrk on the same nginx, alternated: nginx (bench/nginx_http.conf:
# 1 worker, sendfile, no access log, keep-alive requests unlimited) pinned to core 0 serves a
# 100 B and a 1 MiB file on a free loopback port; the load generator is pinned to core 1 and runs
# `wrk -t1 -cCONNS -dDURATIONs URL` and `sockit bench http URL -t1 -cCONNS -dDURATION`, the
# order swapped every round so that neither always runs first. Prints each run (req/s, body
# MB/s, the load generator's and nginx's CPU) and a summary: mean req/s per tool and sockit/wrk
# (the ratio of the means, and each round's ratio of the two runs next to each other).
#
#   bench/http_vs_wrk.sh [BUILD_DIR]
#
# BUILD_DIR: a release build (default build/release: cmake --preset release && cmake --build
# --preset release --target sockit). Needs wrk and nginx: scripts/bootstrap --bench.
# Environment: ROUNDS (default 3), DURATION (s per run, default 10), CONNS (default 100),
# FILES (default "100.txt 1m.bin"), SERVER_CPU / CLIENT_CPU (default 0 / 1).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

build=$(realpath "${1:-build/release}")
sockit=$build/src/cli/sockit
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
conns=${CONNS:-100}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
[[ -x $sockit ]] || { echo "http_vs_wrk: no $sockit (build it: cmake --build --preset release --target sockit)" >&2; exit 1; }
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "http_vs_wrk: $tool is missing (scripts/bootstrap --bench)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/http_vs_wrk.XXXXXX)
chmod 755 "$dir"  # nginx's worker runs as nobody when started by root
mkdir "$dir/www"
head -c 100 /dev/zero | tr '\0' a >"$dir/www/100.txt"
head -c 1048576 /dev/urandom >"$dir/www/1m.bin"
port=$(free_port)
sed -e "s|@DIR@|$dir|g" -e "s|@ROOT@|$dir/www|g" -e "s|@PORT@|$port|g" bench/nginx_http.conf >"$dir/nginx.conf"
taskset -c "$server_cpu" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
wait_listening "$port" || { echo "http_vs_wrk: nginx did not start:" >&2; cat "$dir/error.log" >&2; exit 1; }
worker=$(pgrep -P "$nginx_pid" | head -1)

# utime + stime of a process, in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

results=$dir/results
echo "sockit: $sockit; $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(nginx -v 2>&1 | cut -d' ' -f3)"
echo "$(nproc) CPUs, nginx on $server_cpu, load generator on $client_cpu; load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for file in ${FILES:-100.txt 1m.bin}; do
    url="http://127.0.0.1:$port/$file"
    tools=(wrk sockit)
    (( round % 2 == 0 )) && tools=(sockit wrk)
    for tool in "${tools[@]}"; do
      out=$dir/out
      before=$(ticks "$worker")
      case $tool in
        wrk) /usr/bin/time -f '%U %S' -o "$dir/time" taskset -c "$client_cpu" \
               wrk -t1 -c"$conns" -d"${duration}s" "$url" >"$out"
             rate=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
             errors=$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' "$out") ;;
        sockit) /usr/bin/time -f '%U %S' -o "$dir/time" taskset -c "$client_cpu" \
                  "$sockit" bench http "$url" -t1 -c"$conns" -d"$duration" --warmup 0 --json >"$out"
                rate=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests_per_s"])' "$out")
                errors=$(python3 -c 'import json, sys; n = json.load(open(sys.argv[1]))["error_total"]; print(f"errors {n}" if n else "")' "$out") ;;
      esac
      server=$(( $(ticks "$worker") - before ))
      client=$(awk '{ print $1 + $2 }' "$dir/time")
      line=$(python3 -c '
import sys
rate, size, client, server, hz, seconds = map(float, sys.argv[1:7])
print(f"{rate:9.0f} req/s, {rate * size / 1e6:8.1f} MB/s of bodies, client {100 * client / seconds:3.0f}% of a core, "
      f"nginx {100 * server / hz / seconds:3.0f}% ({1e6 * server / hz / (rate * seconds):.2f} us/request)")' \
        "$rate" "$(stat -c %s "$dir/www/$file")" "$client" "$server" "$hz" "$duration")
      echo "round $round $file $tool: $line${errors:+ [$errors]}"
      printf '%s\t%s\t%s\t%s\n' "$round" "$file" "$tool" "$rate" >>"$results"
    done
  done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import collections, statistics, sys
rates = collections.defaultdict(dict)  # (file, tool) -> round -> req/s
for line in open(sys.argv[1]):
    rnd, file, tool, rate = line.split("\t")
    rates[(file, tool)][int(rnd)] = float(rate)
print("\nsummary: mean req/s [min-max]; sockit / wrk")
for file in dict.fromkeys(f for f, _ in rates):
    wrk, ours = rates[(file, "wrk")], rates[(file, "sockit")]
    for tool, r in (("wrk", wrk), ("sockit", ours)):
        print(f"{file:8} {tool:6} {statistics.mean(r.values()):9.0f} [{min(r.values()):.0f}-{max(r.values()):.0f}] req/s")
    rounds = [ours[k] / wrk[k] for k in sorted(ours) if k in wrk]
    print(f"{file:8} sockit / wrk {statistics.mean(ours.values()) / statistics.mean(wrk.values()):.3f} "
          f"(rounds: {', '.join(f'{x:.3f}' for x in rounds)})")
EOF
