"""SIGHUP reloads the config file (issue 15, item 2): new services start, removed ones stop
accepting while their connections finish, changed settings apply to new connections, a file with
a mistake is refused in one log line, no established connection is dropped and no client is
refused while a listener that stays is handed over; a storm of reloads leaks no descriptor or
thread. The admin endpoint (--admin) follows a reload: /metrics and /status.json show the services
that run now, with their limits, and read the server safely while a reload changes it. For an
event model and a blocking one (and the rest where it is quick)."""

import http.client
import os
import re
import signal
import socket
import tempfile
import threading
import time
import unittest

from admin_support import ADMIN_READY, get, metrics, status_json, value
from harness import Server, list_models, open_fds, read_line, recv_exactly, service_built, wait_until

MODELS = list_models()
# An event model and blocking ones: what a reload must not break in either kind.
RELOAD_MODELS = [m for m in ("epoll", "thread", "fork", "pool", "poll", "uring") if m in MODELS]


def needs(*services):
    missing = [s for s in services if not service_built(s, "tcp")]
    return unittest.skipIf(missing, f"not built into this sockit: {' '.join(missing)}")


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def port_of(server, service, pattern=r"127\.0\.0\.1"):
    m = re.findall(rf"listening on {pattern}:(\d+) \({service}/tcp", server.output())
    return int(m[-1]) if m else None


def upper_once(sock, text):
    sock.sendall(text)
    return recv_exactly(sock, len(text))


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


class Reloading(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.path = os.path.join(self.tmp.name, "sockit.toml")

    def write(self, text):
        # A new file put in place as an operator's editor does: never read half-written.
        fresh = self.path + ".new"
        with open(fresh, "w") as f:
            f.write(text)
        os.replace(fresh, self.path)

    def start(self, text, *flags, ready=r"listening on"):
        self.write(text)
        server = Server("serve", "--config", self.path, *flags, ready=ready)
        self.addCleanup(server.close)
        return server

    def reload(self, server, text, done=r"reloaded|rejected"):
        """Writes `text`, sends SIGHUP and waits for the log line that says the reload is over."""
        before = len(re.findall(done, server.output()))
        self.write(text)
        server.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: len(re.findall(done, server.output())) > before, timeout=20),
                        server.output())

    @needs("echo", "upper", "fib", "daytime")
    def test_sighup_adds_removes_and_changes_services_with_clients_connected_throughout(self):
        base = '[defaults]\nlisten = "127.0.0.1"\ntransport = "tcp"\nmodel = "{model}"\n'
        before = base + ('[services.echo]\nport = 0\n[services.upper]\nport = 0\n'
                         '[services.fib]\nport = 0\nmax_line = 100\n')
        after = base + ('[services.echo]\nport = 0\n[services.daytime]\nport = 0\n'
                        '[services.fib]\nport = 0\nmax_line = 10\n')
        for model in RELOAD_MODELS:
            with self.subTest(model=model):
                server = self.start(before.format(model=model), ready=r"listening on \S+ \(fib/tcp")
                echo_port, upper_port, fib_port = (port_of(server, s) for s in ("echo", "upper", "fib"))
                echo = socket.create_connection(("127.0.0.1", echo_port), timeout=5)
                upper = socket.create_connection(("127.0.0.1", upper_port), timeout=5)
                fib = socket.create_connection(("127.0.0.1", fib_port), timeout=5)
                try:
                    self.assertEqual(upper_once(echo, b"e1"), b"e1")
                    self.assertEqual(upper_once(upper, b"u1"), b"U1")
                    fib.sendall(b"00000000000000000010\n")
                    self.assertEqual(read_line(fib), b"55\n")

                    self.reload(server, after.format(model=model))
                    server.wait_for(r"reloaded \S+: started daytime stopped upper changed fib")
                    daytime_port = port_of(server, "daytime")
                    self.assertIsNotNone(daytime_port, server.output())
                    self.assertEqual(port_of(server, "echo"), echo_port, "a service that stays keeps its port")
                    self.assertEqual(port_of(server, "fib"), fib_port)

                    # Every connection open across the reload goes on, the removed service's too.
                    self.assertEqual(upper_once(echo, b"e2"), b"e2")
                    self.assertEqual(upper_once(upper, b"u2"), b"U2")
                    fib.sendall(b"00000000000000000012\n")
                    self.assertEqual(read_line(fib), b"144\n", "an open connection keeps its max_line")
                    # New clients: the removed service refuses, the new one serves, the changed
                    # one has its new limit.
                    self.assertTrue(refused(upper_port))
                    with socket.create_connection(("127.0.0.1", daytime_port), timeout=5) as d:
                        self.assertRegex(d.recv(100), rb"\d\d:\d\d:\d\d")
                    with socket.create_connection(("127.0.0.1", fib_port), timeout=5) as f:
                        f.sendall(b"00000000000000000012\n")
                        self.assertEqual(read_line(f), b"ERR line too long (max 10 bytes)\n")
                        f.sendall(b"12\n")
                        self.assertEqual(read_line(f), b"144\n")
                finally:
                    for s in (echo, upper, fib):
                        s.close()
                self.assertEqual(server.close(), 0, server.output())

    @needs("echo")
    def test_a_file_with_a_mistake_is_rejected_in_one_line_and_the_running_configuration_stays(self):
        # TCP only: a UDP listener's line could come after the count of lines taken below.
        good = '[services.echo]\nport = 0\nlisten = "127.0.0.1"\ntransport = "tcp"\n'
        server = self.start(good, "--quiet", ready=r"listening on \S+ \(echo/tcp")  # no connection lines
        port = port_of(server, "echo")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as held:
            lines = len(server.output().splitlines())
            self.reload(server, good + 'per_sauce = 3\n[services.upper]\nport = "x"\n')
            new_lines = server.output().splitlines()[lines:]
            self.assertEqual(len(new_lines), 1, new_lines)
            self.assertRegex(new_lines[0], r"^reload of \S+sockit\.toml rejected; the running configuration stays: "
                                           r"\S+sockit\.toml:5:1: services\.echo\.per_sauce: unknown key "
                                           r"\(did you mean per_source\?\) \(and 1 more\)$")
            self.assertEqual(upper_once(held, b"still"), b"still")
            with socket.create_connection(("127.0.0.1", port), timeout=5) as fresh:
                self.assertEqual(upper_once(fresh, b"new"), b"new")
            # A port that cannot be bound is refused the same way.
            taken = socket.socket()
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            self.addCleanup(taken.close)
            self.reload(server, good + f'[services.upper]\nport = {taken.getsockname()[1]}\nlisten = "127.0.0.1"\n')
            self.assertRegex(server.output().splitlines()[-1], r"rejected; the running configuration stays: bind to "
                                                               r"127\.0\.0\.1:\d+ failed: Address already in use")
            self.assertEqual(upper_once(held, b"again"), b"again")
        self.assertEqual(server.close(), 0)

    @needs("echo")
    def test_no_client_is_refused_while_reloads_hand_a_listener_over(self):
        # Each reload changes echo's settings: a new model run takes its listener over while the
        # old one drains. A client connects in a loop all the while.
        template = '[services.echo]\nport = 0\nlisten = "127.0.0.1"\ntransport = "tcp"\nmodel = "{model}"\nmax_line = {n}\n'
        for model in [m for m in ("epoll", "thread") if m in MODELS]:
            with self.subTest(model=model):
                server = self.start(template.format(model=model, n=100), ready=r"listening on \S+ \(echo/tcp")
                port = port_of(server, "echo")
                stop = threading.Event()
                outcome = {"connects": 0, "refused": 0}

                def client():
                    while not stop.is_set():
                        try:
                            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                                s.sendall(b"x")
                                if s.recv(1) == b"x":
                                    outcome["connects"] += 1
                        except OSError:
                            outcome["refused"] += 1

                looping = threading.Thread(target=client, daemon=True)
                looping.start()
                for n in range(10):
                    self.reload(server, template.format(model=model, n=101 + n))
                stop.set()
                looping.join(10)
                self.assertEqual(outcome["refused"], 0, outcome)
                self.assertGreater(outcome["connects"], 10, outcome)
                self.assertEqual(len(re.findall(r"reloaded \S+: changed echo", server.output())), 10)
                self.assertEqual(server.close(), 0)

    @needs("echo", "upper")
    def test_a_storm_of_100_sighups_leaks_no_descriptor_and_no_thread(self):
        # The admin page is read all through it: what it reads of the server changes under it.
        one = '[defaults]\nlisten = "127.0.0.1"\n[services.echo]\nport = 0\nmodel = "thread"\n'
        two = one + '[services.upper]\nport = 0\nmodel = "epoll"\nthreads = 2\n'
        server = self.start(one, "--admin", "127.0.0.1:0", ready=ADMIN_READY)
        host, _, admin_port = server.match.group(1).rpartition(":")
        admin = (host, int(admin_port))
        server.wait_for(r"listening on \S+ \(echo/udp")
        port = port_of(server, "echo")
        stop = threading.Event()
        answers = {"ok": 0, "failed": []}

        def read_the_page():
            while not stop.is_set():
                for path in ("/status.json", "/metrics"):
                    try:
                        code = get(admin, path)[0]
                    except (OSError, http.client.HTTPException) as e:
                        answers["failed"].append(repr(e))
                        continue
                    if code == 200:
                        answers["ok"] += 1
                    else:
                        answers["failed"].append(code)

        with socket.create_connection(("127.0.0.1", port), timeout=5) as held:
            self.assertEqual(upper_once(held, b"a"), b"a")
            time.sleep(0.5)
            fds, tasks = open_fds(server.pid), threads(server.pid)
            reader = threading.Thread(target=read_the_page, daemon=True)
            reader.start()
            for i in range(100):
                if i % 10 == 0:
                    self.write(two if (i // 10) % 2 == 0 else one)
                server.proc.send_signal(signal.SIGHUP)
                time.sleep(0.01)
            self.write(one)
            self.reload(server, one)
            stop.set()
            reader.join(20)
            self.assertEqual(answers["failed"], [], answers)
            self.assertGreater(answers["ok"], 2, answers)
            self.assertEqual(upper_once(held, b"b"), b"b", "the connection held through the storm")
            page = metrics(admin)
            self.assertIsNone(value(page, "sockit_connections_total", service="upper"), "upper runs no more")
            self.assertEqual(value(page, "sockit_connections_open", service="echo"), 1, "the held connection")
            self.assertTrue(wait_until(lambda: threads(server.pid) == tasks and open_fds(server.pid) == fds,
                                       timeout=20),
                            f"threads {threads(server.pid)} (was {tasks}), fds {open_fds(server.pid)} (was {fds})")
        self.assertGreaterEqual(len(re.findall(r"reloaded ", server.output())), 5)
        self.assertEqual(server.close(), 0)


    @needs("echo")
    def test_sighup_without_a_config_file_changes_nothing_and_kills_nothing(self):
        # sockit.service runs without a file and has ExecReload=/bin/kill -HUP $MAINPID.
        server = Server("serve", "echo:0", "--tcp", "--listen", "127.0.0.1", ready=r"listening on \S+:(\d+) \(echo/tcp")
        self.addCleanup(server.close)
        port = int(server.match.group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as held:
            self.assertEqual(upper_once(held, b"a"), b"a")
            server.proc.send_signal(signal.SIGHUP)
            server.wait_for(r"SIGHUP: no --config file to read again; nothing changed")
            self.assertEqual(upper_once(held, b"b"), b"b")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as fresh:
            self.assertEqual(upper_once(fresh, b"c"), b"c")
        self.assertEqual(server.close(), 0, server.output())

    @needs("echo", "upper", "daytime")
    def test_the_admin_endpoint_shows_the_services_a_reload_leaves_with_their_limits_and_counters(self):
        base = '[defaults]\nlisten = "127.0.0.1"\ntransport = "tcp"\n'
        before = base + '[services.echo]\nport = 0\nper_source = 3\n[services.upper]\nport = 0\n'
        after = (base + '[services.echo]\nport = 0\nper_source = 5\ndeny = ["10.0.0.0/8"]\nrate = "100/s"\n'
                 '[services.daytime]\nport = 0\n')
        server = self.start(before, "--admin", "127.0.0.1:0", ready=ADMIN_READY)
        host, _, admin_port = server.match.group(1).rpartition(":")
        admin = (host, int(admin_port))

        def rows():
            return {row["service"]: row for row in status_json(admin)["services"]}

        def total(page, service):
            return value(page, "sockit_connections_total", service=service)

        echo_port, upper_port = port_of(server, "echo"), port_of(server, "upper")
        with socket.create_connection(("127.0.0.1", echo_port), timeout=5) as held:
            self.assertEqual(upper_once(held, b"e1"), b"e1")
            with socket.create_connection(("127.0.0.1", upper_port), timeout=5) as u:
                self.assertEqual(upper_once(u, b"u"), b"U")
            self.assertTrue(wait_until(lambda: total(metrics(admin), "upper") == 1, timeout=10))
            listed = rows()
            self.assertEqual(list(listed), ["echo", "upper"])
            self.assertEqual(listed["echo"]["limits"]["per_source"], 3)
            self.assertEqual(listed["echo"]["connections_open"], 1)

            self.reload(server, after)
            server.wait_for(r"reloaded \S+: started daytime stopped upper changed echo")
            page = metrics(admin)
            self.assertIsNone(total(page, "upper"), "a service the reload stopped is not shown")
            self.assertEqual(total(page, "daytime"), 0, "a service the reload started is, before any client")
            self.assertEqual(total(page, "echo"), 1, "a service that stays keeps its counts")
            self.assertEqual(value(page, "sockit_connections_open", service="echo"), 1)
            listed = rows()
            self.assertEqual(list(listed), ["echo", "daytime"])
            self.assertEqual(listed["echo"]["limits"]["per_source"], 5)
            self.assertEqual(listed["echo"]["limits"]["deny"], ["10.0.0.0/8"])
            self.assertEqual(listed["echo"]["limits"]["rate_per_second"], 100)
            self.assertEqual(listed["echo"]["connections_open"], 1)

            self.assertEqual(upper_once(held, b"e2"), b"e2", "the connection open across the reload goes on")
            with socket.create_connection(("127.0.0.1", echo_port), timeout=5) as fresh:
                self.assertEqual(upper_once(fresh, b"e3"), b"e3")
            self.assertTrue(wait_until(lambda: total(metrics(admin), "echo") == 2, timeout=10))
        self.assertEqual(server.close(), 0)


if __name__ == "__main__":
    unittest.main()
