#!/usr/bin/env python3
"""BitTorrent's swarm on the lab (issue 14 item 4), to set beside Cascade's: opentracker on one
host, aria2c seeding on another, one aria2c leecher on each further host, the leechers started
together; the time each leecher completes, counted from that common start. docs/swarm-bittorrent.md
has the figures and the reason for every aria2c setting.

    bench/bittorrent_swarm.py --leechers 20 --size-mib 64 --rate-mbit 50 --loss-permille 5
    bench/bittorrent_swarm.py --leechers 2 --size-mib 4      # the quick self-check

As a module, on a lab the caller made (tests/integration/lab.py) and with the caller's file:

    times = run_bittorrent_swarm(lab, tracker_host, seed_host, leecher_hosts, data_path, timeout=120)

Nothing leaves the lab: aria2c's DHT, peer exchange and local peer discovery are off (it has no
UPnP or NAT-PMP), the torrent is private and names only the lab's tracker, and each run checks it:
no UDP socket, no TCP peer off the lab, no packet of the BitTorrent processes (run as `nobody`)
to an address off the lab (an nftables counter on each host's output), or it fails.

Needs root, aria2c, opentracker and mktorrent (scripts/bootstrap --bench). Standard library only.
"""

import argparse
import dataclasses
import hashlib
import ipaddress
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

PIECE_KIB = 256
TOOLS = ("aria2c", "opentracker", "mktorrent", "setpriv", "curl", "nft", "ss")
TRACKER_PORT = 6969
USER, GROUP = "nobody", "nogroup"       # what the tracker and every aria2c run as
UID = 65534                             # nobody's uid: what the nftables audit matches
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
POLL_S = 0.05
SEED_READY_S = 30.0                     # the seed's hash check and first announce
STOP_GRACE_S = 5.0                      # aria2c's goodbye to the tracker on SIGTERM
# The control for CPU contention: a process at the swarm's niceness sleeps 1 ms again and again
# until its stdin closes (or argv[1] seconds pass), then prints how late it woke (ms: p50, p99,
# max). When the swarm's processes wake as late, its times measure the machine's load, not the
# network (socket buffers hold tens of ms at these rates).
WAKEUP_PROBE = """
import select, sys, time
late, deadline = [], time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline and not select.select([sys.stdin], [], [], 0)[0]:
    t = time.monotonic()
    time.sleep(0.001)
    late.append((time.monotonic() - t - 0.001) * 1000)
late = sorted(late) or [0.0]
print(late[len(late) // 2], late[len(late) * 99 // 100], late[-1])
"""
CPU_LIMITED_P99_MS = 10.0
# TCP payload per frame tbf counts: a 1448-byte segment (MSS with timestamps) in 1514 bytes.
PAYLOAD_SHARE = 1448 / 1514

# aria2c's defaults except where a default would reach off the lab or make no sense on it.
ARIA2C_OPTIONS = [
    "--no-conf=true",                   # no ~/.aria2/aria2.conf of whoever runs it
    "--enable-dht=false",               # DHT: UDP to router.bittorrent.com and the nodes it names
    "--enable-dht6=false",
    "--enable-peer-exchange=false",     # peers come from the lab's tracker only
    "--bt-enable-lpd=false",            # local peer discovery: multicast to 239.192.152.143:6771
    "--seed-ratio=0.0",                 # seed until stopped: a leecher that is done serves the rest
    "--file-allocation=none",           # the default (prealloc) writes the whole file as zeros first
    "--summary-interval=0",             # no progress table every 60 s in the log
    "--console-log-level=notice",
    "--enable-color=false",
]
HOOK = """#!/bin/sh
# aria2c --on-bt-download-complete runs this with GID, number of files, first file's path: the
# moment the download is complete (every piece verified), before seeding.
date +%s.%N > "$3.complete.tmp" && mv "$3.complete.tmp" "$3.complete"
"""


class BitTorrentSwarmError(RuntimeError):
    """The swarm could not run, did not finish in time, ended with a wrong file, or reached (or
    tried to reach) something off the lab."""


@dataclasses.dataclass
class SwarmRun:
    completion_s: list          # per leecher, in the order of leecher_hosts, from the common start
    outputs: list               # the leechers' files, in that order, when kept (outputs_dir); else []
    launch_spread_s: float      # from releasing the first (waiting) leecher to releasing the last
    machine_busy: float         # share of all CPUs busy (any process) from the start to the last completion
    machine_softirq: float      # ... of which in softirqs: the kernel moving the lab's packets, mostly
    bittorrent_cpu_s: float     # user+system seconds of the tracker and every aria2c until then
    wakeup_late_ms: tuple       # how late a process at the swarm's niceness woke from 1 ms sleeps: p50, p99, max
    loadavg: tuple              # the machine's 1/5/15-minute load averages at the start
    audit: dict                 # packets_sent, packets_off_lab, udp_sockets, tcp_peers_off_lab


def run_bittorrent_swarm(lab, tracker_host, seed_host, leecher_hosts, data_path, timeout,
                         piece_kib=PIECE_KIB, nice=None):
    """Seconds from the common start until each leecher in `leecher_hosts` had the whole file (in
    that order). Every host is a lab.Host; tracker, seed and leechers each on a host of their own."""
    return bittorrent_swarm(lab, tracker_host, seed_host, leecher_hosts, data_path, timeout,
                            piece_kib, nice).completion_s


def bittorrent_swarm(lab, tracker_host, seed_host, leecher_hosts, data_path, timeout, piece_kib=PIECE_KIB,
                     nice=None, outputs_dir=None):
    """One run, with what it cost (SwarmRun). Raises BitTorrentSwarmError when a leecher does not
    finish within `timeout` seconds of the start, a process dies, a file differs from data_path or
    the audit finds traffic off the lab. Every process it starts is stopped before it returns.
    `nice` (-20..19) runs the tracker, every aria2c and the wake-up probe at that niceness (give
    Cascade's swarm the same); on this machine a negative one did not make the swarm wake sooner.
    The leechers' files are deleted with the rest, or moved to `outputs_dir` (leecherI.bin) when
    given."""
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        raise BitTorrentSwarmError(f"{', '.join(missing)} not found (scripts/bootstrap --bench installs them)")
    hosts = [tracker_host, seed_host, *leecher_hosts]
    if not leecher_hosts:
        raise BitTorrentSwarmError("no leecher host")
    if len({host.namespace for host in hosts}) != len(hosts):
        raise BitTorrentSwarmError("tracker, seed and leechers need a host each")
    if piece_kib < 16 or piece_kib & (piece_kib - 1):
        raise BitTorrentSwarmError(f"a piece of {piece_kib} KiB: must be a power of two, 16 KiB or more")
    expected = _sha256(data_path)
    with tempfile.TemporaryDirectory(prefix="bittorrent-swarm-") as work:
        os.chmod(work, 0o755)  # nobody reads the torrent and runs the hook from here
        swarm = _Swarm(lab, work, timeout, ["nice", "-n", str(nice)] if nice is not None else [])
        try:
            return swarm.run(tracker_host, seed_host, leecher_hosts, data_path, expected, piece_kib, outputs_dir)
        finally:
            swarm.stop()


@dataclasses.dataclass
class PluginRun:
    """What bench/swarm.py expects of a swarm kind's run_swarm() (its Run, by the same fields)."""
    times: list
    outputs: list
    cpu_seconds: float
    notes: str = ""


def run_swarm(setup):
    """bench/swarm.py's plug-in (`--kinds cascade,bittorrent`): the swarm on setup's lab and hosts,
    setup.block_size as the piece size, the leechers' files left in setup.work."""
    result = bittorrent_swarm(setup.lab, setup.tracker, setup.seed, setup.leechers, setup.data, setup.timeout,
                              setup.block_size // 1024, outputs_dir=setup.work)
    _, late_p99, late_max = result.wakeup_late_ms
    notes = (f"wake-ups late by {late_p99:.1f} ms p99 ({late_max:.0f} ms max); softirqs "
             f"{result.machine_softirq:.0%}; off the lab {result.audit['packets_off_lab']} of "
             f"{result.audit['packets_sent']} packets")
    return PluginRun(result.completion_s, result.outputs, result.bittorrent_cpu_s, notes)


class _Swarm:
    def __init__(self, lab, work, timeout, niceness):
        self.work, self.timeout, self.niceness = work, timeout, niceness
        self.lab_addresses = [host.address for host in lab.hosts]  # "on the lab": these and loopback
        self.tracker = None
        self.peers = []      # (host, Popen, dir) of the seed, then the leechers
        self.audited = []
        self.probe = None

    def run(self, tracker_host, seed_host, leecher_hosts, data_path, expected, piece_kib, outputs_dir):
        name = os.path.basename(data_path)
        announce = f"http://{tracker_host.address}:{TRACKER_PORT}/announce"
        torrent, info_hash = _make_torrent(data_path, announce, piece_kib, self.work)
        hook = self._write_hook()
        for host in (tracker_host, seed_host, *leecher_hosts):
            _start_audit(host, self.lab_addresses)
            self.audited.append(host)
        self._start_tracker(tracker_host, info_hash)
        seed_dir = self._peer_dir("seed")
        shutil.copyfile(data_path, os.path.join(seed_dir, name))
        os.chown(os.path.join(seed_dir, name), UID, UID)
        self._start_peer(seed_host, seed_dir, torrent, ["--check-integrity=true"])
        self._await_seed(seed_host, announce, info_hash)

        dirs = [self._peer_dir(f"leecher{i}") for i in range(1, len(leecher_hosts) + 1)]
        for host, path in zip(leecher_hosts, dirs):
            self._start_peer(host, path, torrent, [f"--on-bt-download-complete={hook}"], gated=True)
        self._await_gates()
        cpu_before, loadavg = _cpu_times(), os.getloadavg()
        self.probe = subprocess.Popen([*self.niceness, sys.executable, "-c", WAKEUP_PROBE, str(self.timeout)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        start = time.time()
        for _, proc, _ in self.peers[1:]:
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        launch_spread = time.time() - start
        done = self._await_completion(dirs, name, start)
        busy, softirq = _machine_usage(cpu_before, _cpu_times())
        cpu = sum(_process_cpu_s(proc.pid) for proc in self._processes())
        late = self._stop_probe()
        audit = self._audit()
        self.stop()
        outputs = [os.path.join(path, name) for path in dirs]
        for output in outputs:
            if _sha256(output) != expected:
                raise BitTorrentSwarmError(f"{output} differs from {data_path} (SHA-256)")
        if outputs_dir is not None:
            outputs = [shutil.move(output, os.path.join(outputs_dir, f"leecher{i}.bin"))
                       for i, output in enumerate(outputs, 1)]
        return SwarmRun(done, outputs if outputs_dir is not None else [], launch_spread, busy, softirq, cpu, late,
                        loadavg, audit)

    def _write_hook(self):
        hook = os.path.join(self.work, "completed")
        with open(hook, "w") as f:
            f.write(HOOK)
        os.chmod(hook, 0o755)
        return hook

    def _await_gates(self):
        """Waits until every gated leecher sits at its gate (its shell blocked reading the pipe),
        so that releasing them starts them all, not the shells still being exec'd."""
        deadline = time.monotonic() + SEED_READY_S
        for _, proc, path in self.peers[1:]:
            while not waits_on_pipe(proc.pid):
                self._check_alive()
                if time.monotonic() > deadline:
                    raise BitTorrentSwarmError(f"the leecher in {os.path.basename(path)} never reached its gate")
                time.sleep(0.01)

    def _stop_probe(self):
        """The wake-up probe's lateness (ms: p50, p99, max), once told to stop (its stdin closed)."""
        try:
            answer, _ = self.probe.communicate(timeout=STOP_GRACE_S)
            return tuple(float(x) for x in answer.split())
        except (subprocess.TimeoutExpired, ValueError):
            raise BitTorrentSwarmError(f"the wake-up probe did not answer ({self.probe.poll()})") from None

    def _processes(self):
        return [self.tracker, *(proc for _, proc, _ in self.peers)]

    def _peer_dir(self, role):
        path = os.path.join(self.work, role)
        os.mkdir(path)
        os.chown(path, UID, UID)
        return path

    def _start_tracker(self, host, info_hash):
        # Debian's opentracker is built for a whitelist of torrents (README.Debian): ours is the one.
        path = os.path.join(self.work, "tracker")
        os.mkdir(path)
        with open(os.path.join(path, "whitelist"), "w") as f:
            f.write(info_hash + "\n")
        # -i then -p: TCP on the lab address only; no -P, so no UDP tracker at all. It chroots to
        # -d and drops to -u once it has bound (as root it refuses to run).
        argv = [*self.niceness, "opentracker", "-i", host.address, "-p", str(TRACKER_PORT), "-d", path, "-u", USER,
                "-w", "whitelist"]
        with open(os.path.join(path, "log"), "w") as log:
            self.tracker = host.popen(argv, cwd=path, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT)

    def _start_peer(self, host, path, torrent, options, gated=False):
        """aria2c as nobody on `host`, in `path`. A gated one waits for a line on its stdin before
        it execs aria2c, so that leechers made one after the other start together."""
        argv = [*self.niceness, "setpriv", f"--reuid={USER}", f"--regid={GROUP}", "--clear-groups",
                "aria2c", *ARIA2C_OPTIONS, f"--stop-with-process={os.getpid()}",
                f"--stop={int(self.timeout + 2 * SEED_READY_S)}", f"--dir={path}", *options, torrent]
        if gated:
            argv = gate(argv)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": path, "LANG": "C"}
        with open(os.path.join(path, "log"), "w") as log:
            proc = host.popen(argv, cwd=path, env=env, stdin=subprocess.PIPE if gated else subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT)
        self.peers.append((host, proc, path))

    def _await_seed(self, seed_host, announce, info_hash):
        # Leechers start once the tracker lists the seed as complete: its hash check is done and
        # its announce was accepted.
        scrape = announce.replace("/announce", "/scrape") + "?info_hash=" + urllib.parse.quote(
            bytes.fromhex(info_hash), safe="")
        deadline = time.monotonic() + SEED_READY_S
        while time.monotonic() < deadline:
            self._check_alive()
            answer = seed_host.run(["curl", "-s", "--max-time", "2", scrape], check=False, text=False).stdout
            found = re.search(rb"8:completei(\d+)e", answer)
            if found and int(found.group(1)) >= 1:
                return
            time.sleep(0.2)
        raise BitTorrentSwarmError(f"the tracker did not list the seed within {SEED_READY_S:g}s: "
                                   f"{self._log_tail(self.peers[0])}")

    def _await_completion(self, dirs, name, start):
        stamps = [os.path.join(path, name + ".complete") for path in dirs]
        done = [None] * len(dirs)
        deadline = time.monotonic() + self.timeout
        while None in done:
            for i, stamp in enumerate(stamps):
                if done[i] is None and os.path.exists(stamp):
                    with open(stamp) as f:
                        done[i] = float(f.read()) - start
            if None not in done:
                break
            self._check_alive()
            if time.monotonic() > deadline:
                late = [os.path.basename(d) for d, t in zip(dirs, done) if t is None]
                raise BitTorrentSwarmError(f"{len(late)} leechers not complete after {self.timeout:g}s: "
                                           f"{', '.join(late)}")
            time.sleep(POLL_S)
        return done

    def _check_alive(self):
        if self.tracker.poll() is not None:
            raise BitTorrentSwarmError(f"opentracker exited ({self.tracker.returncode}): "
                                       f"{_tail(os.path.join(self.work, 'tracker', 'log'))}")
        for peer in self.peers:
            if peer[1].poll() is not None:
                raise BitTorrentSwarmError(f"aria2c in {os.path.basename(peer[2])} exited ({peer[1].returncode}) "
                                           f"before the swarm finished: {self._log_tail(peer)}")

    def _audit(self):
        """What the BitTorrent processes sent off the lab (must be nothing), read while they all
        still run: their sockets, and the nftables counters of every packet they sent."""
        audit = {"packets_sent": 0, "packets_off_lab": 0, "udp_sockets": [], "tcp_peers_off_lab": []}
        for host in self.audited:
            sent, off_lab = _audit_counters(host)
            audit["packets_sent"] += sent
            audit["packets_off_lab"] += off_lab
            for line in host.run(["ss", "-tuanpH"]).stdout.splitlines():
                fields = line.split()
                if fields[0] == "udp":
                    if '"aria2c"' in line or '"opentracker"' in line:  # a caller's own processes may have some
                        audit["udp_sockets"].append(f"{host.namespace}: {line}")
                elif not self._on_lab(fields[5]):
                    audit["tcp_peers_off_lab"].append(f"{host.namespace}: {line}")
        if audit["packets_off_lab"] or audit["udp_sockets"] or audit["tcp_peers_off_lab"]:
            raise BitTorrentSwarmError(f"traffic off the lab: {audit}")
        if not audit["packets_sent"]:
            raise BitTorrentSwarmError("the nftables audit counted no packet at all: it does not see the swarm")
        return audit

    def _on_lab(self, endpoint):
        address = endpoint.rsplit(":", 1)[0].strip("[]").split("%")[0]
        if address == "*":
            return True
        ip = ipaddress.ip_address(address)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return ip.is_unspecified or ip.is_loopback or str(ip) in self.lab_addresses

    def _log_tail(self, peer):
        return _tail(os.path.join(peer[2], "log"))

    def stop(self):
        """Stops every aria2c (SIGTERM, which says goodbye to the tracker; again, then SIGKILL if
        it lingers), then the tracker, then removes the audit tables. Safe to call twice."""
        procs = [proc for _, proc, _ in self.peers if proc.poll() is None]
        for proc in procs:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()  # a gated leecher never released: its gate fails, it exits
        for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(sig)
            deadline = time.monotonic() + STOP_GRACE_S
            while any(proc.poll() is None for proc in procs) and time.monotonic() < deadline:
                time.sleep(POLL_S)
        if self.probe is not None and self.probe.poll() is None:
            self.probe.kill()
            self.probe.communicate()
        if self.tracker is not None and self.tracker.poll() is None:
            self.tracker.kill()
            self.tracker.wait(timeout=STOP_GRACE_S)
        for host in self.audited:
            host.run(["nft", "delete", "table", "inet", "btaudit"], check=False)
        self.audited = []


def _make_torrent(data_path, announce, piece_kib, work):
    """A private single-file .torrent of data_path with `announce` as its only tracker; its path
    and info hash (hex)."""
    torrent = os.path.join(work, os.path.basename(data_path) + ".torrent")
    _tool(["mktorrent", "-a", announce, "-l", str((piece_kib * 1024).bit_length() - 1), "-p",
           "-n", os.path.basename(data_path), "-o", torrent, data_path])
    os.chmod(torrent, 0o644)
    shown = _tool(["aria2c", "--no-conf=true", "--show-files=true", torrent])
    info_hash = re.search(r"^Info Hash: ([0-9a-f]{40})$", shown, re.MULTILINE)
    if not info_hash:
        raise BitTorrentSwarmError(f"no info hash in aria2c --show-files {torrent}: {shown}")
    return torrent, info_hash.group(1)


def _start_audit(host, lab_addresses):
    """Counts, on `host`, the packets that processes of uid nobody send, and those among them for
    anywhere but the lab's hosts and loopback (IPv6 other than ::1 included)."""
    rules = f"""table inet btaudit {{
  counter sent {{ }}
  counter off_lab {{ }}
  chain output {{
    type filter hook output priority 0; policy accept;
    meta skuid {UID} counter name sent
    meta skuid {UID} ip daddr != {{ {", ".join(lab_addresses)}, {LOOPBACK} }} counter name off_lab
    meta skuid {UID} meta nfproto ipv6 ip6 daddr != ::1 counter name off_lab
  }}
}}
"""
    host.run(["nft", "-f", "-"], input=rules)


def _audit_counters(host):
    listing = host.run(["nft", "list", "counters", "table", "inet", "btaudit"]).stdout
    counts = dict(re.findall(r"counter (\w+) \{\s*packets (\d+)", listing))
    return int(counts["sent"]), int(counts["off_lab"])


def _tool(argv):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BitTorrentSwarmError(f"{argv[0]} failed: {e} (scripts/bootstrap --bench installs it)") from None
    if proc.returncode != 0:
        raise BitTorrentSwarmError(f"{' '.join(argv)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _cpu_times():
    """Jiffies of the whole machine from /proc/stat: all, idle (with iowait) and softirq."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return {"all": sum(fields), "idle": fields[3] + fields[4], "softirq": fields[6]}


def _machine_usage(before, after):
    """Shares of all CPUs busy, and busy in softirqs, between two _cpu_times()."""
    elapsed = max(1, after["all"] - before["all"])
    return 1 - (after["idle"] - before["idle"]) / elapsed, (after["softirq"] - before["softirq"]) / elapsed


def gate(argv):
    """argv behind a gate: a shell that execs it once a line comes on its stdin (a pipe)."""
    return ["sh", "-c", 'read -r go && exec "$@"', "sh", *argv]


def waits_on_pipe(pid):
    """True when process `pid` is a shell blocked reading a pipe (wchan pipe_read, anon_pipe_read)."""
    try:
        with open(f"/proc/{pid}/comm") as comm, open(f"/proc/{pid}/wchan") as wchan:
            return comm.read().strip() == "sh" and "pipe_read" in wchan.read()
    except OSError:
        return False


def _process_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(line.strip() for line in f.read().splitlines()[-lines:] if line.strip())
    except OSError as e:
        return f"(no log: {e.strerror})"


def p2p_bound_s(size_bytes, seed_bps, leecher_bps, min_download_bps=None):
    """The P2P file-distribution bound max(F/u_s, F/d_min, N·F/(u_s + Σu_i)), F in bits."""
    bits = size_bytes * 8
    terms = [bits / seed_bps, len(leecher_bps) * bits / (seed_bps + sum(leecher_bps))]
    if min_download_bps:
        terms.append(bits / min_download_bps)
    return max(terms)


def _print_run(run, result, bound):
    times = sorted(result.completion_s)
    last = times[-1]
    late_p50, late_p99, late_max = result.wakeup_late_ms
    audit = result.audit
    print(f"run {run}: last leecher {last:.2f} s = {last / bound:.2f}x the bound; first {times[0]:.2f} s, "
          f"median {times[len(times) // 2]:.2f} s; every file SHA-256-exact")
    print(f"  leechers released within {result.launch_spread_s * 1000:.0f} ms; machine busy {result.machine_busy:.0%} "
          f"of {os.cpu_count()} CPUs ({result.machine_softirq:.0%} in softirqs), load average "
          f"{result.loadavg[0]:.2f} at the start; BitTorrent processes {result.bittorrent_cpu_s:.1f} CPU s; "
          f"wake-ups late by {late_p50:.2f} ms p50, {late_p99:.2f} ms p99, {late_max:.0f} ms max")
    print(f"  off the lab: {audit['packets_off_lab']} of {audit['packets_sent']} packets, "
          f"{len(audit['udp_sockets'])} UDP sockets, {len(audit['tcp_peers_off_lab'])} TCP peers")
    if late_p99 > CPU_LIMITED_P99_MS:
        print(f"  CPU-limited: 1% of wake-ups came over {CPU_LIMITED_P99_MS:g} ms late: a figure of this machine's "
              f"load as much as of BitTorrent")
    sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description="BitTorrent's swarm (opentracker, aria2c) on a lab of hosts: "
                                     "the seconds each leecher takes, against the P2P bound.")
    parser.add_argument("--leechers", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=64, help="the file (random bytes)")
    parser.add_argument("--rate-mbit", type=float, default=50, help="every host's uplink")
    parser.add_argument("--loss-permille", type=int, default=5, help="IP packets each uplink drops")
    parser.add_argument("--piece-kib", type=int, default=PIECE_KIB)
    parser.add_argument("--repeat", type=int, default=1, help="runs on the same lab, one after the other")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a run may take")
    parser.add_argument("--nice", type=int, help="niceness of the tracker, every aria2c and the wake-up probe "
                        "(-20..19)")
    args = parser.parse_args(argv)
    if args.leechers < 1 or args.size_mib < 1 or args.repeat < 1:
        parser.error("--leechers, --size-mib and --repeat must be 1 or more")

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
    from lab import Lab, LabError, namespaces_unavailable
    unavailable = namespaces_unavailable()
    if unavailable:
        print(f"bittorrent_swarm: {unavailable}", file=sys.stderr)
        return 1

    size = args.size_mib << 20
    rate_bps = args.rate_mbit * 1e6
    bound = p2p_bound_s(size, rate_bps, [rate_bps] * args.leechers)
    print(f"{args.leechers} leechers, {args.size_mib} MiB, {args.piece_kib} KiB pieces, {args.rate_mbit:g} Mbit/s "
          f"uplinks, {args.loss_permille}‰ loss; bound {bound:.2f} s ({bound / PAYLOAD_SHARE:.2f} s at the "
          f"payload rate)", flush=True)
    lifetime = args.repeat * (args.timeout + 3 * SEED_READY_S) + 60
    try:
        with tempfile.TemporaryDirectory(prefix="bittorrent-data-") as tmp, \
                Lab(hosts=args.leechers + 2, rate_mbit=args.rate_mbit, loss_permille=args.loss_permille,
                    lifetime=lifetime) as lab:
            data = os.path.join(tmp, "file.bin")
            with open(data, "wb") as f:
                f.write(random.Random(14).randbytes(size))
            tracker, seed, *leechers = lab.hosts
            lasts = []
            for run in range(1, args.repeat + 1):
                result = bittorrent_swarm(lab, tracker, seed, leechers, data, args.timeout, args.piece_kib,
                                          args.nice)
                _print_run(run, result, bound)
                lasts.append(max(result.completion_s))
            if len(lasts) > 1:
                print(f"last leecher in {len(lasts)} runs: {min(lasts):.2f}-{max(lasts):.2f} s, "
                      f"{min(lasts) / bound:.2f}-{max(lasts) / bound:.2f}x the bound "
                      f"(spread {(max(lasts) - min(lasts)) / min(lasts):.0%})", flush=True)
    except (BitTorrentSwarmError, LabError) as e:
        print(f"bittorrent_swarm: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
