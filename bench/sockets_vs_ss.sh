#!/usr/bin/env bash
# Lists CONNECTIONS established loopback TCP connections (2 x CONNECTIONS sockets and a
# listener) with sockit sockets and with ss, with and without owning processes, in a fresh
# network namespace (needs root). ROUNDS rounds (default 11), the tools interleaved within each
# round so that they share the machine's load; prints each tool's median time and the median of
# the per-round ratios sockit/ss. Checks first that both list the same rows (-tan) and the same
# owners (-tanp). Never part of the test run.
#   usage: bench/sockets_vs_ss.sh [CONNECTIONS]   (default 5000; SOCKIT=path/to/sockit, ROUNDS=N)
set -euo pipefail
CONNECTIONS=${1:-5000}
ROUNDS=${ROUNDS:-11}
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
export SOCKIT CONNECTIONS ROUNDS
exec unshare -n bash -c '
set -euo pipefail
ip link set lo up
work=$(mktemp -d /dev/shm/sockets_vs_ss.XXXXXX)
holder=
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# The client ends in a child, the server ends in the parent: each process holds CONNECTIONS
# descriptors (the hard limit here may be 20000). The parent ends when killed or after 600 s,
# the child as soon as its parent is gone.
python3 -c "
import os, resource, socket, sys, time
n = int(os.environ[\"CONNECTIONS\"])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and n + 16 > hard:
    sys.exit(f\"{n} connections need {n + 16} descriptors per process; the hard limit is {hard}\")
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
l = socket.socket(); l.bind((\"127.0.0.1\", 7000)); l.listen(4096)
parent = os.getpid()
if os.fork() == 0:
    l.close(); keep = [socket.create_connection((\"127.0.0.1\", 7000), timeout=10) for _ in range(n)]
    deadline = time.monotonic() + 600
    while os.getppid() == parent and time.monotonic() < deadline: time.sleep(0.2)
    os._exit(0)
keep = [l.accept()[0] for _ in range(n)]
print(\"ready\", flush=True); time.sleep(600)
" > "$work/ready" 2> "$work/holder.err" &
holder=$!
for _ in $(seq 600); do  # at most 60 s
  grep -q ready "$work/ready" && break
  kill -0 "$holder" 2>/dev/null || { echo "the connection holder failed:" >&2; cat "$work/holder.err" >&2; exit 1; }
  sleep 0.1
done
grep -q ready "$work/ready" || { echo "no connections after 60 s" >&2; exit 1; }

rows() {  # state, local and peer of each row, sorted: what must agree
  awk "NR > 1 && \$1 == \"tcp\" { print \$2, \$5, \$6; next } NR > 1 { print \$1, \$4, \$5 }" "$1" | sort
}
owners() {  # local, peer and owning processes of each row, sorted
  awk "NR > 1 && \$1 == \"tcp\" { print \$5, \$6, \$7; next } NR > 1 { print \$4, \$5, \$6 }" "$1" | sort
}
"$SOCKIT" sockets -tan > "$work/ours"; ss -tan > "$work/theirs"
if ! cmp -s <(rows "$work/ours") <(rows "$work/theirs"); then echo "sockit and ss list different rows" >&2; exit 1; fi
"$SOCKIT" sockets -tanp > "$work/ours"; ss -tanp > "$work/theirs"
if ! cmp -s <(owners "$work/ours") <(owners "$work/theirs"); then echo "sockit and ss list different owners" >&2; exit 1; fi

declare -A times
names=("sockit sockets -tan" "ss -tan" "sockit sockets -tanp" "ss -tanp" "sockit sockets -tan --proc")
commands=("$SOCKIT sockets -tan" "ss -tan" "$SOCKIT sockets -tanp" "ss -tanp" "$SOCKIT sockets -tan --proc")
for round in $(seq "$ROUNDS"); do
  for i in "${!commands[@]}"; do
    start=$EPOCHREALTIME; ${commands[$i]} > "$work/out"; end=$EPOCHREALTIME
    times[$i]+="$(awk -v s="$start" -v e="$end" "BEGIN { printf \"%.2f\", (e - s) * 1000 }") "
    lines[$i]=$(wc -l < "$work/out")
  done
done
median() { tr " " "\n" | grep . | sort -g | awk "{ v[NR] = \$1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }"; }
ratios() {  # the per-round ratios of command $1 to command $2
  paste -d" " <(echo "${times[$1]}" | tr " " "\n" | grep .) <(echo "${times[$2]}" | tr " " "\n" | grep .) |
    awk "{ printf \"%.3f \", \$1 / \$2 }"
}
echo "$CONNECTIONS established loopback TCP connections ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg)); median of $ROUNDS interleaved rounds; same rows and owners as ss: yes"
for i in "${!commands[@]}"; do
  printf "%-30s %8.1f ms  %6d lines\n" "${names[$i]}" "$(echo "${times[$i]}" | median)" "${lines[$i]}"
done
printf "sockets -tan  / ss -tan   median ratio %.2f  (rounds: %s)\n" "$(ratios 0 1 | median)" "$(ratios 0 1)"
printf "sockets -tanp / ss -tanp  median ratio %.2f  (rounds: %s)\n" "$(ratios 2 3 | median)" "$(ratios 2 3)"
'
