"""Shared helpers for integration tests: run the real sockit binary, with deadlines everywhere."""

import os
import re
import select
import signal
import socket
import subprocess
import time

SOCKIT = os.environ.get("SOCKIT") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "asan", "src", "cli", "sockit")


def run(*args, timeout=30, input=None, check=True):
    """Runs `sockit ARGS...` to completion; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([SOCKIT, *args], input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"sockit {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


class Server:
    """A background `sockit ...` process; waits for a line matching `ready` on its output.

    Use as a context manager: it is stopped with SIGTERM (then SIGKILL) on exit.
    """

    def __init__(self, *args, ready=r"listening on (\S+)", timeout=20, env=None, preexec_fn=None):
        self.args = args
        self.proc = subprocess.Popen([SOCKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, env=env, preexec_fn=preexec_fn)
        self.lines = []
        self.match = self.wait_for(ready, timeout)

    def wait_for(self, pattern, timeout=10):
        """Reads output lines until one matches `pattern`; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for line in self.lines:
            m = regex.search(line)
            if m:
                return m
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = regex.search(line)
            if m:
                return m
        raise AssertionError(f"no output matching {pattern!r} within {timeout}s from sockit "
                             f"{' '.join(self.args)}; got:\n{''.join(self.lines)}")

    @property
    def pid(self):
        return self.proc.pid

    def address(self, group=1):
        """(host, port) from the ready line's address, e.g. '127.0.0.1:41234'."""
        text = self.match.group(group)
        host, _, port = text.rpartition(":")
        return host.strip("[]"), int(port)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the server and waits; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        rest = self.proc.stdout.read()
        if rest:
            self.lines.append(rest)
        return self.proc.returncode

    def output(self):
        return "".join(self.lines)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.proc.stdout.close()


def connect(host, port, timeout=5):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {n} bytes")
        data += chunk
    return data


def recv_until_eof(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def netns_available():
    """True when this process may create a network namespace (unshare -n; needs root)."""
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_in_netns(python_code, timeout=120):
    """Runs `python3 -c python_code` in a new network namespace with only lo (up); tests that
    scan or list every port use this so they see only their own sockets. The code finds the
    binary in env SOCKIT. Returns the CompletedProcess (text); raises if it fails."""
    proc = subprocess.run(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec python3 -c "$0"', python_code],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "SOCKIT": os.path.abspath(SOCKIT)})
    if proc.returncode != 0:
        raise AssertionError(f"namespace script exited {proc.returncode}:\n{proc.stderr}")
    return proc


def wait_for_stderr_line(proc, pattern, timeout=10):
    """Reads `proc.stderr` (a text pipe) until a line matches `pattern`; returns the match."""
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        m = regex.search(line)
        if m:
            return m
    raise AssertionError(f"no stderr line matching {pattern!r} within {timeout}s; got:\n{''.join(seen)}")


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port that was free a moment ago (for peers such as socat that cannot report
    the port they got for port 0)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
