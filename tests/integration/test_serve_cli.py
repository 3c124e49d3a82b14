"""`sockit serve` as DESIGN.md's "Command line" says: startup lines, addresses, exit codes."""

import datetime
import json
import os
import select
import socket
import time
import unittest

from harness import (SOCKIT, DrainedServer, connect, list_models, netns_available, recv_exactly, run, run_in_netns,
                     serve, service_built)

# Inside a network namespace: lo also carries 10.9.9.9; for each --listen, which addresses answer
# echo over [TCP, UDP].
REACHABILITY = r'''
import json, os, socket, subprocess, sys
sys.path.insert(0, HERE)
from harness import Server, udp_ask
subprocess.run(["ip", "addr", "add", "10.9.9.9/32", "dev", "lo"], check=True)

def tcp_echo(host, port):
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.sendall(b"hi")
            return s.recv(2) == b"hi"
    except OSError:
        return False

result = {}
for listen in ("default", "0.0.0.0", "::"):
    extra = [] if listen == "default" else ["--listen", listen]
    with Server("serve", "echo:0", *extra) as server:
        server.wait_for(r"\(echo/udp")
        port = server.address()[1]
        result[listen] = {host: [tcp_echo(host, port), udp_ask(host, port, b"hi", timeout=0.4) == b"hi"]
                          for host in ("127.0.0.1", "::1", "10.9.9.9")}
print(json.dumps(result))
'''


def echo_via(family, host, port):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, port))
        s.sendall(b"dual")
        return recv_exactly(s, 4)


class StartupLines(unittest.TestCase):
    def start(self, *args, **kwargs):
        server, where = serve(*args, **kwargs)
        self.addCleanup(server.close)
        return server, where

    def test_port_0_shows_the_real_port_model_and_threads(self):
        server, where = self.start(["echo"], "--model", "pool", "--threads", "3", transports=("tcp", "udp"))
        host, port = where[("echo", "tcp")]
        self.assertNotEqual(port, 0)
        self.assertIn(f"listening on 127.0.0.1:{port} (echo/tcp, model pool, 3 threads)", server.output())
        self.assertRegex(server.output(), r"listening on 127\.0\.0\.1:\d+ \(echo/udp, 3 threads\)")
        with connect(host, port) as s:
            s.sendall(b"hi")
            self.assertEqual(recv_exactly(s, 2), b"hi")

    def test_default_listen_is_loopback_ipv4_and_ipv6_on_one_port(self):
        server = DrainedServer("serve", "echo:0", "--tcp", "--model", "thread")
        self.addCleanup(server.close)
        m = server.wait_for(r"listening on 127\.0\.0\.1:(\d+) \(echo/tcp, model thread, thread per connection\)")
        port = int(m.group(1))
        server.wait_for(rf"listening on \[::1\]:{port} \(echo/tcp, model thread, thread per connection\)")
        self.assertEqual(echo_via(socket.AF_INET, "127.0.0.1", port), b"dual")
        self.assertEqual(echo_via(socket.AF_INET6, "::1", port), b"dual")

    @unittest.skipUnless(netns_available(), "needs a network namespace (root) to give lo a non-loopback address")
    def test_only_an_explicit_listen_address_is_reachable_from_the_network(self):
        # Issue 11, item 2: 10.9.9.9 stands for the address a laptop gets on a network it joins.
        result = json.loads(run_in_netns(REACHABILITY.replace("HERE", repr(os.path.dirname(os.path.abspath(__file__)))),
                                         timeout=120).stdout.splitlines()[-1])
        self.assertEqual(result["default"], {"127.0.0.1": [True, True], "::1": [True, True],
                                             "10.9.9.9": [False, False]})
        self.assertEqual(result["0.0.0.0"], {"127.0.0.1": [True, True], "::1": [False, False],
                                             "10.9.9.9": [True, True]})
        self.assertEqual(result["::"], {"127.0.0.1": [True, True], "::1": [True, True],
                                        "10.9.9.9": [True, True]})

    def test_one_log_line_per_connection_and_quiet_silences_them(self):
        server, where = self.start(["echo"], "--model", "thread")
        host, port = where[("echo", "tcp")]
        with connect(host, port) as s:
            local = s.getsockname()
            for chunk in (b"a", b"b"):
                s.sendall(chunk)
                recv_exactly(s, 1)
        server.wait_for(rf"connected 127\.0\.0\.1:{local[1]}\b")
        server.wait_for(rf"closed 127\.0\.0\.1:{local[1]} after 2 requests")
        quiet, where = self.start(["echo"], "--model", "thread", "--quiet")
        with connect(*where[("echo", "tcp")]) as s:
            s.sendall(b"x")
            recv_exactly(s, 1)
        self.assertEqual(quiet.close(), 0)
        self.assertNotIn("connected", quiet.output())

    def test_json_log_writes_one_json_object_per_line(self):
        # In a time zone far from UTC: "time" is UTC (it ends in Z) whatever TZ says.
        server, where = self.start(["echo"], "--model", "iterative", "--json-log",
                                   env={**os.environ, "TZ": "Asia/Tokyo"})
        with connect(*where[("echo", "tcp")]) as s:
            s.sendall(b"x")
            recv_exactly(s, 1)
            local = s.getsockname()
        server.wait_for(r'"event":"closed"')
        self.assertEqual(server.close(), 0)
        records = [json.loads(line) for line in server.output().splitlines() if line.strip()]
        self.assertTrue(any(r["message"].startswith("listening on 127.0.0.1:") for r in records), records)
        for r in records:
            logged = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
            self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - logged).total_seconds()), 60, r)
        # Issue 11: a connection's event and peer are fields, not only prose.
        closed = [r for r in records if r.get("event") == "closed"]
        self.assertEqual([(r["peer"], r["requests"]) for r in closed], [(f"127.0.0.1:{local[1]}", 1)], records)
        self.assertTrue(any(r.get("event") == "connected" and r["peer"] == f"127.0.0.1:{local[1]}" for r in records))

    def test_json_log_names_the_service_and_port_of_every_event_in_every_model(self):
        # Issue 11: "give port, service, peer, event as fields". Two services in one server, so
        # that a line can only be right if the model hands each listener's name to its log; a
        # session's complaint (fib's ERR) is named the same way. With --max-conns 2 and two
        # connections held, a third is refused (the iterative server queues it instead: it
        # serves one client at a time and refuses only with --max-conns 0).
        for model in list_models():
            with self.subTest(model=model):
                server, where = self.start(["echo", "fib"], "--model", model, "--json-log", "--max-conns", "2")
                echo_port, fib_port = where[("echo", "tcp")][1], where[("fib", "tcp")][1]
                peers = {}
                with connect(*where[("echo", "tcp")]) as echo, connect(*where[("fib", "tcp")]) as fib:
                    peers["echo"], peers["fib"] = echo.getsockname()[1], fib.getsockname()[1]
                    echo.sendall(b"x")
                    self.assertEqual(recv_exactly(echo, 1), b"x")
                    if model != "iterative":
                        fib.sendall(b"x\n")
                        self.assertEqual(recv_exactly(fib, 18), b"ERR not a number: ")
                        with connect(*where[("echo", "tcp")]) as refused:
                            peers["refused"] = refused.getsockname()[1]
                            refused.settimeout(5)
                            self.assertEqual(refused.recv(1), b"")
                    else:
                        echo.close()
                        fib.sendall(b"x\n")
                        self.assertEqual(recv_exactly(fib, 18), b"ERR not a number: ")
                server.wait_for(rf'"event":"closed".*"peer":"127\.0\.0\.1:{peers["fib"]}"')
                self.assertEqual(server.close(), 0)
                records = [json.loads(line) for line in server.output().splitlines() if line.strip()]

                def events(peer_port):
                    return [(r["event"], r["service"], r["port"]) for r in records
                            if r.get("peer") == f"127.0.0.1:{peer_port}"]

                for service, port in (("echo", echo_port), ("fib", fib_port)):
                    self.assertEqual(events(peers[service]), [("connected", service, port), ("closed", service, port)],
                                     records)
                if model != "iterative":
                    self.assertEqual(events(peers["refused"]), [("refused", "echo", echo_port)], records)
                complaints = [r for r in records if r["message"].startswith(f"127.0.0.1:{peers['fib']}: not a number")]
                self.assertEqual([(r["service"], r["port"]) for r in complaints], [("fib", fib_port)], records)

    def test_list_models_has_the_blocking_models(self):
        for model in ("iterative", "fork", "thread", "pool"):
            self.assertIn(model, list_models())

    def test_no_offload_answers_in_arrival_order_behind_a_cpu_bound_request(self):
        # One epoll loop computing fib inline: a quick request sent later cannot overtake it.
        server, where = self.start(["fib"], "--model", "epoll", "--threads", "1", "--algorithm", "recursive",
                                   "--no-offload")
        with connect(*where[("fib", "tcp")]) as slow, connect(*where[("fib", "tcp")]) as quick:
            slow.sendall(b"38\n")  # about 0.5 s
            time.sleep(0.1)
            quick.sendall(b"1\n")
            self.assertEqual(recv_exactly(quick, 2), b"1\n")
            readable, _, _ = select.select([slow], [], [], 0)
            self.assertEqual(readable, [slow], "the quick answer overtook the CPU-bound one")
            self.assertEqual(recv_exactly(slow, 9), b"39088169\n")

    def test_help_has_an_example(self):
        self.assertIn("Example", run("serve", "--help").stdout)
        self.assertIn("Example", run("client", "--help").stdout)


class EveryService(unittest.TestCase):
    def test_serve_alone_starts_every_built_service_on_its_default_port(self):
        # Default ports are fixed: run in a network namespace of our own so nothing collides.
        script = f"ip link set lo up && exec {SOCKIT} serve --model thread --tcp"
        server = DrainedServer("serve", command=["unshare", "-n", "sh", "-c", script], ready=None)
        self.addCleanup(server.close)
        try:
            server.wait_for(r"listening on 127\.0\.0\.1:10007 \(echo/tcp", timeout=20)
        except AssertionError:
            if "unshare" in server.output() or "Operation not permitted" in server.output():
                self.skipTest("cannot create a network namespace here: " + server.output())
            raise
        for name, port in (("discard", 10009), ("daytime", 10013), ("chargen", 10019), ("time", 10037),
                           ("fib", 9000), ("upper", 50000), ("incr", 5000)):
            if service_built(name, "tcp"):
                server.wait_for(rf"listening on 127\.0\.0\.1:{port} \({name}/tcp, model thread")
                server.wait_for(rf"listening on \[::1\]:{port} \({name}/tcp, model thread")

    def test_without_model_uses_epoll_or_says_what_it_uses_instead(self):
        server, _ = serve(["echo"])
        self.addCleanup(server.close)
        if "epoll" in list_models():
            server.wait_for(r"\(echo/tcp, model epoll, ")
        else:
            server.wait_for(r"model epoll is not in this build; using (\w+)")


class ExitCodes(unittest.TestCase):
    def test_unknown_service_is_a_usage_error(self):
        proc = run("serve", "nosuch:0", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown service 'nosuch'", proc.stderr)

    def test_unknown_model_is_a_usage_error(self):
        proc = run("serve", "echo:0", "--model", "nosuch", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("model 'nosuch'", proc.stderr)

    def test_bad_port_is_a_usage_error(self):
        self.assertEqual(run("serve", "echo:70000", check=False).returncode, 2)

    def test_a_service_without_that_transport_is_a_usage_error(self):
        proc = run("serve", "fib:0", "--udp", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("fib has no UDP form", proc.stderr)

    def test_a_port_in_use_fails_with_the_bind_error(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = run("serve", f"echo:{port}", "--tcp", "--listen", "127.0.0.1", check=False, timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"bind to 127.0.0.1:{port} failed: Address already in use", proc.stderr)

    def test_a_port_in_use_on_the_wildcard_names_it_in_brackets(self):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as taken:
            taken.bind(("::", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = run("serve", f"echo:{port}", "--tcp", "--listen", "::", check=False, timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"bind to [::]:{port} failed: Address already in use", proc.stderr)


if __name__ == "__main__":
    unittest.main()
