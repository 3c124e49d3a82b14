"""A lab of hosts on one machine: network namespaces joined by a bridge, each with a limited uplink.

    with Lab(hosts=3, rate_mbit=50, loss_permille=5) as lab:
        server = lab.host(1).popen([...])          # runs inside host 1's namespace
        lab.host(2).run(["ip", "addr"])

What it creates (see docs/lab.md): namespaces LABID-sw (the switch: bridge br0) and LABID-h1 ...
LABID-hN, where LABID is "sklab-<creator pid>-<random hex>". Host i has one interface, eth0, with
10.77.x.y/16 (host 1 is 10.77.0.1), whose veth peer hI is a port of br0. No route leads anywhere
else, no address is added outside these namespaces, and nothing is done to the machine's own
interfaces, routes or firewall.

Teardown (close(), also on exceptions, at exit and on SIGTERM) kills every process in the lab's
namespaces and deletes them. A watchdog process deletes them too once the lab outlives its
lifetime or its creator dies without closing it (SIGKILL). `python3 -m lab cleanup` removes labs
whose creator is gone.
"""

import argparse
import atexit
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time

from harness import SOCKIT, Server
from lab_namespaces import (PREFIX, LabError, cleanup, command, namespaces, namespaces_unavailable,  # noqa: F401
                            netem_available, new_lab_id, watchdog_argv)

NETWORK = ipaddress.IPv4Network("10.77.0.0/16")
MAX_HOSTS = 1000
DEFAULT_LIFETIME = 600.0
SWITCH = "sw"
BRIDGE = "br0"
HOST_INTERFACE = "eth0"


def _refuse_delay_without_netem(ms, where):
    if not netem_available():
        raise LabError(f"delay of {ms} ms asked for {where}, but this kernel has no sch_netem "
                       f"(tc says 'Specified qdisc kind is unknown'): the lab cannot delay packets here")


def _address(index):
    return NETWORK.network_address + index


class Host:
    """One host of a lab: a namespace with eth0 on the lab's bridge. Made by Lab."""

    def __init__(self, lab, index):
        self.lab = lab
        self.index = index
        self.namespace = f"{lab.id}-h{index}"
        self.address = str(_address(index))
        self.port = f"h{index}"  # its veth end in the switch: the cable's other end
        self.rate_mbit = None
        self.delay_ms = None
        self.jitter_ms = None

    def command(self, argv):
        """argv prefixed to run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    @staticmethod
    def sockit(*args):
        """The argv of `sockit ARGS...` (the binary of env SOCKIT), for popen() and run(), or for
        command() to wrap."""
        return [os.path.abspath(SOCKIT), *args]

    def sockit_server(self, *args, **options):
        """A harness.Server of `sockit ARGS...` inside this host: started, its ready line awaited
        (`options` go to Server: ready, timeout, env). Stop it with close() or `with`; the lab kills
        it at teardown otherwise."""
        server = Server(*args, command=self.command(self.sockit(*args)), **options)
        self.lab.processes.append(server.proc)
        return server

    def popen(self, argv, **options):
        """subprocess.Popen of argv inside this host; options go to Popen as they are. The lab
        kills the process at teardown if it still runs."""
        proc = subprocess.Popen(self.command(argv), **options)
        self.lab.processes.append(proc)
        return proc

    def run(self, argv, timeout=30, check=True, **options):
        """Runs argv inside this host to completion (text, output captured unless `options` say
        otherwise); returns the CompletedProcess. Raises LabError when it fails and `check`."""
        options = {"capture_output": True, "text": True, **options}
        try:
            proc = subprocess.run(self.command(argv), timeout=timeout, **options)
        except subprocess.TimeoutExpired:
            raise LabError(f"{' '.join(argv)} on {self.namespace} did not finish within {timeout}s") from None
        if check and proc.returncode != 0:
            raise LabError(f"{' '.join(argv)} on {self.namespace} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or '').strip()}")
        return proc

    def set_link(self, up):
        """Plugs (up) or pulls (down) this host's cable: its port on the switch goes up or down.
        The host keeps its address and routes; what it sends meanwhile is lost."""
        command("ip", "-n", self.lab.switch, "link", "set", self.port, "up" if up else "down")

    def set_rate(self, mbit):
        """Limits this host's uplink (what leaves its eth0) to `mbit` Mbit/s; None lifts it."""
        self.rate_mbit = mbit
        self._apply_qdiscs()

    def set_delay(self, ms, jitter_ms=None):
        """Delays what leaves this host by `ms` (± `jitter_ms`) with netem; None removes the delay.
        Raises LabError when the kernel has no sch_netem: delay is never silently left out."""
        if ms is not None:
            _refuse_delay_without_netem(ms, self.namespace)
        self.delay_ms, self.jitter_ms = ms, jitter_ms
        self._apply_qdiscs()

    def _apply_qdiscs(self):
        # One root qdisc on eth0: tbf for the rate, netem (a child of tbf when both) for the delay.
        tc = ["tc", "-n", self.namespace, "qdisc"]
        subprocess.run([*tc, "del", "dev", HOST_INTERFACE, "root"], capture_output=True, timeout=10)  # none is fine
        parent = ["root"]
        if self.rate_mbit is not None:
            bytes_per_second = self.rate_mbit * 1e6 / 8
            burst = max(64 * 1024, int(bytes_per_second / 100))  # a GSO packet, or 10 ms at the rate
            command(*tc, "add", "dev", HOST_INTERFACE, "root", "handle", "1:", "tbf", "rate", f"{self.rate_mbit}mbit",
                    "burst", str(burst), "latency", "100ms")
            parent = ["parent", "1:1"]
        if self.delay_ms is not None:
            delay = ["delay", f"{self.delay_ms}ms"] + ([f"{self.jitter_ms}ms"] if self.jitter_ms else [])
            command(*tc, "add", "dev", HOST_INTERFACE, *parent, "handle", "10:", "netem", *delay, "limit", "100000")

    def set_loss(self, permille):
        """Drops `permille` of every 1000 IP packets leaving this host's eth0 at random (nftables
        netdev egress hook, so a sender sees loss, not an error); 0 or None removes the rule."""
        if permille and not 0 < permille <= 1000:
            raise LabError(f"loss of {permille} per mille for {self.namespace}: must be 1..1000")
        nft = ["ip", "netns", "exec", self.namespace, "nft"]
        subprocess.run([*nft, "delete", "table", "netdev", "lab"], capture_output=True, timeout=10)  # none is fine
        if permille:
            command(*nft, "add", "table", "netdev", "lab")
            command(*nft, "add", "chain", "netdev", "lab", "uplink",
                    f"{{ type filter hook egress device {HOST_INTERFACE} priority 0; policy accept; }}")
            # IP only: a lost ARP request would silence the host for a second and drop whatever
            # queued behind it, far more loss than asked for.
            command(*nft, "add", "rule", "netdev", "lab", "uplink", "meta", "protocol", "{", "ip", ",", "ip6", "}",
                    "numgen", "random", "mod", "1000", "<", str(permille), "drop")


class Lab:
    """N hosts (1-based: host(1) is 10.77.0.1) on one switch. Use as a context manager, or call
    start() and close(). Every host gets `rate_mbit`, `loss_permille` and `delay_ms` at start;
    each Host can change its own later."""

    def __init__(self, hosts=3, rate_mbit=None, loss_permille=0, delay_ms=None, jitter_ms=None,
                 lifetime=DEFAULT_LIFETIME):
        if not 1 <= hosts <= MAX_HOSTS:
            raise LabError(f"a lab of {hosts} hosts: must be 1..{MAX_HOSTS}")
        self.id = new_lab_id()
        self.switch = f"{self.id}-{SWITCH}"
        self.hosts = [Host(self, i) for i in range(1, hosts + 1)]
        self.rate_mbit, self.loss_permille = rate_mbit, loss_permille  # each host's at start
        self.delay_ms, self.jitter_ms = delay_ms, jitter_ms
        self.lifetime = lifetime
        self.processes = []
        self.watchdog = None
        self.closed = False
        self._previous_sigterm = None

    def host(self, index):
        """Host `index` (1-based)."""
        return self.hosts[index - 1]

    def start(self):
        """Creates the namespaces, the bridge and the links; raises LabError (after tearing down
        what was made) when a step fails."""
        if self.delay_ms is not None:
            _refuse_delay_without_netem(self.delay_ms, self.id)
        atexit.register(self.close)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and _main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_signal)
        self._start_watchdog()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self):
        command("ip", "netns", "add", self.switch)
        command("ip", "-n", self.switch, "link", "add", "name", BRIDGE, "type", "bridge")
        command("ip", "-n", self.switch, "link", "set", BRIDGE, "up")
        for host in self.hosts:
            command("ip", "netns", "add", host.namespace)
            # Both ends are made inside lab namespaces: nothing ever appears in the root namespace.
            command("ip", "-n", self.switch, "link", "add", "name", host.port, "type", "veth",
                    "peer", "name", HOST_INTERFACE, "netns", host.namespace)
            command("ip", "-n", self.switch, "link", "set", host.port, "master", BRIDGE, "up")
            command("ip", "-n", host.namespace, "addr", "add", f"{host.address}/{NETWORK.prefixlen}",
                    "dev", HOST_INTERFACE)
            command("ip", "-n", host.namespace, "link", "set", "lo", "up")
            command("ip", "-n", host.namespace, "link", "set", HOST_INTERFACE, "up")
            if self.rate_mbit is not None:
                host.set_rate(self.rate_mbit)
            if self.delay_ms is not None:
                host.set_delay(self.delay_ms, self.jitter_ms)
            if self.loss_permille:
                host.set_loss(self.loss_permille)

    def _start_watchdog(self):
        # A process of its own (own session: a Ctrl-C to the terminal spares it), so that the lab
        # goes away even when its creator is SIGKILLed.
        self.watchdog = subprocess.Popen(watchdog_argv(self.id, self.lifetime), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, start_new_session=True)

    def close(self):
        """Kills the processes started in the hosts and deletes every namespace of the lab.
        Safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        try:
            cleanup(self.id)
        finally:
            if self.watchdog is not None and self.watchdog.poll() is None:
                self.watchdog.kill()
                self.watchdog.wait(timeout=5)
            if self._previous_sigterm is not None and _main_thread():
                signal.signal(signal.SIGTERM, self._previous_sigterm)
            atexit.unregister(self.close)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def _main_thread():
    return threading.current_thread() is threading.main_thread()


def _exit_on_signal(signum, frame):
    sys.exit(128 + signum)  # SystemExit unwinds through every `with Lab()` and runs atexit


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m lab", description="A lab of hosts in network namespaces.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    up = verbs.add_parser("up", help="create a lab, print its hosts, keep it until Ctrl-C, SIGTERM or --lifetime")
    up.add_argument("--hosts", type=int, default=3)
    up.add_argument("--rate", type=float, help="uplink Mbit/s of every host")
    up.add_argument("--loss", type=int, default=0, help="per mille of IP packets each host's uplink drops")
    up.add_argument("--delay", type=float, help="ms of delay on each uplink (needs sch_netem: an error without)")
    up.add_argument("--jitter", type=float)
    up.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME, help="seconds before it tears itself down")
    clean = verbs.add_parser("cleanup", help="remove the namespaces of labs whose creator is gone")
    clean.add_argument("--all", action="store_true", help="every sklab-* namespace, running labs' too")
    verbs.add_parser("netem", help="say whether this kernel has sch_netem")
    args = parser.parse_args(argv)

    try:
        if args.verb == "cleanup":
            for name in cleanup(everything=args.all):
                print(f"removed {name}")
        elif args.verb == "netem":
            print("sch_netem: " + ("present (delay and jitter work)" if netem_available() else
                                   "absent (this kernel cannot delay packets; asking for delay is an error)"))
        else:
            signal.signal(signal.SIGINT, _exit_on_signal)
            with Lab(args.hosts, args.rate, args.loss, args.delay, args.jitter, args.lifetime) as lab:
                for host in lab.hosts:
                    print(f"{host.namespace} {host.address}  (ip netns exec {host.namespace} COMMAND)")
                print(f"lab {lab.id} ready; Ctrl-C tears it down (or in {args.lifetime:g}s)", flush=True)
                deadline = time.monotonic() + args.lifetime
                while time.monotonic() < deadline:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

