"""sockit cascade: create/info, the tracker over real sockets, the block server, a small swarm."""

import json
import os
import socket
import struct
import tempfile
import time
import unittest

from harness import connect, recv_exactly, recv_until_eof, run
from cascade_support import create, make_data, peer, sha256_file, tracker, tracker_request


class CreateAndInfoTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.dir.name, "small.bin")
        make_data(self.data, 100 * 1024 + 333)

    def tearDown(self):
        self.dir.cleanup()

    def test_create_writes_the_spec_layout_and_prints_the_cascade_hash(self):
        out = run("cascade", "create", self.data, "--block-size", "1KiB").stdout
        with open(self.data + ".cascade", "rb") as f:
            raw = f.read()
        self.assertEqual(raw[:8], b"CASCADE1")
        size, block = struct.unpack("!QQ", raw[16:32])
        self.assertEqual((size, block), (100 * 1024 + 333, 1024))
        self.assertEqual(raw[32:64].hex(), sha256_file(self.data))
        self.assertEqual(len(raw), 64 + 32 * 101)
        import hashlib
        self.assertIn(hashlib.sha256(raw).hexdigest(), out)
        with open(self.data, "rb") as f:
            f.seek(100 * 1024)
            self.assertEqual(raw[64 + 32 * 100:], hashlib.sha256(f.read()).digest())

    def test_info_reports_the_trail_block_and_valid_blocks(self):
        create(self.data, 1024)
        report = json.loads(run("cascade", "info", self.data + ".cascade", "--data", self.data, "--json").stdout)
        self.assertEqual(report["blocks"], 101)
        self.assertEqual(report["trail_block_size"], 333)
        self.assertEqual(report["data"]["valid_blocks"], 101)

    def test_info_lists_corrupt_blocks_and_exits_1(self):
        create(self.data, 1024)
        with open(self.data, "r+b") as f:
            f.seek(5 * 1024 + 7)
            f.write(b"\xff\xfe")
        proc = run("cascade", "info", self.data + ".cascade", "--data", self.data, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("missing        5", proc.stdout)

    def test_truncated_cascade_file_is_a_clear_error(self):
        create(self.data, 1024)
        with open(self.data + ".cascade", "r+b") as f:
            f.truncate(64 + 32 * 50)
        proc = run("cascade", "info", self.data + ".cascade", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("50 block hashes for 101 blocks", proc.stderr)

    def test_block_size_zero_is_a_usage_error(self):
        self.assertEqual(run("cascade", "create", self.data, "--block-size", "0", check=False).returncode, 2)

    def test_help_has_examples(self):
        for sub in ("create", "info", "tracker", "peer"):
            self.assertIn("Example", run("cascade", sub, "--help").stdout, sub)


class TrackerTest(unittest.TestCase):
    HASH = bytes(range(32))

    def setUp(self):
        self.tracker = tracker("--idle-timeout", "1")
        self.address = self.tracker.address()

    def tearDown(self):
        self.tracker.__exit__()

    def test_subscribe_then_list_sees_the_other_peer_not_itself(self):
        self.assertEqual(tracker_request(self.address, 2, self.HASH, "127.0.0.1", 1111), (0, b""))
        status, body = tracker_request(self.address, 2, self.HASH, "127.0.0.1", 2222)
        self.assertEqual(status, 0)
        self.assertEqual(len(body), 12)
        ip, port, seen, good, reserved = struct.unpack("!4sHIBB", body)
        self.assertEqual((socket.inet_ntoa(ip), port, good, reserved), ("127.0.0.1", 1111, 0, 0))
        self.assertLess(abs(seen - time.time()), 60)

    def test_list_does_not_register(self):
        tracker_request(self.address, 1, self.HASH, "127.0.0.1", 3333)
        self.assertEqual(tracker_request(self.address, 1, self.HASH, "127.0.0.1", 4444), (0, b""))

    def test_every_defect_gets_status_1_with_a_message(self):
        good = b"CASC" + struct.pack("!III", 1, 1, 38) + self.HASH + socket.inet_aton("127.0.0.1") + b"\x00\x01"
        cases = {
            "wrong magic": b"CASX" + good[4:],
            "version 2": good[:4] + struct.pack("!I", 2) + good[8:],
            "unknown command 7": good[:8] + struct.pack("!I", 7) + good[12:],
            "body length 40": good[:12] + struct.pack("!I", 40) + good[16:],
        }
        for expected, request in cases.items():
            with connect(*self.address) as s:
                s.sendall(request)
                data = recv_until_eof(s)
            self.assertEqual(data[0], 1, expected)
            self.assertEqual(struct.unpack("!I", data[1:5])[0], len(data) - 5)
            self.assertIn(expected.split()[0], data[5:].decode(), expected)

    def test_short_header_and_short_body_after_half_close(self):
        good = b"CASC" + struct.pack("!III", 1, 1, 38) + self.HASH + b"\x7f\x00\x00\x01\x00\x01"
        for cut, message in ((9, b"short header"), (30, b"short body")):
            with connect(*self.address) as s:
                s.sendall(good[:cut])
                s.shutdown(socket.SHUT_WR)
                data = recv_until_eof(s)
            self.assertEqual(data[0], 1)
            self.assertIn(message, data[5:])

    def test_silent_client_is_timed_out(self):
        with connect(*self.address, timeout=10) as s:
            start = time.monotonic()
            self.assertEqual(recv_until_eof(s), b"")
            self.assertLess(time.monotonic() - start, 8)

    def test_many_clients_at_once(self):
        # Six hosts of ten peers each (the tracker takes at most --max-peers-per-ip from one host,
        # and by default registers only the address a subscribe comes from).
        hosts = [f"127.0.0.{1 + i % 6}" for i in range(60)]
        socks = [socket.create_connection(self.address, timeout=5, source_address=(host, 0)) for host in hosts]
        try:
            for i, s in enumerate(socks):
                s.sendall(b"CASC" + struct.pack("!III", 1, 2, 38) + self.HASH + socket.inet_aton(hosts[i]) +
                          struct.pack("!H", 10000 + i))
            for s in socks:
                head = recv_exactly(s, 5)
                self.assertEqual(head[0], 0)
        finally:
            for s in socks:
                s.close()
        status, body = tracker_request(self.address, 1, self.HASH, "127.0.0.1", 1)
        self.assertEqual(len(body), 20 * 12)  # at most 20 entries


class TrackerConfigTest(unittest.TestCase):
    def test_course_config_keys_and_untracked_hash(self):
        allowed = bytes(range(32))
        with tempfile.NamedTemporaryFile("w", suffix=".json") as config:
            json.dump({"port": 0, "allowedhashes": [allowed.hex()], "good-ips": ["127.0.0.1"], "ban-private": False},
                      config)
            config.flush()
            srv = tracker_server = None
            from harness import Server
            with Server("cascade", "tracker", "--listen", "127.0.0.1:0", "--config", config.name) as srv:
                address = srv.address()
                self.assertEqual(tracker_request(address, 2, allowed, "127.0.0.1", 5)[0], 0)
                status, body = tracker_request(address, 1, allowed, "127.0.0.1", 6)
                self.assertEqual(body[10], 1)  # registered from 127.0.0.1, which is on good-ips
                status, body = tracker_request(address, 1, bytes(32), "127.0.0.1", 6)
                self.assertEqual(status, 1)
                self.assertIn(b"untracked", body)
            del tracker_server


class TrackerAllowDirTest(unittest.TestCase):
    def test_allow_dir_tracks_the_cascade_files_it_holds(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "f.bin")
            make_data(data, 3000)
            tracked = bytes.fromhex(create(data, 1024)["cascade_hash"])
            from harness import Server
            with Server("cascade", "tracker", "--listen", "127.0.0.1:0", "--allow-dir", tmp) as srv:
                self.assertEqual(tracker_request(srv.address(), 2, tracked, "127.0.0.1", 5)[0], 0)
                self.assertEqual(tracker_request(srv.address(), 2, bytes(32), "127.0.0.1", 5)[0], 1)


class SmallSwarmTest(unittest.TestCase):
    """One seed and four leechers of a 1 KiB-block file with an odd trail block, plus the block
    server's answers to bad requests over a real socket."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.dir.name, "small.bin")
        make_data(self.data, 300 * 1024 + 77, seed=3)
        self.info = create(self.data, 1024)
        self.cascade = self.data + ".cascade"
        self.tracker = tracker()

    def tearDown(self):
        self.tracker.__exit__()
        self.dir.cleanup()

    def test_four_leechers_end_exact(self):
        with peer(self.cascade, self.tracker.address(), self.data) as seed:
            leechers = [peer(self.cascade, self.tracker.address(), os.path.join(self.dir.name, f"out{i}"),
                             "--no-seed", "--stats", os.path.join(self.dir.name, f"stats{i}.json"))
                        for i in range(4)]
            for i, leecher in enumerate(leechers):
                self.assertEqual(leecher.wait_exit(60), 0, leecher.output())
                self.assertEqual(sha256_file(os.path.join(self.dir.name, f"out{i}")), sha256_file(self.data))
                with open(os.path.join(self.dir.name, f"stats{i}.json")) as f:
                    stats = json.load(f)["files"][0]
                self.assertTrue(stats["target_verified"])
                self.assertEqual(stats["fetched"], 301)
                leecher.__exit__()
            self.assertIsNone(seed.proc.poll(), "the seed keeps seeding")

    def test_one_peer_fetches_two_files_at_once(self):
        other = os.path.join(self.dir.name, "other.bin")
        make_data(other, 5000, seed=9)
        create(other, 1000)
        host, port = self.tracker.address()
        from harness import Server
        with Server("cascade", "peer", self.cascade, other + ".cascade", "--tracker", f"{host}:{port}",
                    "--listen", "127.0.0.1:0"):
            leecher = Server("cascade", "peer", self.cascade, other + ".cascade", "--tracker", f"{host}:{port}",
                             "--listen", "127.0.0.1:0", "-o", os.path.join(self.dir.name, "a"),
                             "-o", os.path.join(self.dir.name, "b"), "--no-seed")
            self.assertEqual(leecher.wait_exit(60), 0, leecher.output())
            leecher.__exit__()
        self.assertEqual(sha256_file(os.path.join(self.dir.name, "a")), sha256_file(self.data))
        self.assertEqual(sha256_file(os.path.join(self.dir.name, "b")), sha256_file(other))

    def test_block_server_answers_bad_requests_with_the_spec_statuses(self):
        with peer(self.cascade, self.tracker.address(), self.data) as seed:
            address = seed.address()
            good_hash = bytes.fromhex(self.info["cascade_hash"])

            def request(index, cascade_hash=good_hash, magic=b"CASCADE1"):
                return magic + bytes(16) + struct.pack("!Q", index) + cascade_hash

            with connect(*address) as s:
                s.sendall(request(0) + request(300))  # two in flight, one write
                head = recv_exactly(s, 9)
                self.assertEqual((head[0], struct.unpack("!Q", head[1:])[0]), (0, 1024))
                recv_exactly(s, 1024)
                head = recv_exactly(s, 9)
                self.assertEqual((head[0], struct.unpack("!Q", head[1:])[0]), (0, 77))  # the trail block
                recv_exactly(s, 77)
                s.sendall(request(301))
                head = recv_exactly(s, 9)
                self.assertEqual(head[0], 3)
                recv_exactly(s, struct.unpack("!Q", head[1:])[0])
                self.assertEqual(recv_until_eof(s), b"")  # closed after status 3
            with connect(*address) as s:
                s.sendall(request(0, bytes(32)))
                data = recv_until_eof(s)
                self.assertEqual(data[0], 1)
            with connect(*address) as s:
                s.sendall(request(0, magic=b"GARBAGE!"))
                data = recv_until_eof(s)
                self.assertEqual(data[0], 4)
            self.assertIsNone(seed.proc.poll())


if __name__ == "__main__":
    unittest.main()
