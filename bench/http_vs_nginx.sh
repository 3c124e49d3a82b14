#!/usr/bin/env bash
# `sockit serve http` against nginx, side by side in one run, alternated (issue 13's "Must show"):
# nginx (1 worker, sendfile on, access_log off, keep-alive requests without a practical limit, a
# private config in a temp dir) and `sockit serve http --model epoll --threads 1`, both pinned to
# core 0, serve the same directory on free 127.0.0.1 ports; wrk -t1 pinned to core 1 drives them
# in turn, the order swapped every round so that neither always runs first.
#
#   bench/http_vs_nginx.sh [BUILD_DIR]
#
# BUILD_DIR: a release build (default build/release:
#   cmake --preset release && nice -n 5 cmake --build --preset release --target sockit).
# Each round measures:
#   small  a 100 B file, wrk -t1 -c100 -dDURATION: requests/s, and the server's CPU time per
#          request (utime + stime of /proc/PID/stat, nginx's worker, before and after, / requests)
#   large  a 1 MiB file, wrk -t1 -c10 -dDURATION: body bytes/s (requests/s x 1 MiB)
#   idle   IDLE keep-alive connections, each after one request for the 100 B file, left idle: the
#          growth of the server's Rss and Pss (/proc/PID/smaps_rollup) over its baseline (a fresh
#          server that has answered one request), per connection. A fresh server per measurement.
# Prints every measurement and a summary: means, sockit / nginx (the ratio of the means, and each
# round's ratio of the two measurements next to each other) against the issue's targets.
#
# Environment: ROUNDS (default 3), DURATION (s per wrk run, default 10), IDLE (default 10000),
# SKIP (any of "small large idle"), SERVER_CPU / CLIENT_CPU (default 0 / 1),
# NGINX_EXTRA (more directives for nginx's http block, e.g. "open_file_cache max=1000;").
# Loopback only; every wait is bounded (wrk by its duration and `timeout`, the idle client by a
# deadline); the servers, the client and the temp dir go on exit and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

build=$(realpath "${1:-build/release}")
sockit=$build/src/cli/sockit
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
idle=${IDLE:-10000}
skip=${SKIP:-}
server_cpu=${SERVER_CPU:-0}
client_cpu=${CLIENT_CPU:-1}
[[ -x $sockit ]] || { echo "http_vs_nginx: no $sockit (cmake --build --preset release --target sockit)" >&2; exit 1; }
for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "http_vs_nginx: $tool is missing" >&2; exit 1; }
done
# The idle client and each server hold IDLE descriptors and some (nginx: its worker_connections).
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= idle + idle / 8 + 1024)) || { echo "http_vs_nginx: ulimit -n is $(ulimit -n), IDLE=$idle needs more" >&2; exit 1; }

dir=$(mktemp -d /tmp/http_vs_nginx.XXXXXX)
chmod 755 "$dir"  # nginx's worker runs as nobody when started by root
mkdir "$dir/www"
head -c 100 /dev/zero | tr '\0' a >"$dir/www/100.txt"
head -c 1048576 /dev/urandom >"$dir/www/1m.bin"
chmod -R a+rX "$dir/www"

pids=()
load_pid=
stop_all() {
  if [[ -n $load_pid ]]; then kill "$load_pid" 2>/dev/null || true; fi
  load_pid=
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

# start_nginx NAME PORT: sets server_pid (the worker: it holds the connections and does the work).
start_nginx() {
  local home=$dir/$1 master
  mkdir -p "$home"
  cat >"$home/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $home/nginx.pid;
error_log $home/error.log warn;
# With fewer than 1/16 of its connections free, nginx closes idle keep-alive ones to make room
# (ngx_drain_connections): an eighth more than the idle connections.
events {
  worker_connections $((idle + idle / 8 + 512));
}
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000000;
  keepalive_timeout 600s;
  client_body_temp_path $home/client_body;
  proxy_temp_path $home/proxy;
  fastcgi_temp_path $home/fastcgi;
  uwsgi_temp_path $home/uwsgi;
  scgi_temp_path $home/scgi;
  types { text/plain txt; }
  default_type application/octet-stream;
  ${NGINX_EXTRA:-}
  server {
    listen 127.0.0.1:$2;
    root $dir/www;
  }
}
EOF
  taskset -c "$server_cpu" nginx -p "$home" -e "$home/error.log" -c "$home/nginx.conf" &
  master=$!
  pids+=("$master")
  wait_listening "$2" 20 || { echo "http_vs_nginx: nginx did not start:" >&2; cat "$home/error.log" >&2; exit 1; }
  # The master listens before it forks its worker.
  server_pid=
  for _ in $(seq 200); do
    server_pid=$(pgrep -P "$master" || true)
    [[ -n $server_pid ]] && break
    sleep 0.05
  done
  [[ -n $server_pid ]] || { echo "http_vs_nginx: nginx has no worker" >&2; exit 1; }
}

# start_sockit NAME PORT: sets server_pid.
start_sockit() {
  taskset -c "$server_cpu" "$sockit" serve "http:$2" --root "$dir/www" --model epoll --threads 1 --quiet \
    --listen 127.0.0.1 --tcp --max-conns $((idle + 512)) --keepalive-requests 1000000000 --idle-timeout 600 \
    >"$dir/$1.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_listening "$2" 20 || { echo "http_vs_nginx: sockit did not start:" >&2; cat "$dir/$1.log" >&2; exit 1; }
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
results=$dir/results
: >"$results"

# run_wrk SERVER PID PORT FILE CONNS ROUND
run_wrk() {
  local server=$1 pid=$2 port=$3 file=$4 conns=$5 round=$6 before after out=$dir/wrk.out
  before=$(ticks "$pid")
  # In the background and waited for, so that Ctrl-C or TERM is handled at once, not after wrk.
  timeout $((duration + 30)) taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"${duration}s" \
    "http://127.0.0.1:$port/$file" >"$out" &
  load_pid=$!
  wait "$load_pid"
  load_pid=
  after=$(ticks "$pid")
  python3 - "$out" "$server" "$file" "$conns" "$round" "$((after - before))" "$hz" \
    "$(stat -c %s "$dir/www/$file")" "$results" <<'EOF'
import re, sys
out, server, file, conns, rnd, ticks, hz, size, results = sys.argv[1:]
text = open(out).read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = " ".join(re.findall(r"(?:Non-2xx or 3xx responses: \d+|Socket errors: [^\n]*)", text))
cpu_us = 1e6 * int(ticks) / int(hz) / max(requests, 1)
body = rate * int(size)
print(f"round {rnd}  {file:8} c={conns:<4} {server:6}: {rate:9.0f} req/s, {body / 1e6:8.1f} MB/s of bodies, "
      f"server CPU {cpu_us:6.2f} us/request{'  [' + errors + ']' if errors else ''}", flush=True)
with open(results, "a") as f:
    f.write(f"{rnd}\t{file}\t{server}\t{rate}\t{cpu_us}\t{body}\n")
EOF
}

# Opens N connections to PORT, each sends one GET /100.txt and reads its response, in batches of
# 100 (below nginx's listen backlog); prints "ready" and holds them until stdin closes or 300 s.
cat >"$dir/idle.py" <<'EOF'
import select, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
request = f"GET /100.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
def response(s):
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + 100:
        if time.monotonic() > deadline:
            sys.exit("idle: a response timed out")
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("idle: the server closed a connection")
        data += chunk
    if not data.startswith(b"HTTP/1.1 200"):
        sys.exit(f"idle: {data[:40]!r}")
socks = []
while len(socks) < n:
    if time.monotonic() > deadline:
        sys.exit("idle: connecting timed out")
    batch = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(min(100, n - len(socks)))]
    for s in batch:
        s.sendall(request)
    for s in batch:
        response(s)
    socks += batch
print("ready", flush=True)
select.select([sys.stdin], [], [], 300)
EOF

smaps() { awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r, p }' "/proc/$1/smaps_rollup"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# measure_idle SERVER ROUND: a fresh server, its baseline after one request, then IDLE connections.
measure_idle() {
  local server=$1 round=$2 port base0 rss0 pss0 rss1 pss1 hold
  port=$(free_port)
  "start_$server" "idle-$server-$round" "$port"
  python3 "$dir/idle.py" "$port" 1 </dev/null >/dev/null
  sleep 0.5
  base0=$(fds "$server_pid")
  read -r rss0 pss0 < <(smaps "$server_pid")
  mkfifo "$dir/hold"
  python3 "$dir/idle.py" "$port" "$idle" <"$dir/hold" >"$dir/idle.log" 2>&1 &
  pids+=($!)
  exec {hold}>"$dir/hold"
  wait_for "$dir/idle.log" '^ready' 150
  for _ in $(seq 200); do (($(fds "$server_pid") >= base0 + idle)) && break; sleep 0.05; done
  (($(fds "$server_pid") >= base0 + idle)) ||
    { echo "http_vs_nginx: $server holds $(fds "$server_pid") descriptors, wanted $((base0 + idle))" >&2
      tail -n 5 "$dir"/idle-*/error.log "$dir/idle.log" >&2; exit 1; }
  sleep 1
  read -r rss1 pss1 < <(smaps "$server_pid")
  exec {hold}>&-
  rm -f "$dir/hold"
  stop_all
  awk -v s="$server" -v r="$round" -v a="$rss0" -v b="$rss1" -v c="$pss0" -v d="$pss1" -v n="$idle" 'BEGIN {
    printf "round %d  idle     c=%-5d %-6s: Rss %6d -> %6d kB = %6.0f B/connection, Pss %6d -> %6d kB = %6.0f B/connection\n",
      r, n, s, a, b, (b - a) * 1024 / n, c, d, (d - c) * 1024 / n }'
  printf '%s\tidle\t%s\t%s\t%s\t0\n' "$round" "$server" "$(((rss1 - rss0) * 1024 / idle))" \
    "$(((pss1 - pss0) * 1024 / idle))" >>"$results"
}

echo "sockit: $sockit ($(git log -1 --format='%h %s' | cut -c1-60))"
echo "$(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); servers on core $server_cpu, wrk on core $client_cpu"
echo "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ${duration} s per run, $rounds rounds, $idle idle connections"

if [[ $skip != *small* || $skip != *large* ]]; then
  nginx_port=$(free_port)
  start_nginx nginx "$nginx_port"
  nginx_pid=$server_pid
  sockit_port=$(free_port)
  start_sockit sockit "$sockit_port"
  sockit_pid=$server_pid
  # Warm both up (caches, pages, the listen socket's accept queue), uncounted.
  for port in "$nginx_port" "$sockit_port"; do
    timeout 30 taskset -c "$client_cpu" wrk -t1 -c100 -d2s "http://127.0.0.1:$port/100.txt" >/dev/null
  done
fi

for round in $(seq "$rounds"); do
  [[ $skip == *small* && $skip == *large* ]] && break
  if ((round % 2)); then order=(nginx sockit); else order=(sockit nginx); fi
  for server in "${order[@]}"; do
    if [[ $server == nginx ]]; then pid=$nginx_pid port=$nginx_port; else pid=$sockit_pid port=$sockit_port; fi
    [[ $skip == *small* ]] || run_wrk "$server" "$pid" "$port" 100.txt 100 "$round"
  done
  for server in "${order[@]}"; do
    if [[ $server == nginx ]]; then pid=$nginx_pid port=$nginx_port; else pid=$sockit_pid port=$sockit_port; fi
    [[ $skip == *large* ]] || run_wrk "$server" "$pid" "$port" 1m.bin 10 "$round"
  done
done
stop_all

if [[ $skip != *idle* ]]; then
  for round in $(seq "$rounds"); do
    if ((round % 2)); then order=(nginx sockit); else order=(sockit nginx); fi
    for server in "${order[@]}"; do measure_idle "$server" "$round"; done
  done
fi
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import collections, statistics, sys
# (test, server) -> round -> (a, b, c): small/large (req/s, us/request, body B/s), idle (Rss B, Pss B, 0)
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    rnd, test, server, a, b, c = line.rstrip("\n").split("\t")
    test = {"100.txt": "small", "1m.bin": "large"}.get(test, test)
    runs[(test, server)][int(rnd)] = (float(a), float(b), float(c))

def compare(test, index, what, unit, scale, target, better):
    n, s = runs.get((test, "nginx")), runs.get((test, "sockit"))
    if not n or not s:
        return
    mean = lambda r: statistics.mean(v[index] for v in r.values())
    span = lambda r: f"[{min(v[index] for v in r.values()) / scale:.1f}-{max(v[index] for v in r.values()) / scale:.1f}]"
    ratio = mean(s) / mean(n) if mean(n) else float("inf")
    rounds = [s[k][index] / n[k][index] for k in sorted(s) if k in n and n[k][index]]
    ok = ratio >= target if better == "higher" else ratio <= target
    print(f"{what:28} {mean(n) / scale:10.1f} {span(n):>17} {mean(s) / scale:10.1f} {span(s):>17} {unit:14} "
          f"{ratio:6.3f}x  ({', '.join(f'{x:.2f}' for x in rounds)})  "
          f"{'>=' if better == 'higher' else '<='} {target:.1f}x: {'yes' if ok else 'NO'}")

print("\nsummary: mean [min-max] of the rounds; sockit / nginx: ratio of the means (each round's ratio)")
print(f"{'':28} {'nginx':>28} {'sockit':>28} {'':14} sockit/nginx")
compare("small", 0, "100 B, c=100: requests/s", "req/s", 1, 1.1, "higher")
compare("small", 1, "100 B, c=100: CPU/request", "us", 1, 0.9, "lower")
compare("large", 2, "1 MiB, c=10: bodies", "MB/s", 1e6, 1.0, "higher")
compare("idle", 0, "idle keep-alive: Rss", "B/connection", 1, 1.0, "lower")
compare("idle", 1, "idle keep-alive: Pss", "B/connection", 1, 1.0, "lower")
EOF
