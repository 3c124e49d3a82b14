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
