#!/usr/bin/env python3
"""The shoot-out: every TCP model of `sockit serve` x workload x concurrency, plus the reference
epoll echo loop and Redis, measured by `sockit bench` with the server pinned to core 0 and the
load generator to core 1. Writes OUT/shootout.md, OUT/shootout/{runs,summary}.csv and plots.

Run through bench/shootout/run.sh (it builds first); see the top of docs/shootout.md.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CONCURRENCY = [1, 10, 100, 1000]
WORKLOADS = {
    "echo64": {"service": "echo", "serve": [], "bench": ["echo", "--size", "64"],
               "title": "echo 64 B, persistent connections", "persistent": True},
    "connect": {"service": "echo", "serve": [], "bench": ["connect", "--size", "64"],
                "title": "connect per request (one 64 B echo each)", "persistent": False},
    "fib27": {"service": "fib", "serve": ["--algorithm", "recursive"], "bench": ["fib", "--n", "27", "--timeout", "30"],
              "title": "fib(27), recursive: CPU-bound", "persistent": True},
    "stream1m": {"service": "echo", "serve": [], "bench": ["stream", "--size", "1048576", "--timeout", "30"],
                 "title": "stream: 1 MiB echoed per request", "persistent": True,
                 # At 1000 connections a 1 MiB exchange can outlast the window: bytes/s is the measure.
                 "metric": ("bytes_per_s", "MB/s received", 1e6),
                 # 1000 x 1 MiB is a gigabyte queued in socket buffers at the start: let it settle.
                 "warmup_at": {1000: 2.0}},
    # The notes' web server: a 100 B file over keep-alive HTTP/1.1 (`--root` is the run's own
    # directory, made by Shootout).
    "http100": {"service": "http", "serve": ["--root", "{site}"], "bench": ["http"], "path": "/100b",
                "title": "HTTP GET of a 100 B file, keep-alive", "persistent": True},
}
EVENT_MODELS = {"select", "poll", "epoll", "uring"}
SERVER_CORE, LOAD_CORE = "0", "1"
PING = ["raw", "--send", r"PING\r\n", "--expect", r"+PONG\r\n"]  # sockit bench's Redis workload


def redis_argv(port):
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--maxclients", "5000", "--protected-mode", "no"]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, deadline_s=10.0):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def redis_commands(port):
    """Redis's own count of the commands it has processed (INFO stats), the INFO itself excluded."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(5)
        f = s.makefile("rb")
        s.sendall(b"INFO stats\r\n")
        length = int(f.readline()[1:])
        text = f.read(length + 2).decode()
    return int(re.search(r"total_commands_processed:(\d+)", text).group(1)) - 1


class Pinned:
    """A server process pinned to SERVER_CORE, its output in a log file, stopped with SIGTERM."""

    def __init__(self, argv, ports, log_path):
        self.argv = argv
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, *argv], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.ok = all(wait_listening(p, self.proc) for p in ports)

    @property
    def pid(self):
        return self.proc.pid  # taskset execs the server: same process

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=7)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


class Shootout:
    def __init__(self, args):
        self.args = args
        self.sockit = os.path.abspath(args.sockit)
        self.out = os.path.abspath(args.out)
        self.data = os.path.join(self.out, "shootout")
        os.makedirs(self.data, exist_ok=True)
        self.work = os.path.abspath(args.work)  # server logs and gnuplot data: not for the repository
        os.makedirs(self.work, exist_ok=True)
        self.runs = []          # one dict per bench run
        self.notes = []         # lines for the report
        self.commands = {}      # a sample command line per kind of point
        self.crosscheck = []    # sockit bench vs redis-benchmark
        self.probe = []         # fib offload probe results
        self.serve_help = self.capture([self.sockit, "serve", "--help"])
        self.site = os.path.join(self.work, "site")
        os.makedirs(self.site, exist_ok=True)
        with open(os.path.join(self.site, "100b"), "wb") as f:
            f.write(b"x" * 99 + b"\n")

    @staticmethod
    def capture(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    # ---------------------------------------------------------------- what to run
    def models(self):
        out = subprocess.run([self.sockit, "serve", "--list-models"], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            self.notes.append("`sockit serve --list-models` failed in this build, so no sockit model was measured: "
                              + (out.stderr.strip().splitlines() or ["?"])[0])
            return []
        # One model per line (its name first, maybe a description after), or all on one line.
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        words = re.split(r"[\s,]+", lines[0].strip()) if len(lines) == 1 else \
            [line.split()[0].rstrip(":,") for line in lines]
        return [w for w in words if re.fullmatch(r"[a-z_]+", w) and w not in ("model", "models", "name")]

    def skip_reason(self, model, workload, conns):
        if model == "iterative" and WORKLOADS[workload]["persistent"] and conns > 1:
            return "iterative serves one connection at a time"
        if model == "select" and conns + 16 > 1024:
            return "select cannot watch descriptors past FD_SETSIZE (1024)"
        return None

    def reference_argv(self, port):
        return [os.path.abspath(self.args.reference), f"127.0.0.1:{port}"]

    def serve_argv(self, model, services, extra):
        argv = [self.sockit, "serve", *services, "--model", model, "--listen", "127.0.0.1"]
        if model in EVENT_MODELS and "--threads" in self.serve_help:
            argv += ["--threads", "1"]
        if "--quiet" in self.serve_help:
            argv += ["--quiet"]
        if "--max-conns" in self.serve_help:
            argv += ["--max-conns", "5000"]
        return argv + extra

    # ---------------------------------------------------------------- one bench run
    def bench(self, workload_args, target, conns, server_pid, extra=(), warmup=None, duration=None):
        a = self.args
        warmup = a.warmup if warmup is None else warmup
        duration = a.duration if duration is None else duration
        argv = ["taskset", "-c", LOAD_CORE, self.sockit, "bench", workload_args[0], target, *workload_args[1:],
                "--conns", str(conns), "--threads", "1", "--duration", str(duration), "--warmup", str(warmup),
                "--json", *extra]
        if server_pid:
            argv += ["--server-pid", str(server_pid)]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + warmup + 60)
        except subprocess.TimeoutExpired:
            return argv, None, "sockit bench did not finish"
        if proc.returncode != 0:
            return argv, None, (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
        return argv, json.loads(proc.stdout), None

    def record(self, system, workload, conns, run, argv, report, failure):
        row = {"system": system, "workload": workload, "conns": conns, "run": run, "status": "ok",
               "requests_per_s": "", "bytes_per_s": "", "p50_us": "", "p99_us": "", "p999_us": "", "max_us": "",
               "server_cpu_pct": "", "server_us_per_req": "", "client_cpu_pct": "", "errors": ""}
        if report is None:
            row["status"] = "failed: " + failure
        else:
            errors = {k: v for k, v in report["errors"].items() if v}
            row.update({
                "requests_per_s": round(report["requests_per_s"], 1),
                "bytes_per_s": round(report["bytes_per_s"]),
                "p50_us": report["latency_us"]["p50"], "p99_us": report["latency_us"]["p99"],
                "p999_us": report["latency_us"]["p99_9"], "max_us": report["latency_us"]["max"],
                "client_cpu_pct": round(report["client_cpu"]["percent_of_core"], 1),
                "errors": " ".join(f"{k}={v}" for k, v in errors.items()),
            })
            if report.get("server_cpu"):
                row["server_cpu_pct"] = round(report["server_cpu"]["percent_of_core"], 1)
                row["server_us_per_req"] = round(report["server_cpu"]["us_per_request"], 2)
            if report["requests"] == 0:  # no latency or per-request figure to speak of
                for field in ("p50_us", "p99_us", "p999_us", "max_us", "server_us_per_req"):
                    row[field] = ""
            total = report["error_total"]
            done = report["requests"] or (report["bytes_received"] if workload == "stream1m" else 0)
            if done == 0 or total > 0.01 * max(1, report["requests"]):
                row["status"] = "failed: %d requests, errors %s" % (report["requests"], row["errors"] or "none")
        self.runs.append(row)
        key = (system.split(":")[0], workload)
        self.commands.setdefault(key, " ".join(shlex.quote(x) for x in argv))
        return row

    def point(self, system, workload, workload_args, target, conns, pid, extra=()):
        longer = WORKLOADS.get(workload, {}).get("warmup_at", {}).get(conns)
        warmup = max(self.args.warmup, longer) if longer else None
        for run in range(1, self.args.runs + 1):
            argv, report, failure = self.bench(workload_args, target, conns, pid, extra, warmup)
            row = self.record(system, workload, conns, run, argv, report, failure)
            log(f"{system:>12} {workload:<9} c={conns:<5} run {run}: {row['requests_per_s'] or '-'} req/s "
                f"p99 {row['p99_us'] or '-'} us  {row['status'] if row['status'] != 'ok' else ''}")
            if row["status"].startswith("failed") and report is None:
                break  # the server is gone or bench cannot start: the other runs would say the same

    # ---------------------------------------------------------------- the systems
    def run_models(self, models):
        for model in models:
            for workload, w in WORKLOADS.items():
                port = free_port()
                extra = [arg.replace("{site}", self.site) for arg in w["serve"]]
                server = Pinned(self.serve_argv(model, [f"{w['service']}:{port}"], extra), [port],
                                os.path.join(self.work, f"serve-{model}-{workload}.log"))
                target = f"http://127.0.0.1:{port}{w['path']}" if "path" in w else f"127.0.0.1:{port}"
                try:
                    if not server.ok:
                        for conns in self.concurrency():
                            self.record(model, workload, conns, 1, server.argv, None, "the server did not start")
                        continue
                    for conns in self.concurrency():
                        reason = self.skip_reason(model, workload, conns)
                        if reason:
                            self.runs.append({"system": model, "workload": workload, "conns": conns, "run": 0,
                                              "status": "skipped: " + reason})
                            continue
                        self.point(model, workload, w["bench"], target, conns, server.pid)
                finally:
                    server.stop()

    def run_reference(self):
        if not os.path.exists(self.args.reference):
            self.notes.append(f"The reference server {self.args.reference} was not built.")
            return
        port = free_port()
        server = Pinned(self.reference_argv(port), [port],
                        os.path.join(self.work, "reference.log"))
        try:
            for workload in ("echo64", "stream1m"):
                for conns in self.concurrency():
                    self.point("reference", workload, WORKLOADS[workload]["bench"], f"127.0.0.1:{port}", conns,
                               server.pid)
        finally:
            server.stop()

    def run_redis(self):
        if not shutil.which("redis-server"):
            self.notes.append("Redis was not measured: `redis-server` is not installed "
                              "(`sudo apt-get install redis-server redis-tools`).")
            return
        port = free_port()
        server = Pinned(redis_argv(port), [port], os.path.join(self.work, "redis.log"))
        try:
            for conns in self.concurrency():
                self.point("redis", "ping", PING, f"127.0.0.1:{port}", conns, server.pid)
                ours = self.median("redis", "ping", conns, "requests_per_s")
                # Does bench count what the server did? One run without warm-up, against Redis's counter.
                before = redis_commands(port)
                _, report, _ = self.bench(PING, f"127.0.0.1:{port}", conns, None, warmup=0)
                counted = redis_commands(port) - before
                if not shutil.which("redis-benchmark") or not ours:
                    continue
                client = self.median("redis", "ping", conns, "client_cpu_pct")
                self.cross_check(port, conns, 1, ours, client, report["requests"] if report else 0, counted)
                if conns in (10, 100):  # pipelined: Redis, not the client, is the limit for both tools
                    _, piped, _ = self.bench(PING, f"127.0.0.1:{port}", conns, None, extra=["--pipeline", "16"])
                    if piped:
                        self.cross_check(port, conns, 16, piped["requests_per_s"],
                                         piped["client_cpu"]["percent_of_core"], None, None)
        finally:
            server.stop()

    def cross_check(self, port, conns, pipeline, ours, ours_cpu, bench_count, redis_count):
        """redis-benchmark on the same Redis, same connections and pipeline depth, with its CPU use."""
        requests = max(10000, int(ours * self.args.duration))
        argv = ["taskset", "-c", LOAD_CORE, "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "ping_inline",
                "-c", str(conns), "-n", str(requests), "-P", str(pipeline), "-q", "--csv"]
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout
        except subprocess.TimeoutExpired:
            self.notes.append(f"redis-benchmark at c={conns} -P {pipeline} did not finish within 120 s.")
            return
        after, elapsed = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - started
        cpu = 100 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / elapsed
        rows = [r for r in csv.reader(out.splitlines()) if r and r[0].upper().startswith("PING")]
        if not rows:
            return
        theirs = float(rows[0][1])
        self.crosscheck.append({"conns": conns, "pipeline": pipeline, "sockit_bench": ours, "redis_benchmark": theirs,
                                "ratio": ours / theirs, "bench_cpu": ours_cpu, "redis_benchmark_cpu": cpu,
                                "bench_count": bench_count, "redis_count": redis_count})
        self.commands.setdefault(("redis-benchmark", f"ping -P {pipeline}"), " ".join(argv))
        log(f"redis-benchmark c={conns} -P {pipeline}: {theirs:.0f} req/s at {cpu:.0f}% CPU "
            f"(sockit bench {ours:.0f} at {ours_cpu:.0f}%)")

    # The systems a target compares, side by side: started together (an idle server costs nothing),
    # then driven in turns, round after round. The main tables measure one system after another,
    # minutes apart, and on a shared virtual machine the host's speed drifts by more than the
    # differences the targets ask about.
    PAIRED = [("echo64", ["reference", "epoll", "uring", "redis"], [100, 1000]),
              ("connect", ["pool", "thread", "fork"], [1, 100, 1000])]
    PAIRED_ROUNDS, PAIRED_DURATION = 5, 2.0  # more and longer than the main runs: the targets rest on them

    def run_paired(self, models):
        for workload, systems, concurrency in self.PAIRED:
            systems = [s for s in systems if s in models or s == "reference" and os.path.exists(self.args.reference)
                       or s == "redis" and shutil.which("redis-server")]
            servers = {}
            try:
                for system in systems:
                    port = free_port()
                    log_path = os.path.join(self.work, f"paired-{workload}-{system}.log")
                    if system == "reference":
                        argv = self.reference_argv(port)
                    elif system == "redis":
                        argv = redis_argv(port)
                    else:
                        argv = self.serve_argv(system, [f"{WORKLOADS[workload]['service']}:{port}"], [])
                    servers[system] = (Pinned(argv, [port], log_path), port)
                for conns in [c for c in concurrency if c in self.concurrency()]:
                    rounds = 1 if self.args.quick else self.PAIRED_ROUNDS
                    duration = self.args.duration if self.args.quick else self.PAIRED_DURATION
                    for run in range(1, rounds + 1):
                        for system, (server, port) in servers.items():
                            if not server.ok:
                                continue
                            load = PING if system == "redis" else WORKLOADS[workload]["bench"]
                            argv, report, failure = self.bench(load, f"127.0.0.1:{port}", conns, server.pid,
                                                               duration=duration)
                            row = self.record(system, workload + "-paired", conns, run, argv, report, failure)
                            log(f"{system:>12} {workload}-paired c={conns:<5} run {run}: "
                                f"{row['requests_per_s'] or '-'} req/s {row['server_us_per_req'] or '-'} us/req")
            finally:
                for server, _ in servers.values():
                    server.stop()

    def run_offload_probe(self, models):
        """fib(27) at 100 connections and a `time` client at 50 requests/s on the same server, whose
        one event loop (--threads 1) serves both listeners: does the loop stay responsive?"""
        flag = re.search(r"(--no-offload|--offload)\b", self.serve_help)
        if flag and flag.group(1) == "--no-offload":
            variants = [("offload", []), ("no offload", ["--no-offload"])]
        elif flag:
            variants = [("offload", ["--offload"]), ("no offload", [])]
        else:
            variants = [("default", [])]
            self.notes.append("`sockit serve` has no --offload/--no-offload switch in this build: the fib "
                              "responsiveness probe ran each event model once, as it comes.")
        for model in [m for m in models if m in EVENT_MODELS]:
            for label, extra in variants:
                fib_port, time_port = free_port(), free_port()
                argv = self.serve_argv(model, [f"fib:{fib_port}", f"time:{time_port}"], ["--algorithm", "recursive", *extra])
                server = Pinned(argv, [fib_port, time_port], os.path.join(self.work, f"probe-{model}-{label.replace(' ', '-')}.log"))
                try:
                    if not server.ok:
                        self.probe.append({"model": model, "variant": label, "status": "server did not start"})
                        continue
                    load = subprocess.Popen(
                        ["taskset", "-c", LOAD_CORE, self.sockit, "bench", "fib", f"127.0.0.1:{fib_port}", "--n", "27",
                         "--conns", "100", "--timeout", "30", "--duration", str(self.args.duration + 0.5),
                         "--warmup", str(self.args.warmup), "--json"], stdout=subprocess.PIPE, text=True)
                    time.sleep(self.args.warmup)
                    _, report, failure = self.bench(["time", "--rate", "50", "--timeout", "10"], f"127.0.0.1:{time_port}",
                                                    1, None, warmup=0)
                    try:
                        fib_out, _ = load.communicate(timeout=120)
                    except subprocess.TimeoutExpired:
                        load.kill()
                        fib_out, _ = load.communicate()
                    fib = json.loads(fib_out) if load.returncode == 0 else None
                    self.probe.append({
                        "model": model, "variant": label, "status": "ok" if report else failure,
                        "time_p99_us": report["latency_us"]["p99"] if report else None,
                        "time_requests": report["requests"] if report else None,
                        "fib_rps": fib["requests_per_s"] if fib else None})
                    log(f"probe {model} {label}: time p99 {self.probe[-1]['time_p99_us']} us")
                finally:
                    server.stop()

    def concurrency(self):
        return self.args.concurrency

    # ---------------------------------------------------------------- summaries
    def ok_rows(self, system, workload, conns):
        return [r for r in self.runs if r["system"] == system and r["workload"] == workload and r["conns"] == conns
                and r["status"] == "ok"]

    def median(self, system, workload, conns, field):
        values = [float(r[field]) for r in self.ok_rows(system, workload, conns) if r.get(field) not in ("", None)]
        return statistics.median(values) if values else None

    def spread(self, system, workload, conns, field):
        values = [float(r[field]) for r in self.ok_rows(system, workload, conns) if r.get(field) not in ("", None)]
        return (statistics.median(values), min(values), max(values)) if values else None

    def status(self, system, workload, conns):
        rows = [r for r in self.runs if r["system"] == system and r["workload"] == workload and r["conns"] == conns]
        if not rows:
            return "not run"
        if any(r["status"] == "ok" for r in rows):
            return "ok"
        return rows[0]["status"]

    def systems_for(self, workload, models):
        systems = list(models)
        if workload in ("echo64", "stream1m"):
            systems.append("reference")
        return systems

    def write_csv(self, models):
        fields = ["system", "workload", "conns", "run", "status", "requests_per_s", "bytes_per_s", "p50_us", "p99_us",
                  "p999_us", "max_us", "server_cpu_pct", "server_us_per_req", "client_cpu_pct", "errors"]
        with open(os.path.join(self.data, "runs.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            for r in self.runs:
                w.writerow(r)
        with open(os.path.join(self.data, "summary.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["system", "workload", "conns", "status", "rps_median", "rps_min", "rps_max", "p99_us_median",
                        "p99_us_min", "p99_us_max", "server_us_per_req_median", "server_cpu_pct_median",
                        "client_cpu_pct_median", "bytes_per_s_median"])
            for workload in list(WORKLOADS) + ["ping"]:
                systems = ["redis"] if workload == "ping" else self.systems_for(workload, models)
                for system in systems:
                    for conns in self.concurrency():
                        rps = self.spread(system, workload, conns, "requests_per_s")
                        p99 = self.spread(system, workload, conns, "p99_us")
                        w.writerow([system, workload, conns, self.status(system, workload, conns),
                                    *(rps or ("", "", "")), *(p99 or ("", "", "")),
                                    self.median(system, workload, conns, "server_us_per_req") or "",
                                    self.median(system, workload, conns, "server_cpu_pct") or "",
                                    self.median(system, workload, conns, "client_cpu_pct") or "",
                                    self.median(system, workload, conns, "bytes_per_s") or ""])

    def plot(self, models):
        if not shutil.which("gnuplot"):
            self.notes.append("No plots: gnuplot is not installed (`sudo apt-get install gnuplot-nox`).")
            return []
        pictures = []
        for workload, w in WORKLOADS.items():
            systems = self.systems_for(workload, models)
            if workload == "echo64":
                systems = systems + ["redis"]
            field, label, scale = w.get("metric", ("requests_per_s", "requests/s", 1))
            for field, label, suffix, scale in ((field, label, "throughput", scale), ("p99_us", "p99 latency (us)", "p99", 1)):
                dat = os.path.join(self.work, f"{workload}-{suffix}.dat")
                series = []
                with open(dat, "w") as f:
                    for system in systems:
                        source = ("redis", "ping") if system == "redis" else (system, workload)
                        rows = [(c, self.spread(*source, c, field)) for c in self.concurrency()]
                        rows = [(c, s) for c, s in rows if s]
                        if not rows:
                            continue
                        f.write(f"# {system}\n")
                        for c, (med, lo, hi) in rows:
                            f.write(f"{c} {med / scale} {lo / scale} {hi / scale}\n")
                        f.write("\n\n")
                        series.append(system + (" (PING)" if system == "redis" else ""))
                if not series:
                    continue
                png = f"{workload}-{suffix}.png"
                plots = ", ".join(f"'{dat}' index {i} using 1:2:3:4 with yerrorlines title '{name}'"
                                  for i, name in enumerate(series))
                script = (f"set terminal pngcairo size 900,560 noenhanced\nset output '{os.path.join(self.data, png)}'\n"
                          f"set title '{w['title']}: {label} (median, min-max of {self.args.runs})'\n"
                          f"set logscale x\nset xlabel 'concurrent connections'\nset ylabel '{label}'\n"
                          f"set key outside right\nset grid\n" + ("set logscale y\n" if suffix == "p99" else "")
                          + f"plot {plots}\n")
                result = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, timeout=60)
                if result.returncode == 0:
                    pictures.append((workload, suffix, png))
                else:
                    self.notes.append(f"gnuplot failed for {png}: {result.stderr.strip()[:200]}")
        return pictures

    # ---------------------------------------------------------------- the report
    def cell(self, system, workload, conns, field, fmt):
        status = self.status(system, workload, conns)
        if status != "ok":
            return status.replace("|", "/")
        med, lo, hi = self.spread(system, workload, conns, field)
        return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"

    def table(self, systems, workload, field, fmt, source=None):
        lines = ["| system | " + " | ".join(f"c={c}" for c in self.concurrency()) + " |",
                 "|---|" + "---|" * len(self.concurrency())]
        for system in systems:
            wl = source.get(system, workload) if source else workload
            lines.append(f"| {system} | " + " | ".join(self.cell(system, wl, c, field, fmt) for c in self.concurrency()) + " |")
        return "\n".join(lines)

    def ratio(self, a, b):
        return f"{a / b:.2f}" if a and b else "n/a"

    def targets(self, models):
        rows = []
        for check in self.crosscheck:
            rows.append((f"sockit bench vs redis-benchmark PING, c={check['conns']}, pipeline {check['pipeline']}",
                         "within 15%", f"{check['ratio']:.2f}", "yes" if abs(check["ratio"] - 1) <= 0.15 else "no"))
        for conns in (100, 1000):
            if conns not in self.concurrency():
                continue
            epoll = self.median("epoll", "echo64-paired", conns, "requests_per_s")
            ref = self.median("reference", "echo64-paired", conns, "requests_per_s")
            redis = self.median("redis", "echo64-paired", conns, "requests_per_s")
            e_cpu = self.median("epoll", "echo64-paired", conns, "server_us_per_req")
            r_cpu = self.median("reference", "echo64-paired", conns, "server_us_per_req")
            for label, value, goal, ok in (
                    (f"epoll echo c={conns}: req/s vs reference", self.ratio(epoll, ref), "≥ 0.95",
                     epoll and ref and epoll / ref >= 0.95),
                    (f"epoll echo c={conns}: req/s vs Redis PING", self.ratio(epoll, redis), "≥ 1.0",
                     epoll and redis and epoll / redis >= 1.0),
                    (f"epoll echo c={conns}: server CPU/request vs reference", self.ratio(e_cpu, r_cpu), "≤ 1.05",
                     e_cpu and r_cpu and e_cpu / r_cpu <= 1.05)):
                rows.append((label, goal, value, "yes" if ok else "no"))
        if 1000 in self.concurrency():
            u = self.median("uring", "echo64-paired", 1000, "server_us_per_req")
            r = self.median("reference", "echo64-paired", 1000, "server_us_per_req")
            rows.append(("uring echo c=1000: server CPU/request vs reference epoll", "≤ 0.8", self.ratio(u, r),
                         "yes" if u and r and u / r <= 0.8 else "no"))
        for conns in self.PAIRED[1][2]:
            pool = self.median("pool", "connect-paired", conns, "requests_per_s")
            pool_cpu = self.median("pool", "connect-paired", conns, "server_us_per_req")
            for other in ("thread", "fork"):
                o = self.median(other, "connect-paired", conns, "requests_per_s")
                o_cpu = self.median(other, "connect-paired", conns, "server_us_per_req")
                if pool or o:
                    rows.append((f"pool vs {other}, connect per request, c={conns}: req/s", "≥ 2", self.ratio(pool, o),
                                 "yes" if pool and o and pool / o >= 2 else "no"))
                if pool_cpu or o_cpu:
                    rows.append((f"pool vs {other}, connect per request, c={conns}: server CPU/request, {other} ÷ pool",
                                 "≥ 2", self.ratio(o_cpu, pool_cpu),
                                 "yes" if pool_cpu and o_cpu and o_cpu / pool_cpu >= 2 else "no"))
        for p in self.probe:
            if p.get("time_p99_us") is None:
                continue
            want_fast = p["variant"] in ("offload", "default")
            ok = (p["time_p99_us"] < 10000) == want_fast
            rows.append((f"fib(27) c=100 on {p['model']} ({p['variant']}): p99 of a concurrent time request",
                         "< 10 ms" if want_fast else "≥ 10 ms (shows the stall)", f"{p['time_p99_us'] / 1000:.2f} ms",
                         "yes" if ok else "no"))
        return rows

    def bottleneck(self, models):
        """Is `sockit bench` the limit? It is not if it drove some server faster than the reference loop."""
        lines = []
        for conns in (100, 1000):
            ref = self.median("reference", "echo64-paired", conns, "requests_per_s")
            if not ref or conns not in self.concurrency():
                continue
            rates = [(self.median(m, "echo64-paired", conns, "requests_per_s") or 0, m) for m in models]
            fastest, who = max(rates, default=(0, None))
            server = self.median("reference", "echo64-paired", conns, "server_cpu_pct")
            client = self.median("reference", "echo64-paired", conns, "client_cpu_pct")
            verdict = (f"the same load generator on the same core drove {who} at {fastest / 1000:.1f}k req/s, "
                       f"{fastest / ref:.2f}x the reference's rate, so against the reference the limit was the "
                       "server, not `sockit bench`" if fastest > 1.05 * ref else
                       f"no server went faster than the reference (best: {who} at {fastest / 1000:.1f}k req/s), so "
                       "this run does not show that the load generator had capacity to spare")
            lines.append(f"- c={conns}: reference loop {ref / 1000:.1f}k req/s, server process {server:.0f}% of its "
                         f"core and `sockit bench` {client:.0f}% of its own; {verdict}.")
        if not lines:
            return []
        return ["", "Is the load generator the bottleneck? (process CPU from /proc/PID/stat over the window; on "
                "this virtual machine neither side reaches 100%: each core idles while its process waits to be "
                "woken by the other's packets)", ""] + lines

    def machine(self):
        cpu = "unknown CPU"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, {platform.machine()}"

    def write_report(self, models, pictures, started):
        a = self.args
        minutes = (time.monotonic() - started) / 60
        us = lambda v: f"{v:.0f}" if v >= 100 else f"{v:.1f}"
        k = lambda v: f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"
        mb = lambda v: f"{v / 1e6:.0f}"
        out = ["# The shoot-out: every server design on every workload", "",
               "Reproduce (one command, about 15 minutes on 2 cores; run it on a quiet machine):", "",
               "```", "bench/shootout/run.sh", "```", "",
               "It builds the release preset, then for every TCP model of `sockit serve --list-models`, every "
               "workload and every concurrency it starts the server pinned to core 0 (`taskset -c 0`) and runs "
               f"`sockit bench` pinned to core 1 (runs per point: {a.runs}; {a.warmup} s warm-up, {a.duration} s "
               "measured each), and reports the median with the min–max spread in brackets. The same load generator "
               "drives the reference epoll echo loop (`bench/reference/echo_epoll.cpp`) and Redis (`PING` via "
               "`sockit bench raw`); `redis-benchmark -t ping_inline` cross-checks it on the same Redis. Raw "
               "runs: [shootout/runs.csv](shootout/runs.csv); medians: [shootout/summary.csv](shootout/summary.csv).",
               "", f"- Machine: {self.machine()}",
               f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
               f"the run took {minutes:.1f} minutes",
               f"- Models measured: {', '.join(models) if models else 'none'}", ""]
        if a.quick:
            out += ["> **Smoke run (`--quick`)**: one short run per point, fewer concurrencies, on whatever else the "
                    "machine was doing. These numbers only show that the pipeline works; they measure nothing.", ""]
        if self.notes:
            out += ["Notes:", ""] + [f"- {n}" for n in self.notes] + [""]
        out += ["## Targets", "", "| check | target | measured | met |", "|---|---|---|---|"]
        out += [f"| {a_} | {b} | {c} | {d} |" for a_, b, c, d in self.targets(models)] or ["| (no data) | | | |"]
        out += ["", "The echo and connect targets above use the side-by-side runs below: the compared systems "
                f"were started together and driven in turns, {self.PAIRED_ROUNDS} rounds of "
                f"{self.PAIRED_DURATION:.0f} s each, so that they share the host's "
                "moods (the main tables measure one system after another, minutes apart, and the speed of this "
                "virtual machine's host drifts by more than the differences asked about)."]
        for workload, systems, concurrency in self.PAIRED:
            shown = [c for c in concurrency if c in self.concurrency()]
            if not shown:
                continue
            k = lambda v: f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"
            us = lambda v: f"{v:.1f}"
            for title, field, fmt in (("requests/s", "requests_per_s", k), ("server CPU per request (µs)",
                                                                           "server_us_per_req", us)):
                out += ["", f"Side by side, {WORKLOADS[workload]['title']}, {title}:", "",
                        "| system | " + " | ".join(f"c={c}" for c in shown) + " |", "|---|" + "---|" * len(shown)]
                for system in systems:
                    out.append(f"| {system} | " + " | ".join(self.cell(system, workload + "-paired", c, field, fmt)
                                                              for c in shown) + " |")
        out += self.bottleneck(models)
        for workload, w in WORKLOADS.items():
            systems = self.systems_for(workload, models)
            out += ["", f"## {w['title']}", ""]
            if workload == "stream1m":
                out += ["MB/s received:", "", self.table(systems, workload, "bytes_per_s", mb), ""]
            else:
                out += ["Requests/s:", "", self.table(systems, workload, "requests_per_s", k), ""]
            out += ["p99 latency (µs):", "", self.table(systems, workload, "p99_us", us), ""]
            out += ["Server CPU per request (µs, `--server-pid`):", "",
                    self.table(systems, workload, "server_us_per_req", us), ""]
            for wl, suffix, png in pictures:
                if wl == workload:
                    out.append(f"![{w['title']} {suffix}](shootout/{png})")
        out += ["", "## Redis PING (`sockit bench raw --send 'PING\\r\\n' --expect '+PONG\\r\\n'`)", "",
                self.table(["redis"], "ping", "requests_per_s", k), ""]
        if self.crosscheck:
            out += ["Cross-check with `redis-benchmark -t ping_inline` on the same Redis (req/s), and of "
                    "`sockit bench`'s request count against Redis's own `INFO` `total_commands_processed` over one "
                    "run without warm-up (the difference is the requests in flight when the run stopped):", "",
                    "| conns | pipeline | sockit bench (its CPU) | redis-benchmark (its CPU) | ratio | bench count | "
                    "Redis count |", "|---|---|---|---|---|---|---|"]
            count = lambda v: "-" if v is None else str(v)
            out += [f"| {c['conns']} | {c['pipeline']} | {c['sockit_bench']:.0f} ({c['bench_cpu']:.0f}%) | "
                    f"{c['redis_benchmark']:.0f} ({c['redis_benchmark_cpu']:.0f}%) | {c['ratio']:.2f} | "
                    f"{count(c['bench_count'])} | {count(c['redis_count'])} |" for c in self.crosscheck]
            out += ["", "Without a pipeline each tool on its one core is the limit itself (see its CPU), so each "
                    "measures itself more than Redis: `redis-benchmark` re-arms its events per request (`strace -c` "
                    "counts five `epoll_ctl` calls per PING; `sockit bench` makes none in a steady state) and so "
                    "reports less. With 16 requests per round trip the client's cost per request falls, Redis "
                    "becomes the limit for both, and the two measure the same thing: those rows are the cross-check. "
                    "The count against Redis's own counter says whether `sockit bench` counts right."]
        if self.probe:
            out += ["", "## Does a CPU-bound request stall the event loop?", "",
                    "`sockit serve fib:P time:Q --algorithm recursive --threads 1`: one event loop serves both "
                    "listeners. fib(27) at 100 connections, and one client asking `time` 50 times a second; "
                    "`--no-offload` computes fib on the loop itself:", "",
                    "| model | variant | time p99 | fib(27) req/s |", "|---|---|---|---|"]
            for p in self.probe:
                fib = f"{p['fib_rps']:.0f}" if p.get("fib_rps") else "-"
                p99 = f"{p['time_p99_us'] / 1000:.2f} ms" if p.get("time_p99_us") is not None else p["status"]
                out.append(f"| {p['model']} | {p['variant']} | {p99} | {fib} |")
        out += ["", "## Exact commands (one sample per system and workload; the others differ only in --conns)", ""]
        out += ["```"] + [cmd for cmd in self.commands.values()] + ["```"]
        out += ["", "## What the numbers show", "", *self.reading(models)]
        with open(os.path.join(self.out, "shootout.md"), "w") as f:
            f.write("\n".join(out) + "\n")

    def reading(self, models):
        """A few sentences per design, with this run's figures where they exist."""
        lines = []

        def best(workload, conns):
            field = WORKLOADS[workload].get("metric", ("requests_per_s",))[0]
            values = [(self.median(m, workload, conns, field) or 0, m) for m in models]
            values = [v for v in values if v[0]]
            return max(values) if values else None

        for workload in WORKLOADS:
            for conns in (self.concurrency()[-1],):
                top = best(workload, conns)
                if top:
                    unit = "MB/s" if "metric" in WORKLOADS[workload] else "req/s"
                    value = top[0] / 1e6 if "metric" in WORKLOADS[workload] else top[0]
                    lines.append(f"- {WORKLOADS[workload]['title']}, {conns} connections: fastest model {top[1]} "
                                 f"at {value:.0f} {unit}.")
        lines += [
            "",
            "- **iterative** serves one client at a time: fine for one connection, useless for more "
            "(its persistent-connection points are skipped, not failed).",
            "- **fork** pays a process per connection: the connect-per-request workload shows that cost, "
            "persistent connections hide it.",
            "- **thread** pays a thread per connection, cheaper than fork; **pool** pays it once at start-up, "
            "and its workers accept for themselves, so a connection costs no hand-off between threads: it needs "
            "about half thread's CPU per connection. Requests/s gain less, because on loopback the load "
            "generator pays for the handshake too and becomes the limit (see docs/performance.md).",
            "- **select** and **poll** rescan every descriptor on each wake-up: their server CPU per request "
            "grows with the number of connections, and select cannot pass FD_SETSIZE (1024) descriptors.",
            "- **epoll** only touches ready connections, so its CPU per request stays flat as connections grow; "
            "it should sit close to the reference loop, which is the same design without any abstraction.",
            "- **uring** batches submissions and completions and keeps one multishot recv armed per "
            "connection: no system call per request at all. Its CPU per request still sits near epoll's, "
            "because 96% of it is the kernel's TCP path, which both pay alike.",
            "- fib(27) recursive is CPU-bound: every design tops out at the server core's speed, and an event "
            "loop that computes it inline stalls every other client on that loop: `time` waits hundreds of "
            "milliseconds behind fib with `--no-offload`, a few with offload (the probe above).",
            "- Server CPU per request is the fair measure on this 2-core machine: the load generator shares "
            "the machine, so requests/s also reflects how well each design batches work.",
        ]
        return lines

    def run(self):
        started = time.monotonic()
        models = self.models()
        points = len(models) * len(WORKLOADS) * len(self.concurrency()) + 3 * len(self.concurrency())
        log(f"models: {', '.join(models) or 'none'}; about {points} points x {self.args.runs} runs x "
            f"{self.args.duration + self.args.warmup + 0.3:.1f} s ≈ "
            f"{points * self.args.runs * (self.args.duration + self.args.warmup + 0.3) / 60:.0f} minutes")
        self.run_reference()
        self.run_redis()
        self.run_models(models)
        self.run_paired(models)
        self.run_offload_probe(models)
        self.write_csv(models)
        pictures = self.plot(models)
        self.write_report(models, pictures, started)
        log(f"wrote {os.path.join(self.out, 'shootout.md')} and {self.data}/ in "
            f"{(time.monotonic() - started) / 60:.1f} minutes")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sockit", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--out", default="docs")
    p.add_argument("--work", default="build/shootout", help="server logs and plot data")
    p.add_argument("--quick", action="store_true", help="a smoke run: 1 short run per point, concurrency 1 and 10")
    args = p.parse_args()
    args.duration = float(os.environ.get("SHOOTOUT_DURATION", "1"))
    args.warmup = float(os.environ.get("SHOOTOUT_WARMUP", "0.3"))
    args.runs = int(os.environ.get("SHOOTOUT_RUNS", "3"))
    args.concurrency = CONCURRENCY
    if args.quick:
        args.duration, args.warmup, args.runs, args.concurrency = 0.3, 0.1, 1, [1, 10]
    Shootout(args).run()


if __name__ == "__main__":
    main()
