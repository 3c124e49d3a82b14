#!/usr/bin/env bash
# TLS bulk throughput: sockit nc --ssl vs socat OPENSSL over loopback, side by side in one run.
# Each round pipes SIZE bytes of zeros through each tool talking to itself (sender:
# `dd if=/dev/zero bs=1M count=N | TOOL ...`; receiver: `TOOL -l ... > /dev/null`), sockit first,
# then socat with its default 8 KiB buffer, then socat -b 131072; the order is the same each
# round so the load drifts evenly. Both sides of both tools use the same certificate (EC P-256)
# and OpenSSL's default TLS 1.3 suite (TLS_AES_256_GCM_SHA384: neither is pinned, the -v line of
# sockit shows what was negotiated). Prints each round (wall time and the CPU time of both ends)
# and the median ratios socat / sockit (above 1.0: sockit is faster or spends less CPU). Runs in a fresh network namespace (needs root).
# Never part of the test run.
#   usage: bench/nc_tls_throughput.sh [SIZE] [ROUNDS]   (default 1G 5; SOCKIT=path/to/sockit)
set -euo pipefail
SIZE=${1:-1G}
ROUNDS=${2:-5}
SOCKIT=$(realpath "${SOCKIT:-build/release/src/cli/sockit}")
CERTS=$(mktemp -d)
trap 'rm -rf "$CERTS"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CERTS/key.pem" \
  -out "$CERTS/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null
export SIZE ROUNDS SOCKIT CERTS
unshare -n bash -c '
set -euo pipefail
ip link set lo up
port=41000
count=$(( $(numfmt --from=iec "$SIZE") / 1048576 ))
bytes=$(( count * 1048576 ))
cert=$CERTS/cert.pem key=$CERTS/key.pem
# One transfer: receiver command, sender command (PORT in both). Prints "WALL CPU": wall seconds,
# and the CPU seconds (user + system) of receiver and sender together, which the load of other
# jobs on the machine disturbs less than wall time.
measure() {
  local receiver=${1//PORT/$port} sender=${2//PORT/$port}
  /usr/bin/time -f "%U %S" -o "$CERTS/receiver.cpu" bash -c "$receiver" > /dev/null < /dev/null 2>"$CERTS/receiver.err" &
  local rpid=$!
  for _ in $(seq 200); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.05; done
  local start end
  start=$(date +%s.%N)
  dd if=/dev/zero bs=1M count=$count status=none |
    /usr/bin/time -f "%U %S" -o "$CERTS/sender.cpu" bash -c "$sender" > /dev/null 2>"$CERTS/sender.err"
  wait $rpid
  end=$(date +%s.%N)
  port=$((port + 1))
  cat "$CERTS/receiver.cpu" "$CERTS/sender.cpu" |
    awk -v s="$start" -v e="$end" "{ cpu += \$1 + \$2 } END { printf \"%.3f %.2f\\n\", e - s, cpu }"
}
sockit_rx="$SOCKIT nc --ssl --ssl-cert $cert --ssl-key $key -l 127.0.0.1 PORT"
sockit_tx="$SOCKIT nc -v --ssl 127.0.0.1 PORT"
socat_rx="socat -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$cert,key=$key,verify=0 STDOUT"
socat_tx="socat -u STDIN OPENSSL:127.0.0.1:PORT,verify=0"
socat_big_rx="socat -b 131072 -u OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$cert,key=$key,verify=0 STDOUT"
socat_big_tx="socat -b 131072 -u STDIN OPENSSL:127.0.0.1:PORT,verify=0"
echo "piping $SIZE through TLS over loopback, $ROUNDS rounds ($(nproc) cores, $(uname -r), load $(cut -d" " -f1 /proc/loadavg))"
echo "each cell: wall time, throughput, CPU seconds of receiver + sender; ratios: socat time / sockit time"
printf "%-6s %-24s %-24s %-24s %s\n" round "sockit nc" "socat" "socat -b 131072" "ratio (wall; -b wall; -b cpu)"
ratios=() big_ratios=() cpu_ratios=()
for round in $(seq "$ROUNDS"); do
  read -r t_sockit c_sockit < <(measure "$sockit_rx" "$sockit_tx")
  [[ $round -eq 1 ]] && suite=$(grep -o "TLS: .*" "$CERTS/sender.err" || true)
  read -r t_socat c_socat < <(measure "$socat_rx" "$socat_tx")
  read -r t_big c_big < <(measure "$socat_big_rx" "$socat_big_tx")
  div() { awk -v a="$1" -v b="$2" "BEGIN { printf \"%.2f\", a / b }"; }
  ratio=$(div "$t_socat" "$t_sockit") big=$(div "$t_big" "$t_sockit") cpu=$(div "$c_big" "$c_sockit")
  ratios+=("$ratio") big_ratios+=("$big") cpu_ratios+=("$cpu")
  cell() { awk -v t="$1" -v c="$2" -v b="$bytes" "BEGIN { printf \"%5.2f s %4.0f MB/s %4.2f cpu\", t, b / t / 1e6, c }"; }
  printf "%-6s %-24s %-24s %-24s %sx %sx %sx\n" "$round" "$(cell "$t_sockit" "$c_sockit")" "$(cell "$t_socat" "$c_socat")" \
    "$(cell "$t_big" "$c_big")" "$ratio" "$big" "$cpu"
done
median() { printf "%s\n" "$@" | sort -g | awk "{ v[NR] = \$1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }"; }
echo "sockit negotiated: ${suite:-?}"
echo "median ratio socat / sockit: $(median "${ratios[@]}")x wall;" \
  "socat -b 131072 / sockit: $(median "${big_ratios[@]}")x wall, $(median "${cpu_ratios[@]}")x cpu"
'
