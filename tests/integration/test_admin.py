"""`--admin ADDR:PORT` (issue 15): /metrics in the Prometheus text format (promtool checks it),
/status.json and the status page, over sockit's own HTTP code; the counters under a known
workload in every model (the fork model's children count in shared memory); where the endpoint
may listen; its port bounded like any (a slowloris, a flood of connections, an idle client); the
Cascade tracker's and peer's endpoints."""

import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from admin_support import (ADMIN_READY, get, metrics, serve_with_admin, service_address, status_json, value,
                           wait_for_metric)
from cascade_support import PyTracker, create, make_data, peer, tracker, tracker_request
from harness import (Server, connect, limit_descriptors, list_models, netns_available, recv_exactly, recv_until_eof,
                     run, run_in_netns, wait_until)

PROMTOOL = shutil.which("promtool")


def admin_of(server):
    host, _, port = server.wait_for(ADMIN_READY).group(1).rpartition(":")
    return host.strip("[]"), int(port)


class Counters(unittest.TestCase):
    def check_model(self, model):
        # fib: one answer per line, so requests and bytes are exact.
        with serve_with_admin("fib:0", "--tcp", "--listen", "127.0.0.1", "--model", model, "--max-conns", "1") as server:
            admin, fib = server.address(), service_address(server, "fib")
            with connect(*fib) as a:
                a.sendall(b"10\n20\n")
                self.assertEqual(recv_exactly(a, 8), b"55\n6765\n")
                wait_for_metric(admin, "sockit_connections_open", 1, service="fib")
                if model != "iterative":  # it serves one client at a time: the next waits, unrefused
                    with connect(*fib) as b:  # a text service: told why (docs/config.md)
                        self.assertEqual(recv_until_eof(b), b"ERR refused: 1 connection already (--max-conns)\n")
                    wait_for_metric(admin, "sockit_connections_refused_total", 1, service="fib", reason="max-conns")
                a.sendall(b"30\n")
                self.assertEqual(recv_exactly(a, 7), b"832040\n")
            page = wait_for_metric(admin, "sockit_connections_open", 0, service="fib")
            expected = {"sockit_connections_total": 1, "sockit_requests_total": 3,
                        "sockit_received_bytes_total": 9,  # 10\n20\n30\n
                        "sockit_sent_bytes_total": 15,     # 55\n6765\n832040\n
                        "sockit_request_duration_seconds_count": 3}
            for name, count in expected.items():
                self.assertEqual(value(page, name, service="fib"), count, name)
            self.assertEqual(value(page, "sockit_connections_refused_total", service="fib", reason="max-conns"),
                             0 if model == "iterative" else 1)
            self.assertGreater(value(page, "sockit_request_duration_seconds_sum", service="fib"), 0)
            self.assertEqual(value(page, "sockit_info", model=model), 1)

    def test_a_known_workload_moves_every_counter_in_every_model(self):
        for model in list_models():
            with self.subTest(model=model):
                self.check_model(model)

    def test_clients_shed_for_want_of_descriptors_count_as_refused(self):
        # The models whose process holds a descriptor per client (iterative, pool and fork's parent
        # hold a few at most: the rest wait in the backlog, or in children).
        for model in [m for m in list_models() if m in ("thread", "select", "poll", "epoll", "uring")]:
            with self.subTest(model=model):
                with serve_with_admin("echo:0", "--tcp", "--listen", "127.0.0.1", "--model", model, "--quiet",
                                      preexec_fn=limit_descriptors(64)) as server:
                    admin, echo = server.address(), service_address(server, "echo")
                    held = []
                    for _ in range(120):
                        try:
                            held.append(socket.create_connection(echo, timeout=5))
                        except OSError:
                            pass
                    time.sleep(2)  # time to take what waits in the backlog: past 64 descriptors, shed
                    for s in held:
                        s.close()
                    found = {}

                    def counted():
                        try:
                            found.update(metrics(admin))
                        except OSError:
                            return False  # the admin endpoint may be short of descriptors too
                        return (value(found, "sockit_connections_refused_total", service="echo",
                                      reason="out-of-descriptors") or 0) > 0

                    self.assertTrue(wait_until(counted, timeout=20), found)

    @unittest.skipUnless(PROMTOOL, "needs promtool (Debian's prometheus package; scripts/bootstrap installs it)")
    def test_metrics_pass_promtool_check_metrics(self):
        with serve_with_admin("echo:0", "fib:0", "daytime:0", "--listen", "127.0.0.1", "--max-conns", "2") as server:
            admin, echo, fib = server.address(), service_address(server, "echo"), service_address(server, "fib")
            with connect(*echo) as e, connect(*fib) as f:
                e.sendall(b"hello")
                self.assertEqual(recv_exactly(e, 5), b"hello")
                f.sendall(b"7\n")
                self.assertEqual(recv_exactly(f, 3), b"13\n")
                with connect(*echo) as refused:
                    self.assertEqual(recv_until_eof(refused), b"")
            wait_for_metric(admin, "sockit_connections_refused_total", 1, service="echo", reason="max-conns")
            _, _, body = get(admin, "/metrics")
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=60)
        complaints = (check.stdout + check.stderr).decode()
        self.assertEqual(check.returncode, 0, complaints)
        self.assertEqual(complaints.strip(), "", "promtool's lint found something")
        for family in ("sockit_connections_open", "sockit_connections_total", "sockit_connections_refused_total",
                       "sockit_requests_total", "sockit_received_bytes_total", "sockit_sent_bytes_total",
                       "sockit_request_duration_seconds", "sockit_udp_refused_total", "process_resident_memory_bytes",
                       "process_open_fds"):
            self.assertIn(f"# TYPE {family} ".encode(), body)


class Status(unittest.TestCase):
    def test_status_json_says_what_serves_where_and_who_is_busiest(self):
        with serve_with_admin("fib:0", "echo:0", "--tcp", "--listen", "127.0.0.1", "--max-conns", "1") as server:
            admin, fib = server.address(), service_address(server, "fib")
            with connect(*fib) as held:
                held.sendall(b"1\n")
                self.assertEqual(recv_exactly(held, 2), b"1\n")
                with connect(*fib) as refused:
                    self.assertEqual(recv_until_eof(refused), b"ERR refused: 1 connection already (--max-conns)\n")
                wait_for_metric(admin, "sockit_connections_refused_total", 1, service="fib", reason="max-conns")
                status = status_json(admin)
            self.assertEqual(status["title"], "sockit serve")
            self.assertEqual(status["model"], "epoll")
            self.assertGreater(status["process"]["resident_bytes"], 0)
            self.assertGreater(status["process"]["open_fds"], 0)
            self.assertGreaterEqual(status["uptime_seconds"], 0)
            rows = {row["service"]: row for row in status["services"]}
            self.assertEqual(set(rows), {"fib", "echo"})
            self.assertIn(f"127.0.0.1:{fib[1]}/tcp", rows["fib"]["addresses"])
            self.assertEqual(rows["fib"]["connections_open"], 1)
            self.assertEqual(rows["fib"]["requests_total"], 1)
            self.assertEqual(status["connections_open"], 1)
            self.assertEqual(status["refused_connections"]["max-conns"], 1)
            self.assertEqual(status["busiest_sources"][0]["source"], "127.0.0.1")
            self.assertEqual(status["busiest_sources"][0]["connections"], 2)
            self.assertEqual(status["busiest_sources"][0]["refused"], 1)

    def test_requests_a_second_follow_the_load(self):
        with serve_with_admin("fib:0", "--tcp", "--listen", "127.0.0.1") as server:
            admin, fib = server.address(), service_address(server, "fib")
            status_json(admin)  # the rates' first sample
            with connect(*fib) as client:
                deadline = time.monotonic() + 10
                rate = 0
                while rate == 0 and time.monotonic() < deadline:
                    for _ in range(20):
                        client.sendall(b"5\n")
                        recv_exactly(client, 2)
                    time.sleep(0.1)
                    rate = status_json(admin)["requests_per_second"]
            self.assertGreater(rate, 0)

    def test_the_page_is_one_self_contained_document_that_asks_for_status_json(self):
        with serve_with_admin("echo:0", "--tcp", "--listen", "127.0.0.1") as server:
            code, headers, body = get(server.address(), "/")
        self.assertEqual(code, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", headers["content-security-policy"])
        page = body.decode()
        self.assertIn('fetch("status.json"', page)
        self.assertNotRegex(page, r'(src|href)="(https?:)?//', "an asset from elsewhere")

    def test_the_endpoint_answers_only_what_it_has(self):
        with serve_with_admin("echo:0", "--tcp", "--listen", "127.0.0.1") as server:
            admin = server.address()
            self.assertEqual(get(admin, "/nothing")[0], 404)
            self.assertEqual(get(admin, "/status.json", headers={"Host": "rebound.example:80"})[0], 403)
            with connect(*admin) as s:
                s.sendall(b"DELETE /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 405 "))

    def test_without_admin_nothing_more_listens(self):
        def listening(server):
            out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, timeout=10).stdout
            return [line for line in out.splitlines() if f"pid={server.pid}," in line]

        with Server("serve", "echo:0", "--tcp", "--listen", "127.0.0.1") as plain:
            self.assertEqual(len(listening(plain)), 1, listening(plain))
            self.assertNotIn("admin", plain.output())
        with serve_with_admin("echo:0", "--tcp", "--listen", "127.0.0.1") as server:
            self.assertEqual(len(listening(server)), 2, listening(server))
        self.assertIn("off by default", run("serve", "--help").stdout)


class Where(unittest.TestCase):
    def test_an_address_off_loopback_needs_admin_public(self):
        proc = run("serve", "echo:0", "--tcp", "--listen", "127.0.0.1", "--admin", "0.0.0.0:0", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("not a loopback address", proc.stderr)
        self.assertIn("--admin-public", proc.stderr)
        proc = run("serve", "echo:0", "--tcp", "--admin-public", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("needs --admin", proc.stderr)
        proc = run("serve", "echo:0", "--tcp", "--admin", "nowhere", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)

    @unittest.skipUnless(netns_available(), "needs a network namespace (root) to listen on every interface safely")
    def test_admin_public_listens_where_told_and_answers_any_host(self):
        code = r'''
import sys
sys.path.insert(0, HERE)
from admin_support import get
from harness import Server
with Server("serve", "echo:0", "--tcp", "--listen", "127.0.0.1", "--admin", "0.0.0.0:0", "--admin-public",
            ready=r"admin page on http://(\S+)/") as server:
    port = server.address()[1]
    print(get(("127.0.0.1", port), "/status.json", headers={"Host": "status.example"})[0])
    print("network" in server.output())
'''.replace("HERE", repr(os.path.dirname(os.path.abspath(__file__))))
        lines = run_in_netns(code, timeout=60).stdout.split()
        self.assertEqual(lines[-2:], ["200", "True"])


class Bounds(unittest.TestCase):
    """The admin port takes the http service's limits: --header-timeout, --keepalive-timeout, and
    64 connections at most. A client misbehaving there costs the services nothing."""

    def assert_fib_answers(self, fib):
        with connect(*fib) as c:
            c.sendall(b"10\n")
            self.assertEqual(recv_exactly(c, 3), b"55\n")

    def test_a_slowloris_on_the_admin_port_gets_408_and_the_rest_is_served(self):
        with serve_with_admin("fib:0", "--tcp", "--listen", "127.0.0.1", "--header-timeout", "1") as server:
            admin, fib = server.address(), service_address(server, "fib")
            with connect(*admin, timeout=10) as slow:
                slow.sendall(b"GET /metrics HTTP/1.1\r\nHo")
                answer, start = b"", time.monotonic()
                while not answer and time.monotonic() - start < 6:
                    ready, _, _ = select.select([slow], [], [], 0.25)
                    if ready:
                        answer = slow.recv(4096)
                    else:
                        slow.sendall(b"s")  # one byte every quarter second: never a whole head
                self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
                self.assertLess(time.monotonic() - start, 4)
            self.assertEqual(get(admin, "/metrics")[0], 200)
            self.assert_fib_answers(fib)

    def test_a_flood_of_connections_to_the_admin_port_is_cut_at_64_and_passes(self):
        with serve_with_admin("fib:0", "--tcp", "--listen", "127.0.0.1") as server:
            admin, fib = server.address(), service_address(server, "fib")
            flood = [connect(*admin) for _ in range(80)]
            try:
                def closed():
                    shut = 0
                    for s in flood:
                        if select.select([s], [], [], 0)[0]:
                            try:
                                shut += s.recv(1, socket.MSG_PEEK) == b""
                            except ConnectionResetError:
                                shut += 1
                    return shut
                self.assertEqual(wait_until(lambda: closed() == 16, timeout=10), True, f"{closed()} of 80 closed")
                self.assert_fib_answers(fib)
            finally:
                for s in flood:
                    s.close()
            ok = wait_until(lambda: get(admin, "/metrics")[0] == 200, timeout=10)
            self.assertTrue(ok)
            self.assertRegex(server.output(), r"refused 127\.0\.0\.1:\d+: 64 connections already")

    def test_an_idle_admin_connection_is_closed_after_the_keepalive_timeout(self):
        with serve_with_admin("fib:0", "--tcp", "--listen", "127.0.0.1", "--keepalive-timeout", "1") as server:
            with connect(*server.address(), timeout=10) as idle:
                idle.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                start = time.monotonic()
                answer = recv_until_eof(idle)
                self.assertTrue(answer.startswith(b"HTTP/1.1 200 "))
                self.assertLess(time.monotonic() - start, 5)


class Cascade(unittest.TestCase):
    HASH = bytes(range(32))

    def test_a_tracker_shows_its_swarms_and_counts_its_requests(self):
        with tracker("--admin", "127.0.0.1:0") as trk:
            admin = admin_of(trk)
            status, _ = tracker_request(trk.address(), 2, self.HASH, "127.0.0.1", 7000)
            self.assertEqual(status, 0)
            page = wait_for_metric(admin, "sockit_tracker_swarms", 1)
            self.assertGreaterEqual(value(page, "sockit_requests_total", service="cascade-tracker"), 1)
            status = status_json(admin)
            self.assertEqual(status["title"], "sockit cascade tracker")
            self.assertEqual(status["swarms_held"], 1)
            self.assertEqual(status["hashes_tracked"], "any")

    def test_a_tracker_with_named_hashes_shows_each_swarm(self):
        with tracker("--allow", self.HASH.hex(), "--admin", "127.0.0.1:0") as trk:
            admin = admin_of(trk)
            tracker_request(trk.address(), 2, self.HASH, "127.0.0.1", 7001)
            status = status_json(admin)
            self.assertEqual(status["swarms"], [{"hash": self.HASH.hex(), "peers": 1}])
            self.assertEqual(value(metrics(admin), "sockit_tracker_peers", hash=self.HASH.hex()), 1)

    def test_a_seed_shows_its_file_held_and_what_it_served(self):
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "data.bin")
            make_data(data, 3 * 65536 + 5)
            cascade_hash = bytes.fromhex(create(data, 65536)["cascade_hash"])
            with PyTracker() as trk, peer(data + ".cascade", trk.address(), data, "--admin", "127.0.0.1:0") as seed:
                admin = admin_of(seed)
                seed.wait_for("seeding")
                status = status_json(admin)
                self.assertEqual(status["title"], "sockit cascade peer")
                [row] = status["files"]
                self.assertEqual((row["blocks_held"], row["blocks"], row["complete"], row["eta_seconds"]), (4, 4, True, 0))
                with connect(*seed.address()) as leech:
                    leech.sendall(b"CASCADE1" + bytes(16) + struct.pack("!Q", 1) + cascade_hash)
                    head = recv_exactly(leech, 9)
                    self.assertEqual(head, bytes([0]) + struct.pack("!Q", 65536))
                    recv_exactly(leech, 65536)
                page = wait_for_metric(admin, "sockit_peer_served_bytes_total", 65536, file=data)
                self.assertEqual(value(page, "sockit_peer_blocks_held", file=data), 4)
                self.assertEqual(value(page, "sockit_requests_total", service="cascade-blocks"), 1)


if __name__ == "__main__":
    unittest.main()
