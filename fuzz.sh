#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (preset fuzz: clang 14, ASan+UBSan) and runs each one
# for SECONDS (default 10: about three minutes for all), one after another, merging the inputs
# that add coverage into fuzz/corpus/TARGET/. Prints a table: target, executions, edges covered,
# corpus size, crashes. Crashes, timeouts and leaks are saved as fuzz/crashes/TARGET-*; the
# exit status is 1 if there was any.
#
#   ./fuzz.sh [SECONDS] [--runs N] [--only T1,T2] [--minimize] [--report FILE]
#
# --runs N     stop a target after N executions even if SECONDS are not over
# --only ...   run only these targets (names as in fuzz/*.cpp)
# --minimize   afterwards, shrink each corpus to a minimal set with the same coverage
#              (libFuzzer -merge=1 into an empty directory)
# --report F   also write the table to F (Markdown)
# Set FUZZ_NICE=10 to run the targets under nice (a shared machine).
set -euo pipefail
cd "$(dirname "$0")"

seconds=10
runs=-1
only=""
minimize=0
report=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --minimize) minimize=1; shift ;;
    --report) report="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1"; shift ;;
    *) echo "fuzz: unknown argument $1 (see ./fuzz.sh --help)" >&2; exit 2 ;;
  esac
done

scripts/bootstrap
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

bin=build/fuzz/fuzz
logs=build/fuzz/logs
mkdir -p "$logs" fuzz/crashes

# Longest input per target. 1 KiB holds many pipelined requests of every protocol; fib's
# answers cost up to 2 KB and ~25 ms each under ASan (fib(10000)), so its inputs stay shorter;
# the parsers of whole files and tables get 4 KiB.
max_len() {
  case "$1" in
    session_fib) echo 256 ;;
    cascade_file|sockets_netlink|sockets_proc|address|udp_answer|http_request) echo 4096 ;;
    *) echo 1024 ;;
  esac
}

targets=()
for source in fuzz/*.cpp; do
  name=$(basename "$source" .cpp)
  [[ "$name" == replay_main ]] && continue
  if [[ -n "$only" && ",$only," != *",$name,"* ]]; then continue; fi
  targets+=("$name")
done

nice_cmd=()
[[ -n "${FUZZ_NICE:-}" ]] && nice_cmd=(nice -n "$FUZZ_NICE")

table="| target | executions | exec/s | cov (edges) | corpus | crashes | seconds |
|---|---:|---:|---:|---:|---:|---:|"
failed=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  fresh=$(mktemp -d)
  mkdir -p "$corpus"
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="fuzz/dict/$t.dict")
  before=$(find fuzz/crashes -name "$t-*" | wc -l)
  start=$(date +%s)
  # New inputs go to $fresh (libFuzzer writes to its first directory); the corpus is read only.
  "${nice_cmd[@]}" "$bin/$t" -max_total_time="$seconds" -runs="$runs" -max_len="$(max_len "$t")" \
    -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="fuzz/crashes/$t-" \
    "${dict[@]}" "$fresh" "$corpus" >"$logs/$t.log" 2>&1 || true
  elapsed=$(( $(date +%s) - start ))
  # Keep only what adds coverage to the corpus.
  "${nice_cmd[@]}" "$bin/$t" -merge=1 -max_len="$(max_len "$t")" -timeout=30 "$corpus" "$fresh" \
    >"$logs/$t.merge.log" 2>&1 || true
  rm -rf "$fresh"
  if [[ $minimize -eq 1 ]]; then
    small=$(mktemp -d)
    "${nice_cmd[@]}" "$bin/$t" -merge=1 -max_len="$(max_len "$t")" -timeout=30 "$small" "$corpus" \
      >"$logs/$t.minimize.log" 2>&1 && { rm -rf "$corpus"; mv "$small" "$corpus"; chmod 755 "$corpus"; } || rm -rf "$small"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$logs/$t.log" | tail -1 | cut -d' ' -f2)
  size=$(find "$corpus" -type f | wc -l)
  crashes=$(( $(find fuzz/crashes -name "$t-*" | wc -l) - before ))
  [[ $crashes -gt 0 ]] && failed=1
  rate=$(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) ))
  table+="
| $t | ${execs:-0} | $rate | ${cov:-?} | $size | $crashes | $elapsed |"
  echo "fuzz: $t: ${execs:-0} executions, cov ${cov:-?}, corpus $size, crashes $crashes ($elapsed s)" >&2
done

echo
echo "$table"
[[ -n "$report" ]] && echo "$table" >"$report"
if [[ $failed -ne 0 ]]; then
  echo >&2
  echo "fuzz: crashes in fuzz/crashes/ (logs in $logs/); replay one with $bin/TARGET FILE" >&2
  exit 1
fi
