#!/usr/bin/env python3
"""One Cascade tracker with its swarms in memory against one with them in Redis, side by side on
loopback: requests a second and latency of tracker requests (one TCP connection each, as the
protocol has it: connect, 54 bytes, answer, close).

    bench/tracker_redis.py SOCKIT [--clients 4] [--duration 3] [--rounds 3] [--peers 200] [--subscribe 10]

Each round runs the in-memory tracker, then the Redis one (the order alternates between rounds),
for --duration seconds each, against the same load: --clients processes, each a blocking loop of
requests (a list, or a subscribe --subscribe % of the time) for one swarm that holds --peers
entries (registered before the clock starts, each from an address of its own: --trust message),
so every answer carries 20 entries. Redis's used_memory before and after those subscribes gives
its bytes per entry. Redis is a
redis-server of its own on a Unix socket in a temporary directory (no persistence); the tracker
reaches it with `--redis unix:PATH`. --redis-tcp uses 127.0.0.1 and a free port instead, which is
what a tracker on another host pays (minus the network). Prints one line per run, then per
tracker the median of the rounds, and the ratio Redis / memory; --json writes them too. The CPU
per request (utime + stime from /proc of the tracker, and of redis-server, over the run, divided
by the requests answered) says what a core of each serves at most, whatever else the machine runs;
requests a second measure this load generator (Python) on a shared machine as much as the tracker.

Loopback only; bounded: every run stops after --duration, every wait has a deadline, and the
servers are stopped at the end (also on Ctrl-C).
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import recv_until_eof  # noqa: E402

HASH = hashlib.sha256(b"bench swarm").digest()


def request(command, port, ip="127.0.0.1"):
    return b"CASC" + struct.pack("!III", 1, command, 38) + HASH + socket.inet_aton(ip) + struct.pack("!H", port)


def key_bytes(redis_cli):
    """MEMORY USAGE of every key in Redis, summed (what the swarm's entries take, nothing else)."""
    keys = subprocess.run([*redis_cli, "--scan"], capture_output=True, text=True, timeout=10).stdout.split()
    return sum(int(subprocess.run([*redis_cli, "memory", "usage", key, "samples", "0"], capture_output=True,
                                  text=True, timeout=10).stdout) for key in keys)


def cpu_seconds(pid):
    """utime + stime of process `pid` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exchange(address, payload):
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(payload)
        return recv_until_eof(s)


def client(address, duration, subscribe_percent, seed, results):
    """A blocking loop of requests until `duration` is over; puts (count, errors, latencies in µs)."""
    payloads = [request(1, 60000 + seed)] * (100 - subscribe_percent) + [request(2, 60000 + seed)] * subscribe_percent
    latencies, errors, i = [], 0, seed
    end = time.monotonic() + duration
    while True:
        start = time.monotonic()
        if start >= end:
            break
        try:
            answer = exchange(address, payloads[i % 100])
            if not answer or answer[0] != 0:
                errors += 1
        except OSError:
            errors += 1
        latencies.append(int((time.monotonic() - start) * 1e6))
        i += 7
    results.put((len(latencies), errors, latencies))


def load(address, clients, duration, subscribe_percent, pids):
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(address, duration, subscribe_percent, n, results))
             for n in range(clients)]
    cpu_before = [cpu_seconds(pid) for pid in pids]
    for p in procs:
        p.start()
    count, errors, latencies = 0, 0, []
    for _ in procs:
        c, e, l = results.get(timeout=duration + 30)
        count, errors = count + c, errors + e
        latencies += l
    for p in procs:
        p.join(10)
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before)]
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0
    return {"requests_per_s": count / duration, "errors": errors, "p50_us": pick(0.5), "p99_us": pick(0.99),
            "tracker_cpu_us": cpu[0] / count * 1e6 if count else 0,
            "redis_cpu_us": cpu[1] / count * 1e6 if count and len(cpu) > 1 else 0}


class Process:
    def __init__(self, argv, ready, log):
        self.log = open(log, "w+")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            self.log.seek(0)
            found = re.search(ready, self.log.read())
            if found:
                self.match = found
                return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.log.seek(0)
                output = self.log.read()
                self.stop()
                raise SystemExit(f"{argv[0]} did not start: {output}")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def tracker(sockit, work, name, *extra):
    t = Process([sockit, "cascade", "tracker", "--listen", "127.0.0.1:0", "--allow-any", "--trust", "message",
                 "--max-rate", "0", "--max-peers-per-ip", "10000", "--quiet", *extra],
                r"listening on (\S+):(\d+)", os.path.join(work, f"{name}.log"))
    t.address = (t.match.group(1), int(t.match.group(2)))
    return t


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sockit")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", type=int, default=200)
    parser.add_argument("--subscribe", type=int, default=10, help="percent of requests that subscribe")
    parser.add_argument("--redis-tcp", action="store_true", help="reach Redis over TCP on 127.0.0.1")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is not installed (scripts/bootstrap installs it)")
    sockit = os.path.abspath(args.sockit)

    with tempfile.TemporaryDirectory(prefix="tracker_redis.") as work:
        if args.redis_tcp:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            listen, where = ["--port", str(port), "--bind", "127.0.0.1"], f"127.0.0.1:{port}"
            redis_cli = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
        else:
            sock = os.path.join(work, "redis.sock")
            listen, where = ["--port", "0", "--unixsocket", sock], f"unix:{sock}"
            redis_cli = ["redis-cli", "-s", sock]
        servers = []
        try:
            servers.append(Process(["redis-server", *listen, "--save", "", "--appendonly", "no", "--dir", work],
                                   r"(?i)ready to accept connections", os.path.join(work, "redis.log")))
            memory = tracker(sockit, work, "memory")
            on_redis = tracker(sockit, work, "redis", "--redis", where)
            servers += [memory, on_redis]
            trackers = {"memory": memory, "redis": on_redis}
            before = key_bytes(redis_cli)
            for t in trackers.values():  # one entry per address, as peers on their own hosts are
                for n in range(1, args.peers + 1):
                    exchange(t.address, request(2, 7000, f"10.0.{n >> 8}.{n & 255}"))
            per_entry = (key_bytes(redis_cli) - before) / args.peers
            print(f"Redis holds {args.peers} entries of one swarm in {per_entry:.0f} bytes each (MEMORY USAGE)")
            runs = {name: [] for name in trackers}
            for r in range(args.rounds):
                order = ["memory", "redis"] if r % 2 == 0 else ["redis", "memory"]
                for name in order:
                    pids = [trackers[name].proc.pid] + ([servers[0].proc.pid] if name == "redis" else [])
                    result = load(trackers[name].address, args.clients, args.duration, args.subscribe, pids)
                    runs[name].append(result)
                    print(f"round {r + 1} {name:6}: {result['requests_per_s']:8.0f} requests/s, "
                          f"p50 {result['p50_us']} µs, p99 {result['p99_us']} µs, errors {result['errors']}; CPU per "
                          f"request: tracker {result['tracker_cpu_us']:.0f} µs, Redis {result['redis_cpu_us']:.0f} µs",
                          flush=True)
        finally:
            for s in reversed(servers):
                s.stop()
    summary = {name: {key: statistics.median(run[key] for run in results) for key in results[0]}
               for name, results in runs.items()}
    for name, s in summary.items():
        print(f"median {name:6}: {s['requests_per_s']:8.0f} requests/s, p50 {s['p50_us']:.0f} µs, "
              f"p99 {s['p99_us']:.0f} µs; CPU per request: tracker {s['tracker_cpu_us']:.0f} µs, "
              f"Redis {s['redis_cpu_us']:.0f} µs")
    ratio = summary["redis"]["requests_per_s"] / summary["memory"]["requests_per_s"]
    print(f"Redis / memory: {ratio:.2f} of the requests a second")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": runs, "median": summary, "ratio": ratio,
                       "redis_bytes_per_entry": per_entry}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
