#!/usr/bin/env bash
# Pipes SIZE bytes of zeros through sockit nc, socat and nc (OpenBSD) over loopback TCP and
# reports each one's throughput. Sender: `dd if=/dev/zero bs=1M count=N | TOOL 127.0.0.1 PORT`
# (dd, not head -c: head's 8 KiB writes would be the bottleneck);
# receiver: `TOOL -l ... > /dev/null`; each tool talks to itself, with its default options.
# Runs in a fresh network namespace (needs root). Never part of the test run.
#   usage: bench/nc_throughput.sh [SIZE]        (default 2G; SOCKIT=path/to/sockit)
set -euo pipefail
SIZE=${1:-2G}
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
export SIZE SOCKIT
exec unshare -n bash -c '
set -euo pipefail
ip link set lo up
port=40000
measure() {  # name, receiver command, sender command (both with PORT in them)
  local name=$1 receiver=${2//PORT/$port} sender=${3//PORT/$port}
  bash -c "$receiver" > /dev/null < /dev/null &
  local rpid=$!
  for _ in $(seq 100); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.05; done
  local start end
  start=$(date +%s.%N)
  dd if=/dev/zero bs=1M count=$(( $(numfmt --from=iec "$SIZE") / 1048576 )) status=none | bash -c "$sender" > /dev/null
  wait $rpid
  end=$(date +%s.%N)
  local bytes; bytes=$(numfmt --from=iec "$SIZE")
  awk -v n="$name" -v s="$start" -v e="$end" -v b="$bytes" \
    "BEGIN { t = e - s; printf \"%-12s %8.2f s %8.2f GiB/s\n\", n, t, b / t / 1073741824 }"
  port=$((port + 1))
}
echo "piping $SIZE through each netcat over loopback ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg))"
start=$(date +%s.%N)
dd if=/dev/zero bs=1M count=$(( $(numfmt --from=iec "$SIZE") / 1048576 )) status=none | cat > /dev/null
awk -v s="$start" -v e="$(date +%s.%N)" -v b="$(numfmt --from=iec "$SIZE")" \
  "BEGIN { t = e - s; printf \"%-12s %8.2f s %8.2f GiB/s   (the source alone: dd | cat)\n\", \"baseline\", t, b / t / 1073741824 }"
measure "sockit nc" "$SOCKIT nc -l 127.0.0.1 PORT" "$SOCKIT nc 127.0.0.1 PORT"
measure "socat"     "socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr STDOUT" "socat -u STDIN TCP:127.0.0.1:PORT"
measure "nc.openbsd" "nc.openbsd -l 127.0.0.1 PORT" "nc.openbsd -N 127.0.0.1 PORT"
'
