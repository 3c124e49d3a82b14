"""Per-service limits with reasons (issue 15, item 3): per-source connections, a connection rate
per source, allow/deny lists, max-conns, out of descriptors. A refused client of a text service
reads one line "ERR refused: REASON" (HTTP gets a status, echo a bare close), the JSON log names
the kind of every refusal, the admin endpoint's /metrics counts each once under its reason
(sockit_connections_refused_total), and every model applies the limits alike. 127.0.0.2 and 127.0.0.3
are loopback addresses that a client binds to, to be a source of its own."""

import json
import os
import socket
import tempfile
import unittest

from admin_support import ADMIN_READY, metrics, value
from harness import (Server, limit_descriptors, list_models, netns_available, read_line, recv_exactly,
                     recv_until_eof, run_in_netns, service_built, wait_until)

MODELS = list_models()
# The iterative model serves one client at a time: a second connection waits in the backlog and
# is admitted (or refused) only when its turn comes, so limits on connections held open at once
# cannot be shown with it; the rate and the allow/deny lists can.
CONCURRENT = [m for m in MODELS if m != "iterative"]


def needs(service):
    return unittest.skipUnless(service_built(service, "tcp"), f"{service}/tcp is not built into this sockit")


def connect_from(source, host, port, timeout=5):
    """A TCP connection to host:port from the loopback address `source`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def fib(sock, n=10):
    sock.sendall(f"{n}\n".encode())
    return read_line(sock)


def refusal_of(sock):
    """What a refused client reads: the line, then the end (a reset after it is fine too)."""
    line = read_line(sock)
    try:
        rest = recv_until_eof(sock)
    except ConnectionResetError:
        rest = b""
    return line, rest


def json_records(server):
    return [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]


def refusals(server, kind):
    return [r for r in json_records(server) if r.get("event") == "refused" and r.get("refusal") == kind]


ADMIN = ("--admin", "127.0.0.1:0")
REASONS = ("max-conns", "per-source", "rate", "denied", "out-of-descriptors")


def admin_of(server):
    """The --admin endpoint's (host, port), from its startup line."""
    host, _, port = server.wait_for(ADMIN_READY).group(1).rpartition(":")
    return host, int(port)


def refusals_counted(server, service):
    """{reason: count} of `service`'s sockit_connections_refused_total on the admin endpoint."""
    page = metrics(admin_of(server))
    return {r: value(page, "sockit_connections_refused_total", service=service, reason=r) for r in REASONS}


def assert_counted(test, server, service, **expected):
    """/metrics counts exactly `expected` ({"per_source": 1}) refusals of `service`, 0 for the other
    reasons: each refusal once, under its reason. A refusal is counted before the client's close."""
    want = {r: expected.get(r.replace("-", "_"), 0) for r in REASONS}
    last = {}

    def reached():
        last["found"] = refusals_counted(server, service)
        return last["found"] == want

    test.assertTrue(wait_until(reached, timeout=10, interval=0.05), (last.get("found"), want))


def start_fib(test, model, *flags):
    server = Server("serve", "fib:0", "--tcp", "--listen", "127.0.0.1", "--model", model, "--json-log", *ADMIN,
                    *flags, ready=r'"message":"listening on 127\.0\.0\.1:(\d+) \(fib/tcp')
    test.addCleanup(server.close)
    return server, int(server.match.group(1))


@needs("fib")
class PerSource(unittest.TestCase):
    def test_the_connection_past_per_source_gets_err_while_another_address_is_served(self):
        for model in CONCURRENT:
            with self.subTest(model=model):
                server, port = start_fib(self, model, "--per-source", "2")
                held = [connect_from("127.0.0.2", "127.0.0.1", port) for _ in range(2)]
                for s in held:
                    self.assertEqual(fib(s), b"55\n")
                with connect_from("127.0.0.2", "127.0.0.1", port) as third:
                    line, rest = refusal_of(third)
                    self.assertEqual(line, b"ERR refused: 2 connections from this address already (per_source)\n")
                    self.assertEqual(rest, b"")
                with connect_from("127.0.0.3", "127.0.0.1", port) as other:
                    self.assertEqual(fib(other, 12), b"144\n")
                server.wait_for(r'"refusal":"per-source"')
                [record] = refusals(server, "per-source")
                self.assertTrue(record["peer"].startswith("127.0.0.2:"), record)
                self.assertEqual(record["service"], "fib")
                assert_counted(self, server, "fib", per_source=1)
                # A place given back is a place again.
                held.pop().close()
                self.assertTrue(wait_until(lambda: self.served_from("127.0.0.2", port), timeout=10), server.output())
                for s in held:
                    s.close()
                self.assertEqual(server.close(), 0)

    def served_from(self, source, port):
        try:
            with connect_from(source, "127.0.0.1", port, timeout=2) as s:
                return fib(s) == b"55\n"
        except OSError:
            return False


@needs("fib")
class Rate(unittest.TestCase):
    def test_a_source_over_its_rate_is_refused_with_err_and_another_is_not(self):
        # 6 a minute: a burst of one, then one every 10 s; the second connection within the test's
        # few seconds is over the rate, however slowly this machine runs it.
        for model in MODELS:
            with self.subTest(model=model):
                server, port = start_fib(self, model, "--rate", "6/min", "--rate-cooldown", "30")
                with connect_from("127.0.0.2", "127.0.0.1", port) as first:
                    self.assertEqual(fib(first), b"55\n")
                with connect_from("127.0.0.2", "127.0.0.1", port) as second:
                    line, _ = refusal_of(second)
                    self.assertEqual(line, b"ERR refused: over 0.1 connections a second from this address: "
                                           b"refused for 30 s\n")
                with connect_from("127.0.0.3", "127.0.0.1", port) as other:
                    self.assertEqual(fib(other), b"55\n")
                server.wait_for(r'"refusal":"rate"')
                self.assertEqual(len(refusals(server, "rate")), 1, server.output())
                assert_counted(self, server, "fib", rate=1)
                self.assertEqual(server.close(), 0)


@needs("fib")
class AllowDeny(unittest.TestCase):
    def test_deny_and_allow_refuse_the_right_addresses_with_err(self):
        for model in MODELS:
            with self.subTest(model=model):
                server, port = start_fib(self, model, "--allow", "127.0.0.0/29", "--deny", "127.0.0.3")
                with connect_from("127.0.0.3", "127.0.0.1", port) as denied:
                    self.assertEqual(refusal_of(denied)[0], b"ERR refused: address not allowed\n")
                with connect_from("127.0.0.9", "127.0.0.1", port) as outside:
                    self.assertEqual(refusal_of(outside)[0], b"ERR refused: address not allowed\n")
                with connect_from("127.0.0.2", "127.0.0.1", port) as allowed:
                    self.assertEqual(fib(allowed), b"55\n")
                server.wait_for(r'not on the allow list')
                reasons = sorted(r["reason"] for r in refusals(server, "denied"))
                self.assertEqual(reasons, ["address not allowed (deny 127.0.0.3/32)",
                                           "address not allowed (not on the allow list)"])
                assert_counted(self, server, "fib", denied=2)
                self.assertEqual(server.close(), 0)

    def test_an_ipv4_mapped_listener_judges_its_clients_as_ipv4_and_ipv6_as_ipv6(self):
        # ::ffff:127.0.0.1 is an IPv6 socket that IPv4 clients reach, seen as ::ffff:127.0.0.x: the
        # dual-stack case on loopback only. ::1 beside it.
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "sockit.toml")
            with open(config, "w") as f:
                f.write('[services.fib]\nport = 0\nlisten = ["::ffff:127.0.0.1", "::1"]\n'
                        'deny = ["127.0.0.3", "::1"]\n')
            server = Server("serve", "--config", config, "--json-log", *ADMIN, ready=r"listening on \[::1\]:(\d+)")
            self.addCleanup(server.close)
            port = int(server.match.group(1))
            server.wait_for(rf"listening on \[::ffff:127\.0\.0\.1\]:{port}")
            with connect_from("127.0.0.3", "127.0.0.1", port) as denied_v4:
                self.assertEqual(refusal_of(denied_v4)[0], b"ERR refused: address not allowed\n")
            with connect_from("::1", "::1", port) as denied_v6:
                self.assertEqual(refusal_of(denied_v6)[0], b"ERR refused: address not allowed\n")
            with connect_from("127.0.0.2", "127.0.0.1", port) as allowed:
                self.assertEqual(fib(allowed), b"55\n")
            server.wait_for(r"deny ::1/128")
            records = refusals(server, "denied")
            self.assertEqual(sorted(r["peer"].rsplit(":", 1)[0] for r in records), ["127.0.0.3", "[::1]"])
            assert_counted(self, server, "fib", denied=2)
            self.assertEqual(server.close(), 0)

    @unittest.skipUnless(netns_available(), "needs a network namespace (root) to listen on :: with nobody else")
    def test_a_dual_stack_listener_refuses_a_denied_ipv6_and_a_denied_ipv4_client(self):
        # --listen :: in a namespace of its own (only lo, up): every interface there is loopback.
        result = json.loads(run_in_netns(DUAL_STACK.replace("HERE", repr(os.path.dirname(os.path.abspath(__file__)))),
                                         timeout=120).stdout.splitlines()[-1])
        self.assertEqual(result["denied_v6"], "ERR refused: address not allowed\n")
        self.assertEqual(result["denied_v4"], "ERR refused: address not allowed\n")
        self.assertEqual(result["allowed_v4"], "55\n")
        self.assertEqual(result["allowed_v6"], "55\n")
        self.assertEqual(sorted(result["refused_peers"]), ["127.0.0.3", "[::1]"])
        self.assertEqual(result["counted"], {"max-conns": 0, "per-source": 0, "rate": 0, "denied": 2,
                                             "out-of-descriptors": 0})


DUAL_STACK = r'''
import json, sys
sys.path.insert(0, HERE)
from harness import Server, read_line
from test_serve_limits import ADMIN, connect_from, fib, refusal_of, refusals, refusals_counted
denying = ["serve", "fib:0", "--tcp", "--listen", "::", "--json-log", "--deny", "::1", "--deny", "127.0.0.3", *ADMIN]
with Server(*denying, ready=r"listening on \[::\]:(\d+)") as server:
    port = int(server.match.group(1))
    result = {}
    with connect_from("::1", "::1", port) as s:
        result["denied_v6"] = refusal_of(s)[0].decode()
    with connect_from("127.0.0.3", "127.0.0.1", port) as s:
        result["denied_v4"] = refusal_of(s)[0].decode()
    with connect_from("127.0.0.2", "127.0.0.1", port) as s:
        result["allowed_v4"] = fib(s).decode()
    server.wait_for(r"deny 127\.0\.0\.3/32")
    server.wait_for(r"deny ::1/128")
    result["refused_peers"] = [r["peer"].rsplit(":", 1)[0] for r in refusals(server, "denied")]
    result["counted"] = refusals_counted(server, "fib")
# ::1 is denied; an IPv6 client that is not: the same server without that rule.
with Server("serve", "fib:0", "--tcp", "--listen", "::", ready=r"listening on \[::\]:(\d+)") as server:
    with connect_from("::1", "::1", int(server.match.group(1))) as s:
        result["allowed_v6"] = fib(s).decode()
print(json.dumps(result))
'''


@needs("fib")
class MaxConns(unittest.TestCase):
    def test_a_service_past_its_max_conns_and_the_server_past_its_own_refuse_with_err(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "sockit.toml")
            with open(config, "w") as f:
                f.write('[server]\nmax_conns = 3\n[defaults]\nlisten = "127.0.0.1"\ntransport = "tcp"\n'
                        '[services.fib]\nport = 0\nmax_conns = 1\n[services.upper]\nport = 0\n')
            for model in CONCURRENT:
                with self.subTest(model=model):
                    server = Server("serve", "--config", config, "--model", model, "--json-log", *ADMIN,
                                    ready=r"listening on 127\.0\.0\.1:(\d+) \(fib/tcp")
                    self.addCleanup(server.close)
                    fib_port = int(server.match.group(1))
                    upper_port = int(server.wait_for(r"listening on 127\.0\.0\.1:(\d+) \(upper/tcp").group(1))
                    with connect_from("127.0.0.1", "127.0.0.1", fib_port) as held:
                        self.assertEqual(fib(held), b"55\n")
                        with connect_from("127.0.0.1", "127.0.0.1", fib_port) as extra:
                            self.assertEqual(refusal_of(extra)[0],
                                             b"ERR refused: 1 connection to this service already (max_conns)\n")
                        uppers = [connect_from("127.0.0.1", "127.0.0.1", upper_port) for _ in range(2)]
                        for u in uppers:
                            u.sendall(b"a\n")
                            self.assertEqual(recv_exactly(u, 2), b"A\n")
                        with connect_from("127.0.0.1", "127.0.0.1", upper_port) as fourth:
                            self.assertEqual(refusal_of(fourth)[0], b"ERR refused: 3 connections already (--max-conns)\n")
                        for u in uppers:
                            u.close()
                    server.wait_for(r"--max-conns")
                    self.assertEqual(len(refusals(server, "max-conns")), 2, server.output())
                    assert_counted(self, server, "fib", max_conns=1)
                    assert_counted(self, server, "upper", max_conns=1)
                    self.assertEqual(server.close(), 0)


class WhatEachProtocolGets(unittest.TestCase):
    @needs("http")
    def test_http_gets_403_for_a_denied_address(self):
        with tempfile.TemporaryDirectory() as root:
            server = Server("serve", "http:0", "--root", root, "--listen", "127.0.0.1", "--deny", "127.0.0.3",
                            ready=r"listening on 127\.0\.0\.1:(\d+) \(http/tcp")
            self.addCleanup(server.close)
            with connect_from("127.0.0.3", "127.0.0.1", int(server.match.group(1))) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    answer = recv_until_eof(s)
                except ConnectionResetError:
                    answer = b"<reset>"
            head, _, body = answer.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 403 Forbidden\r\n"), answer)
            self.assertIn(b"Connection: close", head)
            self.assertEqual(body, b"address not allowed\n")

    @needs("echo")
    def test_echo_gets_a_bare_close_no_byte_it_could_take_for_its_echo(self):
        server = Server("serve", "echo:0", "--tcp", "--listen", "127.0.0.1", "--deny", "127.0.0.3",
                        ready=r"listening on 127\.0\.0\.1:(\d+) \(echo/tcp")
        self.addCleanup(server.close)
        with connect_from("127.0.0.3", "127.0.0.1", int(server.match.group(1))) as s:
            self.assertEqual(recv_until_eof(s), b"")
        server.wait_for(r"refused 127\.0\.0\.3:\d+: address not allowed \(deny 127\.0\.0\.3/32\)")


@needs("echo")
class OutOfDescriptors(unittest.TestCase):
    def test_clients_shed_for_want_of_descriptors_are_logged_as_refusals(self):
        # The models whose own process holds every connection (fork's children hold theirs, the
        # pool accepts only with a worker free and iterative one at a time: they never run out).
        for model in [m for m in MODELS if m not in ("iterative", "fork", "pool")]:
            with self.subTest(model=model):
                server = Server("serve", "echo:0", "--tcp", "--listen", "127.0.0.1", "--model", model, "--json-log",
                                "--idle-timeout", "30", *ADMIN, preexec_fn=limit_descriptors(64),
                                ready=r'"message":"listening on 127\.0\.0\.1:(\d+) \(echo/tcp')
                self.addCleanup(server.close)
                port = int(server.match.group(1))
                held = []
                for _ in range(120):
                    try:
                        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                    except OSError:
                        pass
                self.assertTrue(wait_until(lambda: refusals(server, "out-of-descriptors"), timeout=20),
                                server.output()[-3000:])
                for s in held:
                    s.close()
                # Counted once each: as many as echo's lines (none counted twice, none silently; the
                # admin endpoint sheds clients of its own too, never counted).
                admin = admin_of(server)
                found = {}

                def counted_as_logged():
                    try:
                        page = metrics(admin)
                    except OSError:
                        return False  # the admin endpoint may be short of descriptors too
                    found["counted"] = value(page, "sockit_connections_refused_total", service="echo",
                                             reason="out-of-descriptors")
                    found["logged"] = len([r for r in refusals(server, "out-of-descriptors") if r["service"] == "echo"])
                    return found["counted"] == found["logged"]

                self.assertTrue(wait_until(counted_as_logged, timeout=20), found)
                self.assertIsNone(server.proc.poll())
                self.assertEqual(server.close(), 0)


if __name__ == "__main__":
    unittest.main()
