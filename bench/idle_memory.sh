#!/usr/bin/env bash
# Memory per idle connection, two builds side by side: `sockit serve echo:0 --model MODEL
# --threads 1` takes CONNS connections from a python3 client that then leaves them idle; the
# server's VmRSS (/proc/PID/status) before the first connection and after the last was accepted,
# the difference divided by CONNS.
#
#   bench/idle_memory.sh OLD_SOCKIT NEW_SOCKIT
#
# Two kinds of idle connection: `fresh` (connected, nothing sent) and `used` (each sent one 64-byte
# line and read its echo before going idle, so whatever buffers a connection keeps after its first
# request are counted). Each round measures every model and kind, old and new alternated (old first
# in odd rounds). "Accepted" means the server holds CONNS more descriptors (/proc/PID/fd); RSS is
# read 0.5 s later. Prints one line per measurement and a summary (mean, min, max bytes/connection).
#
# Environment: ROUNDS (default 3), CONNS (default 4000), MODELS (default "epoll uring"),
# KINDS (default "fresh used"). Raises `ulimit -n` for itself and its children. Loopback only,
# port 0; every wait is bounded; the server and the client are killed on exit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

old=$(realpath "${1:?usage: bench/idle_memory.sh OLD_SOCKIT NEW_SOCKIT}")
new=$(realpath "${2:?usage: bench/idle_memory.sh OLD_SOCKIT NEW_SOCKIT}")
rounds=${ROUNDS:-3}
conns=${CONNS:-4000}
ulimit -n $((conns * 2 + 256))
work=$(mktemp -d /tmp/idle_memory.XXXXXX)

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# Opens N connections (and with "used", one 64-byte echo on each), prints "ready", holds them until
# stdin closes or 120 s pass.
cat >"$work/client.py" <<'EOF'
import select, socket, sys, time
port, n, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 60
socks = []
for _ in range(n):
    if time.monotonic() > deadline:
        sys.exit("connecting timed out")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    socks.append(s)
if kind == "used":
    line = b"x" * 63 + b"\n"
    for s in socks:
        s.sendall(line)
    for s in socks:
        got = b""
        while len(got) < len(line):
            if time.monotonic() > deadline:
                sys.exit("echo timed out")
            chunk = s.recv(len(line) - len(got))
            if not chunk:
                sys.exit("server closed a connection")
            got += chunk
print("ready", flush=True)
select.select([sys.stdin], [], [], 120)
EOF

results=$work/results.tsv
: >"$results"

# measure LABEL SOCKIT MODEL KIND ROUND
measure() {
  local label=$1 sockit=$2 model=$3 kind=$4 round=$5 server port base rss0 rss1
  "$sockit" serve echo:0 --listen 127.0.0.1 --tcp --quiet --model "$model" --threads 1 --max-conns $((conns + 100)) \
    >"$work/server.log" 2>&1 &
  server=$!
  pids+=("$server")
  wait_for "$work/server.log" 'listening on 127\.0\.0\.1:[0-9]+' 30
  port=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$work/server.log" | head -1 | cut -d: -f2)
  sleep 0.3
  base=$(fds "$server")
  rss0=$(rss_kb "$server")
  # The client's stdin is a pipe we hold open until cleanup.
  mkfifo "$work/hold"
  python3 "$work/client.py" "$port" "$conns" "$kind" <"$work/hold" >"$work/client.log" 2>&1 &
  pids+=($!)
  exec {hold}>"$work/hold"
  wait_for "$work/client.log" '^ready' 30
  for _ in $(seq 200); do (($(fds "$server") >= base + conns)) && break; sleep 0.05; done
  (($(fds "$server") >= base + conns)) || { echo "$label $model: server holds $(fds "$server") fds, wanted $((base + conns))" >&2; exit 1; }
  sleep 0.5
  rss1=$(rss_kb "$server")
  exec {hold}>&-
  rm -f "$work/hold"
  cleanup
  awk -v l="$label" -v m="$model" -v k="$kind" -v r="$round" -v a="$rss0" -v b="$rss1" -v n="$conns" 'BEGIN {
    printf "%s\t%s\t%s\t%d\t%d\t%d\t%.1f\n", l, m, k, r, a, b, (b - a) * 1024 / n }' | tee -a "$results" |
    awk -F'\t' '{ printf "round %d  %-3s %-5s %-5s: VmRSS %d -> %d kB = %6.1f B/connection\n", $4, $1, $2, $3, $5, $6, $7 }'
}

echo "old: $old"
echo "new: $new"
echo "$conns connections; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for model in ${MODELS:-epoll uring}; do
    for kind in ${KINDS:-fresh used}; do
      if ((round % 2)); then order=(old new); else order=(new old); fi
      for which in "${order[@]}"; do
        if [[ $which == old ]]; then measure old "$old" "$model" "$kind" "$round"; else measure new "$new" "$model" "$kind" "$round"; fi
      done
    done
  done
done

python3 - "$results" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, model, kind, _, _, _, per = line.rstrip("\n").split("\t")
    rows[(model, kind, label)].append(float(per))
print("\nsummary: bytes per connection, mean [min-max]")
for model, kind in dict.fromkeys((m, k) for m, k, _ in rows):
    o, n = rows.get((model, kind, "old")), rows.get((model, kind, "new"))
    text = lambda v: f"{statistics.mean(v):6.1f} [{min(v):.1f}-{max(v):.1f}]"
    print(f"{model:5} {kind:5}  old {text(o)}  new {text(n)}  new/old {statistics.mean(n) / statistics.mean(o):.3f}x")
EOF
