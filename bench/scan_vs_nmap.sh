#!/usr/bin/env bash
# Full 65535-port TCP connect scan of loopback: sockit scan vs nmap -sT, in a fresh network
# namespace (needs root) with three listeners, so both must find exactly 22, 8080 and 50000.
# Never part of the test run.     usage: bench/scan_vs_nmap.sh   (SOCKIT=path/to/sockit)
set -euo pipefail
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
export SOCKIT
exec unshare -n bash -c '
set -euo pipefail
ip link set lo up
python3 -c "
import socket, sys, time
ls = []
for p in (22, 8080, 50000):
    s = socket.socket(); s.bind((\"127.0.0.1\", p)); s.listen(); ls.append(s)
print(\"ready\", flush=True); sys.stdin.read()
" < <(sleep 600) > /tmp/scan-bench-ready.$$ &
listeners=$!
for _ in $(seq 100); do grep -q ready /tmp/scan-bench-ready.$$ 2>/dev/null && break; sleep 0.05; done
rm -f /tmp/scan-bench-ready.$$
timed() {
  local start end; start=$(date +%s.%N); "$@" > /tmp/scan-bench-out.$$; end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" "BEGIN { printf \"%.2f s\", e - s }"
}
echo "full TCP connect scan of 127.0.0.1, ports 1-65535 ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg))"
t=$(timed "$SOCKIT" scan 127.0.0.1 -p 1-65535)
echo "sockit scan 127.0.0.1 -p 1-65535:               $t   open: $(grep -o "^[0-9]*/tcp *open" /tmp/scan-bench-out.$$ | cut -d/ -f1 | tr "\n" " ")"
t=$(timed nmap -sT -n -p 1-65535 127.0.0.1)
echo "nmap -sT -n -p 1-65535 127.0.0.1:              $t   open: $(grep -o "^[0-9]*/tcp *open" /tmp/scan-bench-out.$$ | cut -d/ -f1 | tr "\n" " ")"
t=$(timed nmap -sT -n -T5 -p 1-65535 127.0.0.1)
echo "nmap -sT -n -T5 -p 1-65535 127.0.0.1:          $t   open: $(grep -o "^[0-9]*/tcp *open" /tmp/scan-bench-out.$$ | cut -d/ -f1 | tr "\n" " ")"
rm -f /tmp/scan-bench-out.$$
kill $listeners
'
