"""The namespaces of labs on this machine: running ip/tc/nft, probing the kernel (netem),
removing labs (by id, or those whose creator died), and the watchdog process that removes a lab
when it outlives its lifetime or its creator:

    python3 lab_namespaces.py watch LABID CREATOR_PID LIFETIME_SECONDS

Lab names are PREFIX + "<creator pid>-<random hex>"; lab.py builds the labs themselves.
"""

import os
import secrets
import signal
import subprocess
import sys
import time

PREFIX = "sklab-"


class LabError(RuntimeError):
    """A lab command failed, or the lab was asked for something this machine cannot do."""


def command(*argv, timeout=10):
    """Runs argv (no shell) to completion; returns its stdout. Raises LabError naming the command,
    its exit code and its stderr when it fails or outlives `timeout` seconds."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(argv)} did not finish within {timeout}s") from None
    except OSError as e:
        raise LabError(f"{' '.join(argv)} could not start: {e.strerror}") from None
    if proc.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def namespaces():
    """Names of every network namespace `ip netns` knows."""
    return [line.split()[0] for line in command("ip", "netns", "list").splitlines() if line.strip()]


def remove_namespace(name):
    """Kills every process in namespace `name` (SIGKILL), then deletes it; gone already is fine."""
    try:
        pids = command("ip", "netns", "pids", name).split()
    except LabError:
        return
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        command("ip", "netns", "del", name)
    except LabError:
        if name in namespaces():
            raise


def new_lab_id():
    """A fresh lab id: PREFIX, this process's pid (cleanup() tells dead labs by it), random hex."""
    return f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"


def _running(pid):
    """True when process `pid` exists and is not a zombie (killed, not yet reaped: it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def _creator_alive(name):
    """True when the process whose pid a lab namespace name carries (sklab-PID-...) still runs."""
    pid = name[len(PREFIX):].split("-", 1)[0]
    return pid.isdigit() and _running(pid)


def cleanup(lab_id=None, everything=False):
    """Removes lab namespaces: those of `lab_id` only; or, without it, those whose creator process
    has died (a crashed run), or all sklab-* with `everything`. Returns the names removed."""
    removed = []
    for name in namespaces():
        if lab_id is not None:
            chosen = name.startswith(lab_id + "-")
        else:
            chosen = name.startswith(PREFIX) and (everything or not _creator_alive(name))
        if chosen:
            remove_namespace(name)
            removed.append(name)
    return removed


_netem = {}


def netem_available():
    """True when the kernel has sch_netem. Tried once per process on a veth pair in a throwaway
    namespace of its own."""
    if "answer" not in _netem:
        probe = f"{new_lab_id()}-probe"
        command("ip", "netns", "add", probe)
        try:
            command("ip", "-n", probe, "link", "add", "name", "probe0", "type", "veth", "peer", "name", "probe1")
            command("ip", "-n", probe, "link", "set", "probe0", "up")
            try:
                command("tc", "-n", probe, "qdisc", "add", "dev", "probe0", "root", "netem", "delay", "1ms")
                _netem["answer"] = True
            except LabError as e:
                if "unknown" not in str(e).lower():
                    raise
                _netem["answer"] = False
        finally:
            remove_namespace(probe)
    return _netem["answer"]


def namespaces_unavailable():
    """None when this process can make lab namespaces; else why not (for a test's skip)."""
    if os.geteuid() != 0:
        return "the lab needs root (ip netns add)"
    trial = f"{new_lab_id()}-trial"
    try:
        command("tc", "-V")
        command("ip", "netns", "add", trial)
    except LabError as e:
        return str(e)
    remove_namespace(trial)
    return None


def watchdog_argv(lab_id, lifetime):
    """The argv of a watchdog for lab `lab_id` created by this process."""
    return [sys.executable, os.path.abspath(__file__), "watch", lab_id, str(os.getpid()), str(lifetime)]


def watch(lab_id, creator, lifetime):
    """Waits (polling twice a second) until the creator dies or `lifetime` seconds pass, then
    removes the lab's namespaces."""
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline and _running(creator):
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    cleanup(lab_id)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "watch":
        sys.exit("usage: lab_namespaces.py watch LABID CREATOR_PID LIFETIME_SECONDS")
    watch(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
