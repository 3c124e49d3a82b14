"""sockit nc --broker and --chat with three clients, against ncat's behaviour, and a client that
never reads."""

import os
import re
import socket
import subprocess
import threading
import time
import unittest

from harness import SOCKIT, ProcessTree, sanitized, wait_for_stderr_line


class Broker:
    """`sockit nc -v -l --broker|--chat ... 127.0.0.1 0`; its stdin is a pipe the test writes."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SOCKIT, "nc", "-v", "-l", *args, "127.0.0.1", "0"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = int(wait_for_stderr_line(self.proc, r"listening on \S+:(\d+)").group(1))

    def connect(self):
        """A client, connected and accepted (its -v line seen), with a 10 s timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        wait_for_stderr_line(self.proc, r"connection from 127\.0\.0\.1:%d" % s.getsockname()[1])
        return s

    def stderr_line(self, pattern, timeout=10):
        return wait_for_stderr_line(self.proc, pattern, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)


def read_until(sock, expected, timeout=10):
    """Reads until `expected` (bytes) has arrived in full; returns all that came (bounded)."""
    data = b""
    deadline = time.monotonic() + timeout
    while expected not in data and time.monotonic() < deadline and len(data) < 1 << 20:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def silence(sock, wait=0.3):
    """What arrives within `wait` seconds (expected: nothing)."""
    sock.settimeout(wait)
    try:
        return sock.recv(65536)
    except socket.timeout:
        return b""


class BrokerTest(unittest.TestCase):
    def test_each_client_gets_what_the_others_and_stdin_send_but_not_its_own(self):
        with Broker("--broker") as broker:
            a, b, c = broker.connect(), broker.connect(), broker.connect()
            a.sendall(b"from a\n")
            self.assertEqual(read_until(b, b"from a\n"), b"from a\n")
            self.assertEqual(read_until(c, b"from a\n"), b"from a\n")
            c.sendall(b"from c\x00\xff")
            self.assertEqual(read_until(a, b"from c\x00\xff"), b"from c\x00\xff")
            self.assertEqual(read_until(b, b"from c\x00\xff"), b"from c\x00\xff")
            broker.proc.stdin.write("from stdin\n")
            broker.proc.stdin.flush()
            for s in (a, b, c):
                self.assertEqual(read_until(s, b"from stdin\n"), b"from stdin\n")
            self.assertEqual(silence(a), b"", "no client gets its own bytes back")
            b.close()
            broker.stderr_line(r"closed: disconnected")
            a.sendall(b"still here")
            self.assertEqual(read_until(c, b"still here"), b"still here")
            for s in (a, c):
                s.close()
            self.assertIsNone(broker.proc.poll(), "the broker keeps running")

    def test_a_client_that_never_reads_is_dropped_and_memory_stays_bounded(self):
        with Broker("--broker", "--broker-queue", "65536") as broker:
            hog = socket.socket()
            hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            hog.connect(("127.0.0.1", broker.port))
            broker.stderr_line(r"connection from 127\.0\.0\.1:%d" % hog.getsockname()[1])
            sender, reader = broker.connect(), broker.connect()
            got = []

            def read_all():
                reader.settimeout(30)
                total = 0
                while total < 64 << 20:
                    chunk = reader.recv(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
                got.append(total)

            thread = threading.Thread(target=read_all)
            thread.start()
            start_memory = ProcessTree(broker.proc.pid).memory_kib()
            block = os.urandom(1 << 20)
            sender.settimeout(30)
            for _ in range(64):  # 64 MiB, far more than the hog's socket buffers and its queue
                sender.sendall(block)
            thread.join(60)
            line = broker.stderr_line(r"dropped client 127\.0\.0\.1:%d: it does not read" % hog.getsockname()[1])
            self.assertIn("more than the 65536 allowed", line.string)
            self.assertEqual(got, [64 << 20], "the reading client got every byte")
            grown = ProcessTree(broker.proc.pid).memory_kib() - start_memory
            # 64 MiB went through; the hog's queue is at most 64 KiB. ASan's quarantine keeps
            # freed buffers for a while, so it gets more room.
            self.assertLess(grown, (64 if sanitized() else 16) * 1024, f"grew {grown} KiB")
            hog.settimeout(10)
            leftover = b""
            try:
                while chunk := hog.recv(1 << 20):
                    leftover += chunk
            except ConnectionResetError:
                pass
            self.assertLess(len(leftover), 16 << 20, "the hog was cut off")
            for s in (hog, sender, reader):
                s.close()


class ChatTest(unittest.TestCase):
    def test_three_clients_chat_with_names_and_announcements_as_ncat(self):
        with Broker("--chat") as broker:
            a = broker.connect()
            # Names are the broker's descriptor numbers, as in ncat: learn them from the text.
            first = read_until(a, b"already connected: nobody.\n")
            ua = re.search(rb"is connected as <user(\d+)>", first).group(1).decode()
            self.assertEqual(first, f"<announce> 127.0.0.1 is connected as <user{ua}>.\n"
                                    "<announce> already connected: nobody.\n".encode())
            b = broker.connect()
            joined = read_until(b, b".\n<announce> already connected: ")
            joined += read_until(b, b">.\n") if not joined.endswith(b">.\n") else b""
            ub = re.search(rb"is connected as <user(\d+)>", joined).group(1).decode()
            told = (f"<announce> 127.0.0.1 is connected as <user{ub}>.\n"
                    f"<announce> already connected: 127.0.0.1 as <user{ua}>.\n").encode()
            self.assertEqual(joined, told)
            self.assertEqual(read_until(a, told), told)
            c = broker.connect()
            everyone = f"127.0.0.1 as <user{ua}>, 127.0.0.1 as <user{ub}>.\n".encode()
            for s in (a, b, c):
                self.assertIn(everyone, read_until(s, everyone))
            a.sendall(b"hello ")
            a.sendall(b"world\n\x01bell\n")
            for s in (b, c):
                self.assertEqual(read_until(s, b"bell\n"), f"<user{ua}> hello world\n<user{ua}> \\001bell\n".encode())
            self.assertEqual(silence(a), b"")
            broker.proc.stdin.write("operator here\n")
            broker.proc.stdin.flush()
            for s in (a, b, c):
                self.assertEqual(read_until(s, b"here\n"), b"<user0> operator here\n")
            b.sendall(b"unfinished")
            b.close()
            for s in (a, c):
                self.assertEqual(read_until(s, b"disconnected.\n"),
                                 f"<user{ub}> unfinished\n<announce> <user{ub}> is disconnected.\n".encode())
            for s in (a, c):
                s.close()


class UsageTest(unittest.TestCase):
    def test_broker_needs_listen_and_plain_streams(self):
        for args in (["--broker", "127.0.0.1", "9"], ["--chat", "-l", "-u", "9"], ["--broker", "-l", "--ssl", "9"]):
            proc = subprocess.run([SOCKIT, "nc", *args], capture_output=True, timeout=30)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))


if __name__ == "__main__":
    unittest.main()
