#!/usr/bin/env bash
# Full 65535-port TCP connect scan of loopback, sockit scan vs nmap -sT -T5, side by side in one
# run: a fresh network namespace (needs root) with three listeners, so both must find exactly 22,
# 8080 and 50000 (checked: any other answer fails the run). ROUNDS rounds (default 5) alternate
# the two; the medians and their ratio are the result. Never part of the test run.
# usage: bench/scan_vs_nmap.sh [ROUNDS]   (SOCKIT=path/to/sockit, default the release build)
set -euo pipefail
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
ROUNDS=${1:-5}
export SOCKIT ROUNDS
exec unshare -n bash -c '
set -euo pipefail
ip link set lo up
work=$(mktemp -d)
trap "kill \$listeners 2>/dev/null; rm -rf $work" EXIT
timeout 900 python3 -c "
import socket, sys, time
ls = []
for p in (22, 8080, 50000):
    s = socket.socket(); s.bind((\"127.0.0.1\", p)); s.listen(); ls.append(s)
print(\"ready\", flush=True); time.sleep(900)
" > "$work/ready" &
listeners=$!
for _ in $(seq 100); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.05; done
expected="22 8080 50000 "
# timed NAME COMMAND...: runs it, appends its seconds to $work/NAME, checks the open ports found.
timed() {
  local name=$1 start end open; shift
  start=$(date +%s.%N); "$@" > "$work/out"; end=$(date +%s.%N)
  open=$(grep -o "^[0-9]*/tcp *open" "$work/out" | cut -d/ -f1 | tr "\n" " ")
  if [ "$open" != "$expected" ]; then echo "$name found open: [$open], expected [$expected]" >&2; exit 1; fi
  awk -v s="$start" -v e="$end" "BEGIN { printf \"%.3f\n\", e - s }" | tee -a "$work/$name"
}
median() { sort -n "$1" | awk "{ v[NR] = \$1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }"; }
echo "full TCP connect scan of 127.0.0.1, ports 1-65535, $ROUNDS rounds ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg))"
for round in $(seq "$ROUNDS"); do
  s=$(timed sockit "$SOCKIT" scan 127.0.0.1 -p 1-65535)
  n=$(timed nmap nmap -sT -n -T5 -p 1-65535 127.0.0.1)
  r=$(awk -v s="$s" -v n="$n" "BEGIN { printf \"%.2f\", n / s }")
  echo "$r" >> "$work/ratio"
  echo "round $round: sockit scan 127.0.0.1 -p 1-65535 $s s   nmap -sT -n -T5 -p 1-65535 127.0.0.1 $n s   ${r}x"
done
s=$(median "$work/sockit"); n=$(median "$work/nmap")
echo "median: sockit $s s, nmap -T5 $n s: sockit $(awk -v s="$s" -v n="$n" "BEGIN { printf \"%.2f\", n / s }")x faster; median of the rounds ratios $(median "$work/ratio")x; both found open: $expected"
echo "load after: $(cut -d" " -f1 /proc/loadavg)"
'
