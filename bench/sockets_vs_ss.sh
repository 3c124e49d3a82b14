#!/usr/bin/env bash
# Lists 5000 established loopback TCP connections (10000 sockets and a listener) with
# sockit sockets and with ss, with and without owning processes, in a fresh network namespace
# (needs root). Best of 5 runs each. Never part of the test run.
#   usage: bench/sockets_vs_ss.sh [CONNECTIONS]     (default 5000; SOCKIT=path/to/sockit)
set -euo pipefail
CONNECTIONS=${1:-5000}
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
export SOCKIT CONNECTIONS
exec unshare -n bash -c '
set -euo pipefail
ip link set lo up
ulimit -n "$(ulimit -Hn)"  # 2 descriptors per connection
ready=$(mktemp)
python3 -c "
import os, socket, sys
n = int(os.environ[\"CONNECTIONS\"])
l = socket.socket(); l.bind((\"127.0.0.1\", 7000)); l.listen(4096)
keep = []
for _ in range(n):
    c = socket.create_connection((\"127.0.0.1\", 7000)); s, _ = l.accept(); keep += [c, s]
print(\"ready\", flush=True); sys.stdin.read()
" < <(sleep 600) > "$ready" &
holder=$!
for _ in $(seq 600); do grep -q ready "$ready" && break; sleep 0.1; done
rm -f "$ready"
best() {  # best wall time of 5 runs, and the line count of the last
  local best=999 lines=0
  for _ in 1 2 3 4 5; do
    local start end; start=$(date +%s.%N); lines=$("$@" | wc -l); end=$(date +%s.%N)
    best=$(awk -v s="$start" -v e="$end" -v b="$best" "BEGIN { t = e - s; print (t < b ? t : b) }")
  done
  local shown="$*"; shown=${shown/$SOCKIT/sockit}
  printf "%-32s %7.1f ms  %6d lines\n" "$shown" "$(awk -v b="$best" "BEGIN { print b * 1000 }")" "$lines"
}
echo "$CONNECTIONS established loopback TCP connections ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg)); best of 5"
best "$SOCKIT" sockets -tan
best ss -tan
best "$SOCKIT" sockets -tanp
best ss -tanp
best "$SOCKIT" sockets -tan --proc
kill $holder
'
