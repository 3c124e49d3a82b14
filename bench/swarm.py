"""One seed and N leechers on a lab (tests/integration/lab.py), measured against the bound of P2P
file distribution: no distribution of a file of F bytes from a seed with uplink u_s to N peers with
uplinks u_i and download rates d_i finishes before

    max(F / u_s,  F / d_min,  N * F / (u_s + sum(u_i)))

(the lab limits only uplinks, so d_min is what the others can send: the F / d_min term never wins).
bench/swarm.sh runs it with a release build; docs/swarm.md has the figures.

    python3 bench/swarm.py --sizes 5,10,20 --rate 10 --loss 5 --file-mib 32 --block-kib 32 --repeat 3

Each run is a fresh lab of N + 2 hosts: host 1 the tracker, host 2 the seed, hosts 3.. the
leechers, every uplink limited to --rate Mbit/s with --loss per mille of IP packets dropped. The
leechers are spawned behind a gate and released together once all wait there (as
bench/bittorrent_swarm.py's are); the clock starts when the first is released. A leecher's time is
when it had the whole file (for Cascade: its "complete:" line, after the target hash was checked). Leechers go on serving
until the last one is done, as peers of a real swarm do. Every output is compared with the seed's
file (SHA-256) before a run counts.

Swarm kinds (--kinds) plug in without touching this file: "cascade" is run_cascade() below; any
other NAME is the module bench/NAME_swarm.py, whose run_swarm(setup: Setup) -> Run starts the
kind's tracker, seed and leechers on setup's hosts, waits for every leecher (at most
setup.timeout seconds) and returns when each had the file and where it wrote it; the lab, the
bound, the SHA-256 checks, the CPU figures and the table are this file's.
"""

import argparse
import contextlib
import dataclasses
import hashlib
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

from bittorrent_swarm import gate, waits_on_pipe  # noqa: E402
from harness import SOCKIT, ProcessTree, sha256_file  # noqa: E402
from lab import Lab  # noqa: E402


@dataclasses.dataclass
class Setup:
    """What a swarm kind is given: the lab's hosts, the file, and how long it may take."""
    lab: Lab
    tracker: object          # lab.Host for the tracker
    seed: object             # lab.Host for the seed, which holds the whole file at `data`
    leechers: list           # lab.Host per leecher, in order
    data: str                # the seed's file
    size: int                # its bytes
    block_size: int          # the piece or block size every kind should use
    work: str                # an empty directory of this run for outputs, logs, torrents...
    timeout: float           # seconds from the start until every leecher must be done
    extra: list = dataclasses.field(default_factory=list)  # --extra: more arguments for the kind's peers


@dataclasses.dataclass
class Run:
    """What a swarm kind returns: per leecher (in Setup.leechers' order) the seconds from the start
    until it had the whole file and where it is; the CPU its processes used (user+sys seconds,
    read just before they were stopped); anything worth a line of its own (`notes`)."""
    times: list
    outputs: list
    cpu_seconds: float
    notes: str = ""


class SwarmFailed(RuntimeError):
    pass


def bound(size, seed_uplink, uplinks):
    """Seconds: the lower bound on the last completion (bytes and bytes per second)."""
    return max(size / seed_uplink, len(uplinks) * size / (seed_uplink + sum(uplinks)))


# ---- the Cascade swarm ----

class Follower:
    """A process's output lines on a thread, with the time (since `start`) of the first line
    matching `done`; every line goes to `log` with its time when given."""

    def __init__(self, proc, start, done, log=None):
        self.proc, self.start, self.done = proc, start, re.compile(done)
        self.finished_at = None
        self.lines = []
        self.log = open(log, "w") if log else None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            now = time.monotonic() - self.start
            if self.finished_at is None and self.done.search(line):
                self.finished_at = now
            if self.log:
                self.log.write(f"{now:.3f} {line}")
            self.lines.append(line)
            del self.lines[:-200]  # the last lines are what explain a failure
        if self.log:
            self.log.close()

    def tail(self):
        return "".join(self.lines[-30:])


def _started(host, argv, ready, timeout=20):
    """argv in `host` with its output followed; waits for a line matching `ready`; returns
    (process, Follower, match)."""
    proc = host.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    follower = Follower(proc, time.monotonic(), ready)
    deadline = time.monotonic() + timeout
    while follower.finished_at is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SwarmFailed(f"{' '.join(argv)} on {host.namespace}: no /{ready}/ line:\n{follower.tail()}")
        time.sleep(0.02)
    return proc, follower, follower.done.search("".join(follower.lines))


def start_gated(hosts, argvs, timeout=30):
    """Starts argvs[i] on hosts[i] behind a gate (bittorrent_swarm.gate: a shell that execs it once
    released), waits until every shell sits at its gate, then releases them all: the leechers of
    both kinds start together, not one `ip netns exec` after the other. Returns the Popens in
    order and the moment the first was released (time.monotonic()). The lab kills them at
    teardown."""
    procs = [host.popen(gate(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True, bufsize=1) for host, argv in zip(hosts, argvs)]
    deadline = time.monotonic() + timeout
    for proc in procs:
        while not waits_on_pipe(proc.pid):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SwarmFailed(f"a leecher never reached its gate (exit {proc.poll()})")
            time.sleep(0.01)
    start = time.monotonic()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.close()
    return procs, start


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def run_cascade(setup):
    """Tracker, seed and leechers are `sockit cascade` processes (SOCKIT) with their defaults but
    --list-interval 1 (and setup.extra appended to every peer's arguments)."""
    cascade = os.path.join(setup.work, "file.cascade")
    subprocess.run([SOCKIT, "cascade", "create", setup.data, "--block-size", str(setup.block_size), "-o", cascade],
                   check=True, capture_output=True, timeout=120)
    procs = []
    try:
        tracker, _, m = _started(setup.tracker, [SOCKIT, "cascade", "tracker", "--listen", f"{setup.tracker.address}:0",
                                                 "--allow-any", "--quiet"], r"listening on (\S+)")
        procs.append(tracker)
        where = m.group(1)
        peer = [SOCKIT, "cascade", "peer", cascade, "--tracker", where, "--list-interval", "1", *setup.extra]
        seed, _, m = _started(setup.seed, [*peer, "--listen", f"{setup.seed.address}:0", "-o", setup.data],
                              r"^seeding")
        procs.append(seed)
        outputs = [os.path.join(setup.work, f"out{i}") for i in range(len(setup.leechers))]
        stats = [os.path.join(setup.work, f"stats{i}.json") for i in range(len(setup.leechers))]
        leechers = [[*peer, "--listen", f"{host.address}:0", "-o", output, "--stats", stat]
                    for host, output, stat in zip(setup.leechers, outputs, stats)]
        started, start = start_gated(setup.leechers, leechers)
        procs += started
        followers = [Follower(proc, start, r"^complete: ", os.path.join(setup.work, f"leecher{i}.log"))
                     for i, proc in enumerate(started)]
        trees = [ProcessTree(p.pid) for p in procs]
        cpu_before = sum(t.cpu_seconds() for t in trees)
        deadline = start + setup.timeout
        while any(f.finished_at is None for f in followers):
            for f in followers:
                if f.finished_at is None and f.proc.poll() is not None:
                    raise SwarmFailed(f"a leecher exited {f.proc.returncode} before it was complete:\n{f.tail()}")
            if time.monotonic() > deadline:
                late = sum(f.finished_at is None for f in followers)
                raise SwarmFailed(f"{late} leechers not complete after {setup.timeout:.0f} s; one of them:\n"
                                  f"{next(f for f in followers if f.finished_at is None).tail()}")
            time.sleep(0.05)
        cpu = sum(t.cpu_seconds() for t in trees) - cpu_before
    finally:
        _stop(procs)
    return Run([f.finished_at for f in followers], outputs, cpu, _seed_share(stats, setup))


def _seed_share(stats, setup):
    """How many blocks the leechers took from the seed (its lab address), against the file's."""
    blocks = -(-setup.size // setup.block_size)
    from_seed = duplicates = 0
    for path in stats:
        with open(path) as f:
            report = json.load(f)["files"][0]
        from_seed += sum(n for peer, n in report["blocks_from"].items() if peer.startswith(setup.seed.address + ":"))
        duplicates += report["duplicates"]
    return f"seed sent {from_seed / blocks:.2f}x the file (+ duplicates); {duplicates} duplicates in all"


def swarm_kind(name):
    if name == "cascade":
        return run_cascade
    return importlib.import_module(f"{name}_swarm").run_swarm


# ---- the machine: is the CPU what limits a run? ----

def cpu_times():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def make_file(path, size):
    """`size` bytes that do not compress and are the same on every run."""
    seed = hashlib.sha256(b"bench/swarm.py").digest()
    with open(path, "wb") as f:
        for i in range(-(-size // (1 << 20))):
            piece = hashlib.sha256(seed + i.to_bytes(8, "big")).digest() * (1 << 15)
            f.write(piece[:min(1 << 20, size - i * (1 << 20))])


def one_run(kind, n, args, data, expected, scratch):
    rate = args.rate * 1e6 / 8
    with Lab(hosts=n + 2, rate_mbit=args.rate, loss_permille=args.loss, lifetime=args.timeout + 120) as lab:
        if args.cc:
            for host in lab.hosts:
                host.run(["sysctl", "-q", "-w", f"net.ipv4.tcp_congestion_control={args.cc}"])
        work = tempfile.mkdtemp(prefix=f"{kind}-{n}-", dir=scratch)
        setup = Setup(lab, lab.host(1), lab.host(2), lab.hosts[2:], data, args.size, args.block_size, work,
                      args.timeout, args.extra)
        load_before = loadavg()
        busy0, total0 = cpu_times()
        wall0 = time.monotonic()
        run = swarm_kind(kind)(setup)
        wall = time.monotonic() - wall0
        busy1, total1 = cpu_times()
    for output in run.outputs:
        if sha256_file(output) != expected:
            raise SwarmFailed(f"{kind}: {output} is not the seed's file")
        if not args.keep:
            os.unlink(output)
    b = bound(args.size, rate, [rate] * n)
    return {
        "kind": kind, "n": n, "bound": b, "last": max(run.times), "mean": statistics.mean(run.times),
        "ratio": max(run.times) / b, "cpu": run.cpu_seconds, "wall": wall,
        "machine_busy": (busy1 - busy0) / max(1, total1 - total0), "load": (load_before + loadavg()) / 2,
        "notes": run.notes,
    }


def table(rows, args):
    f_mib = args.size / (1 << 20)
    print(f"\nF = {args.size} bytes ({f_mib:g} MiB) in {args.block_size >> 10} KiB blocks; every uplink "
          f"u_s = u_i = {args.rate:g} Mbit/s; loss {args.loss / 10:g}% of IP packets on every uplink; "
          f"{args.repeat} run(s) each, median [min-max]")
    print(f"{'kind':9} {'N':>3} {'F MiB':>6} {'u_s':>5} {'u_i':>5} {'bound s':>8} {'last leecher s':>22} "
          f"{'ratio':>18} {'mean leecher s':>22} {'swarm CPU':>10} {'busy':>5} {'load':>5}")
    groups = {}
    for row in rows:
        groups.setdefault((row["kind"], row["n"]), []).append(row)

    def spread(runs, key, fmt):
        v = [r[key] for r in runs]
        return f"{fmt.format(statistics.median(v))} [{fmt.format(min(v))}-{fmt.format(max(v))}]"

    for (kind, n), runs in groups.items():
        cores = statistics.median(r["cpu"] / r["wall"] for r in runs)
        print(f"{kind:9} {n:>3} {f_mib:>6g} {args.rate:>5g} {args.rate:>5g} {runs[0]['bound']:>8.2f} "
              f"{spread(runs, 'last', '{:.2f}'):>22} {spread(runs, 'ratio', '{:.3f}'):>18} "
              f"{spread(runs, 'mean', '{:.2f}'):>22} {cores:>6.2f} cores {statistics.median(r['machine_busy'] for r in runs):>5.0%} "
              f"{statistics.median(r['load'] for r in runs):>5.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="One seed and N leechers on a lab of hosts, each leecher's completion "
                                     "time against max(F/u_s, N*F/(u_s + sum u_i)). Needs root.")
    parser.add_argument("--sizes", default="5,10,20", help="numbers of leechers, comma-separated")
    parser.add_argument("--kinds", default="cascade", help="swarm kinds, comma-separated (cascade, or NAME for "
                        "bench/NAME_swarm.py)")
    parser.add_argument("--rate", type=float, default=10, help="every uplink, Mbit/s")
    parser.add_argument("--loss", type=int, default=5, help="per mille of IP packets every uplink drops")
    parser.add_argument("--file-mib", type=float, default=32, help="file size F in MiB")
    parser.add_argument("--block-kib", type=int, default=32, help="block (piece) size in KiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind and size")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a run may take")
    parser.add_argument("--cc", help="TCP congestion control of every lab host (sysctl net.ipv4.tcp_congestion_"
                        "control inside its namespace; default: what new namespaces get, this machine's)")
    parser.add_argument("--extra", action="append", default=[],
                        help="an argument for every peer of the kind (repeatable; e.g. --extra=--max-peers --extra=8)")
    parser.add_argument("--json", help="also write every run to this file")
    parser.add_argument("--keep", help="work in this directory and keep it: each run's logs (every line with its "
                        "time), --stats reports and outputs")
    args = parser.parse_args(argv)
    args.size = int(args.file_mib * (1 << 20))
    args.block_size = args.block_kib << 10
    kinds = args.kinds.split(",")
    sizes = [int(n) for n in args.sizes.split(",")]
    rows = []
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="swarm-")) as scratch:
        data = os.path.join(scratch, "file.bin")
        make_file(data, args.size)
        expected = sha256_file(data)
        print(f"sockit: {SOCKIT}; {os.cpu_count()} CPUs, load {loadavg():.1f}", flush=True)
        for round_ in range(args.repeat):
            for n in sizes:
                # Kinds alternate who goes first, so that a drift of the machine hits both alike.
                for kind in kinds if round_ % 2 == 0 else reversed(kinds):
                    row = one_run(kind, n, args, data, expected, scratch)
                    rows.append(row)
                    print(f"run {round_ + 1} {kind} N={n}: last {row['last']:.2f} s, bound {row['bound']:.2f} s, "
                          f"ratio {row['ratio']:.3f}, mean {row['mean']:.2f} s; swarm CPU {row['cpu']:.1f} s in "
                          f"{row['wall']:.1f} s ({row['cpu'] / row['wall']:.2f} cores), machine busy "
                          f"{row['machine_busy']:.0%}, load {row['load']:.1f}; {row['notes']}", flush=True)
    table(rows, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items()}, "runs": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
