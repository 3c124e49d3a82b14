# shellcheck shell=bash
# Helpers the benchmark scripts share: source it (`. "$(dirname "$0")/lib.sh"`).

# A TCP port free on 127.0.0.1 right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE REGEX [SECONDS]: until FILE has a line matching REGEX, at most SECONDS (20).
wait_for() {
  local rounds=$(( ${3:-20} * 20 ))
  for _ in $(seq "$rounds"); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for /$2/ in $1:" >&2
  cat "$1" >&2
  return 1
}

# wait_listening PORT [SECONDS]: until something accepts on 127.0.0.1:PORT, at most SECONDS (5).
wait_listening() {
  local rounds=$(( ${2:-5} * 20 ))
  for _ in $(seq "$rounds"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1 after ${2:-5} s" >&2
  return 1
}
