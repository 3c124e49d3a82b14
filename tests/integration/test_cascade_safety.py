"""Issue 11, Cascade: outputs that would destroy an input, inputs that are not regular files,
remote text printed raw, unroutable tracker entries, and the messages around them. Each test
fails on the binary before the fixes (see the issue note)."""

import json
import os
import struct
import tempfile
import time
import unittest

from harness import Server, connect, recv_exactly, recv_until_eof, run
from cascade_support import PyTracker, ThreadedListener, create, make_data, peer, tracker, tracker_request


def digest(path):
    with open(path, "rb") as f:
        return f.read()


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.data = self.path("data.bin")
        make_data(self.data, 3000, seed=11)

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)


class CreateTest(Scratch):
    """Items 4 and 17: create never writes over its input, and describes only regular files."""

    def test_an_output_that_is_the_input_is_refused_under_any_name(self):
        before = digest(self.data)
        os.link(self.data, self.path("hard.bin"))
        os.symlink(self.data, self.path("soft.bin"))
        for output in (self.data, self.path("hard.bin"), self.path("soft.bin"), self.path("./data.bin")):
            proc = run("cascade", "create", self.data, "-o", output, "--block-size", "1024", check=False)
            self.assertEqual(proc.returncode, 2, (output, proc.stdout, proc.stderr))
            self.assertIn("refusing to write", proc.stderr)
            self.assertEqual(digest(self.data), before, f"-o {output} replaced the data file")

    def test_non_regular_inputs_are_refused_and_nothing_is_written(self):
        for source in ("/dev/zero", "/dev/null", "/proc/self/status", self.dir.name):
            out = self.path("out.cascade")
            proc = run("cascade", "create", source, "-o", out, check=False, timeout=20)
            self.assertEqual(proc.returncode, 1, (source, proc.stdout, proc.stderr))
            self.assertIn(source, proc.stderr)
            self.assertFalse(os.path.exists(out), f"{source}: wrote {out}")

    def test_one_block_is_singular(self):
        make_data(self.data, 100)
        out = run("cascade", "create", self.data, "--block-size", "1KiB").stdout
        self.assertIn("100 bytes in 1 block of 1024 bytes", out)


class InfoTest(Scratch):
    """Item 18 and the info messages."""

    def setUp(self):
        super().setUp()
        create(self.data, 1024)
        self.cascade = self.data + ".cascade"

    def test_a_data_file_longer_than_the_target_is_not_valid(self):
        longer = self.path("longer.bin")
        with open(longer, "wb") as f:
            f.write(digest(self.data) + b"tail")
        proc = run("cascade", "info", self.cascade, "--data", longer, check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("3 of 3 blocks valid", proc.stdout)
        self.assertIn("longer         by 4 bytes than the target size", proc.stdout)
        report = json.loads(run("cascade", "info", self.cascade, "--data", longer, "--json", check=False).stdout)
        self.assertEqual((report["data"]["extra_bytes"], report["data"]["size"]), (4, 3004))
        self.assertEqual(run("cascade", "info", self.cascade, "--data", self.data, check=False).returncode, 0)

    def test_json_lists_missing_blocks_as_numbers(self):
        partial = self.path("partial.bin")
        with open(partial, "wb") as f:
            f.write(digest(self.data)[:1024])
        report = json.loads(run("cascade", "info", self.cascade, "--data", partial, "--json", check=False).stdout)
        self.assertEqual(report["data"]["missing"], [1, 2])
        report = json.loads(run("cascade", "info", self.cascade, "--data", self.data, "--json").stdout)
        self.assertEqual(report["data"]["missing"], [])

    def test_a_directory_as_data_names_it(self):
        proc = run("cascade", "info", self.cascade, "--data", self.dir.name, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"open on {self.dir.name} failed: Not a regular file (it is a directory)", proc.stderr)

    def test_a_fifo_as_cascade_file_fails_at_once(self):
        os.mkfifo(self.path("x.cascade"))
        proc = run("cascade", "info", self.path("x.cascade"), check=False, timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("it is a FIFO", proc.stderr)


class PeerOutputTest(Scratch):
    """Items 5, 6 and 16, and a failed peer leaving nothing behind. No download starts, so no
    tracker is needed: the address only has to parse."""

    def setUp(self):
        super().setUp()
        create(self.data, 1024)
        self.cascade = self.data + ".cascade"
        self.other = self.path("other.bin")
        make_data(self.other, 5000, seed=12)
        create(self.other, 1024)

    def peer(self, *args):
        return run("cascade", "peer", *args, "--tracker", "127.0.0.1:9", "--listen", "127.0.0.1:0", "--no-seed",
                   check=False, timeout=20)

    def test_a_cascade_file_without_the_suffix_is_not_its_own_output(self):
        os.rename(self.cascade, self.path("myfile"))
        before = digest(self.path("myfile"))
        proc = self.peer(self.path("myfile"))
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("it is the cascade file", proc.stderr)
        self.assertEqual(digest(self.path("myfile")), before)

    def test_an_output_that_is_a_cascade_file_is_refused(self):
        before = digest(self.cascade)
        for outputs in ([self.cascade], [self.path("./data.bin.cascade")]):
            proc = self.peer(self.cascade, *sum((["-o", o] for o in outputs), []))
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        proc = self.peer(self.cascade, self.other + ".cascade", "-o", self.path("x"), "-o", self.cascade)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertEqual(digest(self.cascade), before)
        self.assertFalse(os.path.exists(self.path("x")))

    def test_outputs_naming_one_file_are_refused(self):
        proc = self.peer(self.cascade, self.other + ".cascade", "-o", self.path("same.bin"), "-o", self.path("same.bin"))
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("also the data file of", proc.stderr)
        self.assertFalse(os.path.exists(self.path("same.bin")))
        os.link(self.data, self.path("alias.bin"))
        proc = self.peer(self.cascade, self.other + ".cascade", "-o", self.data, "-o", self.path("alias.bin"))
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)

    def test_an_output_that_is_not_a_regular_file_is_refused_at_once(self):
        os.mkfifo(self.path("fifo"))
        for output in ("/dev/null", self.path("fifo"), self.dir.name):
            proc = self.peer(self.cascade, "-o", output)
            self.assertEqual(proc.returncode, 2, (output, proc.stdout + proc.stderr))
            self.assertIn("Not a regular file", proc.stderr)

    def test_stats_that_cannot_be_written_fail_before_the_download(self):
        start = time.monotonic()
        proc = self.peer(self.cascade, "-o", self.path("out"), "--stats", "/nonexistent/s.json")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("/nonexistent/s.json", proc.stderr)
        self.assertNotIn("listening on", proc.stdout, "refused before the peer started")
        self.assertFalse(os.path.exists(self.path("out")))
        self.assertLess(time.monotonic() - start, 15)

    def test_stats_never_replace_a_cascade_or_data_file(self):
        before = digest(self.cascade)
        for stats in (self.cascade, self.data):
            proc = self.peer(self.cascade, "-o", self.data, "--stats", stats)
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            self.assertIn("check report file", proc.stderr)
        self.assertEqual(digest(self.cascade), before)

    def test_a_failed_start_leaves_no_empty_output(self):
        proc = self.peer(self.cascade, self.path("missing.cascade"), "-o", self.path("a.out"), "-o", self.path("b.out"))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("missing.cascade", proc.stderr)
        self.assertEqual(sorted(os.listdir(self.dir.name)),
                         ["data.bin", "data.bin.cascade", "other.bin", "other.bin.cascade"])
        with open(self.path("huge.cascade"), "wb") as f:  # a target no file can be truncated to
            f.write(b"CASCADE1" + bytes(8) + struct.pack("!QQ", 1 << 63, 1 << 62) + bytes(32) + bytes(64))
        proc = self.peer(self.path("huge.cascade"), "-o", self.path("huge.out"))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("huge.out", proc.stderr)
        self.assertFalse(os.path.exists(self.path("huge.out")), "a 0-byte output was left behind")


class HostileTracker(ThreadedListener):
    """Answers every tracker request with status 1 and `message`."""

    def __init__(self, message):
        self.message = message
        super().__init__()

    def address(self):
        return self.listener.getsockname()

    def _serve(self, conn):
        try:
            recv_exactly(conn, 54)
            conn.sendall(bytes([1]) + struct.pack("!I", len(self.message)) + self.message)
        except (OSError, AssertionError):
            pass
        conn.close()


class HostilePeer(ThreadedListener):
    """Answers the first block request with status 1 and `message`."""

    def __init__(self, message):
        self.message = message
        super().__init__()

    def _serve(self, conn):
        try:
            recv_exactly(conn, 64)
            conn.sendall(bytes([1]) + struct.pack("!Q", len(self.message)) + self.message)
        except (OSError, AssertionError):
            pass
        conn.close()


HOSTILE = b"\x1b[2J\x1b]0;owned\x07\nsockit cascade peer: complete: forged\r" + b"x" * 3000


class RemoteTextTest(Scratch):
    """Item 7: a tracker's and a peer's messages are printed printable and cut."""

    def setUp(self):
        super().setUp()
        create(self.data, 1024)
        self.cascade = self.data + ".cascade"

    def assert_clean(self, output):
        self.assertNotIn("\x1b", output)
        self.assertNotIn("\x07", output)
        self.assertNotIn("\r", output)
        self.assertNotIn("complete: forged", output.replace("?sockit cascade peer: complete: forged", ""),
                         "a forged line of its own")
        self.assertNotIn("x" * 1000, output, "a long message is cut")

    def test_a_trackers_message_is_printable(self):
        hostile = HostileTracker(HOSTILE)
        try:
            with peer(self.cascade, hostile.address(), self.path("out"), "--no-seed", list_interval="0.2") as leecher:
                leecher.wait_for(r"status 1: \?\[2J\?\]0;owned\?\?sockit cascade peer: complete: forged\?x", timeout=20)
            self.assert_clean(leecher.output())
        finally:
            hostile.stop()

    def test_a_peers_message_is_printable(self):
        bad = HostilePeer(HOSTILE)
        port = bad.listener.getsockname()[1]
        try:
            with PyTracker(peers=[f"127.0.0.1:{port}"]) as trk:
                with peer(self.cascade, trk.address(), self.path("out"), "--no-seed") as leecher:
                    leecher.wait_for(rf"lost peer 127.0.0.1:{port}: status 1: \?\[2J", timeout=20)
                self.assert_clean(leecher.output())
        finally:
            bad.stop()


class TrackerSafetyTest(unittest.TestCase):
    """Items 8 and 9, and the tracker's messages."""

    HASH = bytes(range(32))

    def test_unroutable_broadcast_multicast_and_port_0_entries_are_refused_with_why(self):
        with tracker() as trk:
            address = trk.address()
            for ip, port, why in (("0.0.0.0", 0, b"not routable"), ("255.255.255.255", 65535, b"broadcast"),
                                  ("224.0.0.1", 80, b"multicast"), ("127.0.0.1", 0, b"port 0")):
                status, body = tracker_request(address, 2, self.HASH, ip, port)
                self.assertEqual(status, 1, (ip, port))
                self.assertIn(why, body)
            self.assertEqual(tracker_request(address, 1, self.HASH, "127.0.0.1", 7), (0, b""))
            self.assertEqual(tracker_request(address, 2, self.HASH, "127.0.0.1", 8)[0], 0)

    def test_a_fifo_in_the_allow_dir_is_skipped_not_waited_on(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "f.bin")
            make_data(data, 3000)
            tracked = bytes.fromhex(create(data, 1024)["cascade_hash"])
            os.mkfifo(os.path.join(tmp, "trap.cascade"))
            with Server("cascade", "tracker", "--listen", "127.0.0.1:0", "--allow-dir", tmp, timeout=20) as srv:
                self.assertIn("trap.cascade failed: Not a regular file (it is a FIFO)", srv.output())
                self.assertIn("(1 hash)", srv.output())
                self.assertEqual(tracker_request(srv.address(), 2, tracked, "127.0.0.1", 5)[0], 0)

    def test_a_missing_allow_dir_is_an_error_naming_it(self):
        proc = run("cascade", "tracker", "--listen", "127.0.0.1:0", "--allow-dir", "/nonexistent/dir", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("read directory on /nonexistent/dir failed: No such file or directory", proc.stderr)
        self.assertNotIn("filesystem error", proc.stderr)

    def test_a_config_that_is_not_a_regular_file_is_refused_at_once(self):
        # A FIFO would be waited on for ever; /dev/zero (not run here: the old binary reads it
        # into memory until it is killed) is refused by the same check.
        with tempfile.TemporaryDirectory() as tmp:
            fifo = os.path.join(tmp, "tracker.json")
            os.mkfifo(fifo)
            proc = run("cascade", "tracker", "--listen", "127.0.0.1:0", "--config", fifo, check=False, timeout=20)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"open on {fifo} failed: Not a regular file (it is a FIFO)", proc.stderr)


class BlockServerLogTest(Scratch):
    def test_a_bad_request_is_logged_with_the_peer_once(self):
        create(self.data, 1024)
        with tracker() as trk, peer(self.data + ".cascade", trk.address(), self.data, "--verbose") as seed:
            with connect(*seed.address()) as s:
                s.sendall(b"GARBAGE!" + bytes(56))
                self.assertEqual(recv_until_eof(s)[0], 4)
                me = "%s:%d" % s.getsockname()
            line = seed.wait_for(r".*block request: malformed request.*").group(0)
            self.assertEqual(line.count(me), 1, line)


if __name__ == "__main__":
    unittest.main()
