#!/usr/bin/env bash
# The lab of hosts by hand (docs/lab.md): bench/lab.sh up --hosts 3 --rate 50 --loss 5
#   bench/lab.sh up ...     make a lab, print its hosts, keep it until Ctrl-C or --lifetime
#   bench/lab.sh cleanup    remove the namespaces of labs whose creator died (--all: every sklab-*)
#   bench/lab.sh netem      say whether this kernel can delay packets
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$root/tests/integration${PYTHONPATH:+:$PYTHONPATH}" exec python3 -m lab "$@"
