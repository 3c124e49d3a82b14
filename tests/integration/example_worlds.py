"""Worlds for examples (examples_support.py runs them): network, PID and mount namespaces of their
own (only lo, up; `pidof` sees only the world's processes; private /etc/hosts and
/etc/resolv.conf, so no name leaves the machine; other tests' named namespaces hidden), a fresh
working directory with fixtures/examples/ files, and `sockit` on PATH. Commands start there with
bash, their output (stdout and stderr together, as a terminal shows them) read all the time.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from harness import process_stats

# localhost is 127.0.0.1 only, as on the machines the docs' outputs came from (`sockit lookup
# localhost`); a world adds its own names.
HOSTS = "127.0.0.1\tlocalhost\n"
STOP_DEADLINE = 10.0      # seconds a process may take to exit after SIGINT, or its output to end after its exit
SETUP_DEADLINE = 20.0     # seconds a world may take to come up


class WorldError(AssertionError):
    """A world could not be made."""


FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "examples")


def namespaces_unavailable():
    """None when this process can make the worlds' namespaces; else why not (a skip reason)."""
    if os.geteuid() != 0:
        return "examples run in network, PID and mount namespaces of their own: needs root"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux, iproute2)"
    try:
        proc = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"], capture_output=True,
                              text=True, timeout=SETUP_DEADLINE)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare failed: {e}"
    if proc.returncode != 0:
        return f"unshare --net --pid --mount-proc failed: {proc.stderr.strip()}"
    return None


# PID 1 of a world: sets up lo, addresses and the private files, says "ready", then waits for its
# stdin to close. When it exits the kernel kills every process of the world; bash reaps orphans
# meanwhile. Arguments: hosts file, resolv.conf file, addresses...
_WORLD_INIT = r'''
set -e
ip link set lo up
hosts=$1 resolv=$2
shift 2
for address in "$@"; do ip addr add "$address" dev lo; done
mount --bind "$hosts" /etc/hosts
mount --bind "$resolv" /etc/resolv.conf
if [ -d /run/netns ]; then mount -t tmpfs world-netns /run/netns; fi  # other tests' namespaces stay out
echo ready
read -r _ || true
'''


class Process:
    """A command started in a world: its output (stdout and stderr together, as a terminal shows
    them) is read all the time on a thread."""

    def __init__(self, argv, env, where, command):
        self.where, self.command = where, command
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self._data = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            with self._lock:
                self._data += chunk

    def text(self, complete_lines=False):
        """What it printed so far; with `complete_lines`, without a last line still being written."""
        with self._lock:
            text = self._data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return text[:text.rfind("\n") + 1] if complete_lines else text

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """Waits for the exit and the last output (a background child that keeps the pipe open
        is given STOP_DEADLINE); returns the exit code, or None if still running after `timeout`."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(STOP_DEADLINE)
        return self.proc.returncode

    def _group(self):
        """Pids of the command's process group but nsenter itself (its first process): what a
        terminal's Ctrl-C reaches. nsenter would die of SIGINT without passing it on."""
        return [pid for pid, fields in process_stats() if int(fields[2]) == self.proc.pid and pid != self.proc.pid]

    def interrupt(self):
        """Ctrl-C: SIGINT to every process of the command (once nsenter has started it)."""
        deadline = time.monotonic() + STOP_DEADLINE
        while self.running() and time.monotonic() < deadline:
            pids = self._group()
            if pids:
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGINT)
                    except ProcessLookupError:
                        pass
                return
            time.sleep(0.01)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=STOP_DEADLINE)

    def close(self):
        """Kills it if still running; once the world is gone, closes its pipe."""
        if self.running():
            self.kill()
        self._reader.join(STOP_DEADLINE)
        self.proc.stdout.close()


class World:
    """Namespaces of their own (network with only lo, PID, mount) and a working directory, where
    an example's commands run (see the module docstring). A context manager: closing it ends
    every process left and removes the directory."""

    def __init__(self, sockit, files=(), hosts="", addresses=(), env=None):
        self.root = tempfile.mkdtemp(prefix="sockit-example-")
        self.dir = os.path.join(self.root, "work")
        os.mkdir(self.dir)
        bin_dir = os.path.join(self.root, "bin")
        os.mkdir(bin_dir)
        os.symlink(os.path.abspath(sockit), os.path.join(bin_dir, "sockit"))
        for name in files:
            source = os.path.join(FIXTURES, name)
            target = os.path.join(self.dir, name)
            (shutil.copytree if os.path.isdir(source) else shutil.copy)(source, target)
        with open(os.path.join(self.root, "hosts"), "w") as f:
            f.write(HOSTS + hosts)
        with open(os.path.join(self.root, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")  # inside the world: a name not in hosts fails at once
        # A callable value is called as each command starts (a time to come must still be ahead).
        self.env = {**os.environ, "PATH": bin_dir + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
                    "SOCKIT": os.path.abspath(sockit), **(env or {})}
        self.processes = []
        self._init = subprocess.Popen(
            ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "bash", "-c", _WORLD_INIT,
             "world-init", os.path.join(self.root, "hosts"), os.path.join(self.root, "resolv.conf"), *addresses],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.pid1 = self._wait_ready()
        except BaseException:
            self.close()
            raise

    def _wait_ready(self):
        ready = []
        reader = threading.Thread(target=lambda: ready.append(self._init.stdout.readline()), daemon=True)
        reader.start()
        reader.join(SETUP_DEADLINE)
        if not ready or ready[0].strip() != "ready":
            self._init.kill()
            raise WorldError(f"the world's namespaces did not come up within {SETUP_DEADLINE}s: "
                               f"{self._init.stderr.read().strip()}")
        with open(f"/proc/{self._init.pid}/task/{self._init.pid}/children") as f:
            return int(f.read().split()[0])

    def bound(self, socket):
        """True when something in the world listens on `socket`, "tcp:PORT" (listening) or
        "udp:PORT" (bound), on any address."""
        protocol, port = socket.split(":")
        for table in (protocol, protocol + "6"):
            with open(f"/proc/{self.pid1}/net/{table}") as f:
                for row in f.read().splitlines()[1:]:
                    fields = row.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == int(port) and (protocol == "udp" or fields[3] == "0A"):
                        return True
        return False

    def start(self, command, where):
        """Starts `command` with bash in the world's namespaces and directory."""
        argv = ["nsenter", f"--target={self.pid1}", "--net", "--mount", "--pid", f"--wd={self.dir}", "--",
                "bash", "-c", command]
        env = {name: value() if callable(value) else value for name, value in self.env.items()}
        process = Process(argv, env, where, command)
        self.processes.append(process)
        return process

    def close(self):
        for process in self.processes:
            if process.running():
                process.kill()
        if self._init.poll() is None:
            self._init.stdin.close()
            try:
                self._init.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self._init.kill()
                self._init.wait(timeout=STOP_DEADLINE)
        for process in self.processes:  # the world's end closed their pipes' last writers
            process.close()
        for stream in (self._init.stdin, self._init.stdout, self._init.stderr):
            stream.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
