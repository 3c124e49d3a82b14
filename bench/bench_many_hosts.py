"""Load from many hosts: K `sockit bench` processes on K lab hosts against one `sockit serve` on
another, started together, their --json reports merged with `sockit bench merge` (docs/bench.md).

Run through bench/bench_many_hosts.sh (root: the lab is network namespaces). Bounded: the lab
lives at most --duration + 120 s and is torn down on exit, Ctrl-C or error; every bench run ends
by itself after --warmup + --duration; traffic stays inside the lab's namespaces.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

from lab import Lab, LabError, namespaces_unavailable


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sockit", default="build/release/src/cli/sockit", help="the sockit binary")
    p.add_argument("-k", "--load-hosts", type=int, default=3, help="load hosts (default 3)")
    p.add_argument("--workload", default="echo", help="echo (default), fib, connect or stream")
    p.add_argument("--conns", type=int, default=10, help="connections per load host (default 10)")
    p.add_argument("--duration", type=float, default=5, help="measured seconds (default 5)")
    p.add_argument("--warmup", type=float, default=1, help="seconds of load before measuring (default 1)")
    p.add_argument("--model", default="epoll", help="the server's model (default epoll)")
    p.add_argument("--server-threads", type=int, default=1, help="the server's threads (default 1)")
    p.add_argument("--rate-mbit", type=float, help="each host's uplink limit, Mbit/s (default: none)")
    p.add_argument("--out", help="where the reports are kept (default: a new directory under /tmp)")
    p.add_argument("bench_args", nargs="*", help="more `sockit bench` flags, after --")
    args = p.parse_args()
    if not 1 <= args.load_hosts <= 64:
        p.error("--load-hosts is 1 to 64")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        p.error("--duration is more than 0 and at most 600, --warmup 0 to 60")
    return args


SERVICE = {"echo": "echo", "connect": "echo", "stream": "echo", "fib": "fib"}


def main():
    args = parse_args()
    why_not = namespaces_unavailable()
    if why_not:
        sys.exit(f"bench_many_hosts: {why_not}")
    if args.workload not in SERVICE:
        sys.exit(f"bench_many_hosts: --workload is one of {', '.join(SERVICE)}")
    os.environ["SOCKIT"] = os.path.abspath(args.sockit)
    out = args.out or tempfile.mkdtemp(prefix="sockit-many-hosts-")
    os.makedirs(out, exist_ok=True)
    service = SERVICE[args.workload]
    lifetime = args.warmup + args.duration + 120
    with Lab(hosts=args.load_hosts + 1, rate_mbit=args.rate_mbit, lifetime=lifetime) as lab:
        server_host, *load_hosts = lab.hosts
        with server_host.sockit_server("serve", f"{service}:0", "--tcp", "--listen", server_host.address, "--model",
                                       args.model, "--threads", str(args.server_threads), "--quiet",
                                       "--max-conns", str(args.conns * args.load_hosts + 100)) as server:
            host, port = server.address()
            print(f"server: sockit serve {service} --model {args.model} --threads {args.server_threads} on "
                  f"{server_host.namespace} ({host}:{port})")
            running = []
            # Every host begins at the same wall-clock time: their windows coincide.
            start_at = f"{time.time() + 2 + 0.1 * args.load_hosts:.3f}"
            for h in load_hosts:
                argv = ["bench", args.workload, f"{host}:{port}", "--conns", str(args.conns), "--duration",
                        str(args.duration), "--warmup", str(args.warmup), "--load-host", f"h{h.index}", "--start-at",
                        start_at, "--json", *args.bench_args]
                path = os.path.join(out, f"h{h.index}.json")
                print(f"load:   ip netns exec {h.namespace} sockit {shlex.join(argv)} > {path}")
                with open(path, "w") as report:
                    running.append((h, path, h.popen(h.sockit(*argv), stdout=report, stderr=subprocess.PIPE,
                                                     text=True)))
            failed = False
            deadline = time.monotonic() + 5 + args.warmup + args.duration + 60
            for h, path, proc in running:
                try:
                    _, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    _, err = proc.communicate()
                    err += "\n(killed: it outlived its duration by a minute)"
                if proc.returncode != 0:
                    failed = True
                    print(f"bench on h{h.index} exited {proc.returncode}: {err.strip()}", file=sys.stderr)
    if failed:
        return 1
    files = [path for _, path, _ in running]
    print(f"merge:  sockit bench merge {' '.join(files)}\n", flush=True)
    merged = subprocess.run([os.environ["SOCKIT"], "bench", "merge", *files], text=True, capture_output=True,
                            timeout=60)
    print(merged.stdout, end="")
    if merged.returncode != 0:
        print(merged.stderr, file=sys.stderr, end="")
    return merged.returncode


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LabError as e:
        sys.exit(f"bench_many_hosts: {e}")
