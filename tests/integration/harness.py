"""Shared helpers for integration tests: run the real sockit binary, with deadlines everywhere."""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

SOCKIT = os.environ.get("SOCKIT") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "asan", "src", "cli", "sockit")


def run(*args, timeout=30, input=None, check=True):
    """Runs `sockit ARGS...` to completion; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([SOCKIT, *args], input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"sockit {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


class LineFollower:
    """Reads a text stream on a thread, keeping every line; wait_for() waits with a deadline.

    select() on a buffered text pipe misses lines Python has already read ahead, so nothing here
    uses it.
    """

    def __init__(self, stream):
        self.lines = []
        self.cursor = 0  # for wait_for(..., consume=True): lines before it were matched already
        self._finished = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream):
        try:
            for line in stream:
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        except ValueError:  # the stream was closed under us
            pass
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def wait_for(self, pattern, timeout=10, consume=False, what="output"):
        """Waits until a line matches `pattern`; returns the match. Without `consume` every line
        so far counts; with it, only lines after the last consumed match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = self.cursor if consume else 0
            while True:
                for index in range(seen, len(self.lines)):
                    m = regex.search(self.lines[index])
                    if m:
                        if consume:
                            self.cursor = index + 1
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self._finished:
                    break
                self._changed.wait(left)
            raise AssertionError(f"no {what} line matching {pattern!r} within {timeout}s; got:\n"
                                 f"{''.join(self.lines)}")

    def join(self, timeout):
        self._thread.join(timeout)

    def text(self):
        with self._changed:
            return "".join(self.lines)


class Server:
    """A background `sockit ...` process; waits for a line matching `ready` on its output.

    A thread reads the output all the time, so a chatty server never blocks on a full pipe and
    wait_for() sees every line. Use as a context manager: it is stopped with SIGTERM (then
    SIGKILL) on exit.
    """

    def __init__(self, *args, ready=r"listening on (\S+)", timeout=20, env=None, preexec_fn=None, command=None,
                 wrapper=()):
        """Runs `sockit ARGS...` (or `command`, a whole argv, e.g. sockit inside `unshare -n`; or
        `sockit ARGS...` under `wrapper`, an argv prefix such as strace's) and, unless `ready` is
        None, waits for it."""
        self.args = args
        self.proc = subprocess.Popen(command or [*wrapper, SOCKIT, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1, env=env, preexec_fn=preexec_fn)
        self._output = LineFollower(self.proc.stdout)
        self.lines = self._output.lines
        try:
            self.match = self.wait_for(ready, timeout) if ready is not None else None
        except BaseException:
            self.close()
            raise

    def wait_for(self, pattern, timeout=10):
        """Waits until an output line matches `pattern` (earlier lines count); returns the match."""
        try:
            return self._output.wait_for(pattern, timeout)
        except AssertionError as e:
            raise AssertionError(f"sockit {' '.join(self.args)}: {e}") from None

    @property
    def pid(self):
        return self.proc.pid

    def address(self, group=1):
        """(host, port) from the ready line's address, e.g. '127.0.0.1:41234'."""
        text = self.match.group(group)
        host, _, port = text.rpartition(":")
        return host.strip("[]"), int(port)

    def wait_exit(self, timeout):
        """Waits for the process to end by itself (a peer started with --no-seed, say) and for its
        last line; returns its exit code. Kills it and fails if it is still running after `timeout`."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"sockit {' '.join(self.args)} did not finish within {timeout}s:\n{self.output()}")
        self._output.join(10)
        return self.proc.returncode

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the server and waits; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._output.join(timeout)
        return self.proc.returncode

    def close(self):
        """Stops the server (if running) and closes its pipe; returns the exit code."""
        code = self.stop()
        self.proc.stdout.close()
        return code

    def output(self):
        return self._output.text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


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


# ---- sockit serve helpers (models, services, listeners) ----

import resource

_cache = {}


def list_models():
    """TCP models this build and kernel can run (`sockit serve --list-models`)."""
    if "models" not in _cache:
        _cache["models"] = run("serve", "--list-models").stdout.split()
    return _cache["models"]


def built_services():
    """{service: {"tcp", "udp"}} for what this build has (`sockit serve --list-services`)."""
    if "services" not in _cache:
        table = {}
        for line in run("serve", "--list-services").stdout.splitlines():
            fields = line.split()
            table[fields[0]] = {f for f in fields[3:] if f in ("tcp", "udp")}
        _cache["services"] = table
    return _cache["services"]


def service_built(name, transport):
    return transport in built_services().get(name, set())


# Every Server drains its output now; the old name stays for the tests that use it.
DrainedServer = Server


def listeners(server, expected, timeout=20):
    """Waits for a startup line per (service, transport) in `expected`; returns {(service, transport): (host, port)}."""
    found = {}
    for service, transport in expected:
        m = server.wait_for(rf"listening on (\S+) \({service}/{transport}\b", timeout)
        host, _, port = m.group(1).rpartition(":")
        found[(service, transport)] = (host.strip("[]"), int(port))
    return found


def serve(services, *args, transports=("tcp",), listen="127.0.0.1", **kwargs):
    """Starts `sockit serve` with each built service of `services` on port 0 for `transports`.

    Returns (server, {(service, transport): (host, port)}); unbuilt services are left out.
    """
    wanted = [(s, t) for s in services for t in transports if service_built(s, t)]
    names = sorted({s for s, _ in wanted}, key=services.index)
    flags = ["--tcp"] if transports == ("tcp",) else ["--udp"] if transports == ("udp",) else []
    server = DrainedServer("serve", *[f"{n}:0" for n in names], "--listen", listen, *flags, *args, **kwargs)
    return server, listeners(server, wanted)


def limit_descriptors(n):
    """A preexec_fn that runs the child with `ulimit -n n`."""
    def apply():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return apply


def wait_until(predicate, timeout=5, interval=0.02):
    """Polls `predicate` until it is true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def process_stats():
    """(pid, fields) of every process in /proc: the fields of /proc/PID/stat after the command
    name (state, ppid, pgrp, ...); a process gone meanwhile is left out."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        yield int(entry), stat[stat.rfind(")") + 2:].split()


def children(pid):
    """[(pid, state)] of the processes whose parent is `pid` (from /proc)."""
    return [(child, fields[0]) for child, fields in process_stats() if int(fields[1]) == pid]


def add_service_check(cls, service, check, drop_prefix=""):
    """Adds test_SERVICE_NAME to a test class whose address(service) gives (host, port): it calls
    check(test, host, port). NAME is the check's name without `drop_prefix` and "SERVICE_"."""
    def test(self):
        host, port = self.address(service)
        check(self, host, port)
    test.__doc__ = check.__doc__
    name = check.__name__.removeprefix(drop_prefix).removeprefix(service + "_")
    setattr(cls, f"test_{service}_{name}", test)


def add_concurrency_check(cls, service, exchange, count, timeout):
    """Adds a test in which `count` clients at once each run exchange(service, host, port, i)."""
    def test(self):
        host, port = self.address(service)
        results = in_parallel(count, lambda i: exchange(service, host, port, i), timeout=timeout)
        self.assertEqual(results, [True] * count)
    setattr(cls, f"test_{service}_serves_{count}_concurrent_clients", test)


def sha256_file(path):
    """The SHA-256 of a file, in hex, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


def in_parallel(count, work, timeout=60):
    """Runs work(i) for i in range(count) on `count` threads at once; returns the results, raises the first error."""
    results = [None] * count
    errors = []
    start = threading.Barrier(count)

    def body(i):
        try:
            start.wait(timeout)
            results[i] = work(i)
        except BaseException as e:  # noqa: B902 - reported to the caller
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise AssertionError(f"{count} parallel clients did not finish within {timeout}s")
    if errors:
        raise errors[0]
    return results


def udp_ask(host, port, payload, timeout=2.0):
    """One datagram out, one back (the notes' back-off: 0.1 s doubling); returns the reply or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        delay = 0.1
        while delay <= timeout:
            s.send(payload)
            s.settimeout(delay)
            try:
                return s.recv(65536)
            except (socket.timeout, ConnectionRefusedError):
                delay *= 2
        return None


def udp_silence(host, port, payload, wait=0.3):
    """True if a datagram to host:port gets no reply within `wait` seconds."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        s.send(payload)
        s.settimeout(wait)
        try:
            s.recv(65536)
            return False
        except socket.timeout:
            return True


def read_line(sock, limit=1 << 20):
    """Bytes up to and including the next b'\\n' (reads one byte at a time: test clients only)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            raise AssertionError("line too long")
    return data
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


# A DNS server on 127.0.0.1:53 that knows no name: every query gets NXDOMAIN (same id, the
# question back, no records). Started by run_without_names() before the test's code.
_NXDOMAIN_SERVER = r'''
import socket as _socket, threading as _threading
_dns = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
_dns.bind(("127.0.0.1", 53))  # before the test's code runs: its first query finds the server
def _nxdomain(s=_dns):
    while True:
        query, peer = s.recvfrom(4096)
        end = 12
        while end < len(query) and query[end] != 0:
            end += query[end] + 1
        question = query[12:end + 5]
        s.sendto(query[:2] + b"\x81\x83" + b"\x00\x01" + b"\x00" * 6 + question, peer)
_threading.Thread(target=_nxdomain, daemon=True).start()
'''


def run_without_names(python_code, timeout=120):
    """Like run_in_netns, but in a mount namespace too, where /etc/resolv.conf names a DNS server
    inside the namespace that answers NXDOMAIN to everything: tests of names that must not exist
    get "not found" (not "no DNS server"), and no query leaves the machine."""
    script = ('set -e; ip link set lo up; conf=$(mktemp); echo "nameserver 127.0.0.1" > "$conf"; '
              'mount --bind "$conf" /etc/resolv.conf; rm -f "$conf"; exec python3 -c "$0"')
    proc = subprocess.run(["unshare", "-n", "-m", "sh", "-c", script, _NXDOMAIN_SERVER + python_code],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "SOCKIT": os.path.abspath(SOCKIT)})
    if proc.returncode != 0:
        raise AssertionError(f"namespace script exited {proc.returncode}:\n{proc.stderr}")
    return proc


def sockit_without_names(*args, timeout=60):
    """(exit code, stdout, stderr) of `sockit ARGS` run by run_without_names()."""
    code = ("import json, os, subprocess\n"
            f"p = subprocess.run([os.environ['SOCKIT'], *{list(args)!r}], capture_output=True, text=True, timeout=30)\n"
            "print(json.dumps([p.returncode, p.stdout, p.stderr]))\n")
    return tuple(json.loads(run_without_names(code, timeout).stdout))


def wait_for_stderr_line(proc, pattern, timeout=10):
    """Waits for a line of `proc.stderr` (a text pipe) matching `pattern`, after the lines earlier
    calls matched; returns the match."""
    follower = getattr(proc, "_sockit_stderr", None)
    if follower is None:
        follower = proc._sockit_stderr = LineFollower(proc.stderr)
    return follower.wait_for(pattern, timeout, consume=True, what="stderr")


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port that was free a moment ago (for peers such as socat that cannot report
    the port they got for port 0)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- a server's footprint: memory and CPU of it and of the processes it forked ----

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field 3, the state, is [0])."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return stat[stat.rfind(")") + 2:].split()


def _kib_fields(path, names):
    """Sum of the `Name:  N kB` lines of `path` (/proc/PID/status, smaps_rollup) named in `names`."""
    total = 0
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in names:
                total += int(rest.split()[0])
    return total


class ProcessTree:
    """Memory and CPU of a server process and of the children it forked (the fork model's
    connections). A process that has ended counts as nothing; a child that ends between two
    readings is missed for one reading at most.
    """

    def __init__(self, pid):
        self.pid = pid

    def memory_kib(self):
        """The server's VmRSS plus what each child holds privately (smaps_rollup Private_*): a
        forked child shares its parent's pages copy-on-write, so its VmRSS would count the whole
        parent again per child."""
        try:
            total = _kib_fields(f"/proc/{self.pid}/status", {"VmRSS"})
        except OSError:
            return 0
        for child, _ in children(self.pid):
            try:
                total += _kib_fields(f"/proc/{child}/smaps_rollup", {"Private_Clean", "Private_Dirty"})
            except OSError:
                pass
        return total

    def cpu_seconds(self):
        """utime+stime of the server (all its threads) and its live children, plus cutime+cstime:
        the time of children it has already reaped."""
        try:
            fields = _stat_fields(self.pid)
        except OSError:
            return 0.0
        ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        for child, _ in children(self.pid):
            try:
                ticks += sum(int(v) for v in _stat_fields(child)[11:13])
            except OSError:
                pass
        return ticks / _CLOCK_TICKS


def sanitized():
    """True when SOCKIT is built with AddressSanitizer: its shadow memory, redzones and
    quarantine inflate memory, and its checks make CPU-bound work (fib) 50-100x slower."""
    if "sanitized" not in _cache:
        found, tail = False, b""
        with open(SOCKIT, "rb") as f:
            for piece in iter(lambda: f.read(1 << 20), b""):
                if b"__asan_init" in tail + piece:
                    found = True
                    break
                tail = piece[-16:]
        _cache["sanitized"] = found
    return _cache["sanitized"]
