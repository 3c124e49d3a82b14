#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/TARGET/ (seed-*): requests each protocol expects,
laid out the way the target's FuzzedDataProvider reads its input (plain bytes from the front;
choices - splits, budgets, actions - from the back, each integer big-endian in as many bytes
as its range needs). The captured socket-lister seeds come from capture_sockets.py.

    python3 fuzz/seeds/make_seeds.py fuzz/corpus
"""
import hashlib
import os
import struct
import sys


class Seed:
    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in the order the target consumes it

    def data(self, b):
        self.front += b
        return self

    def int_in(self, value, lo, hi):
        span = hi - lo
        n = max(1, (span.bit_length() + 7) // 8)
        self.back += (value - lo).to_bytes(n, "big")
        return self

    def boolean(self, b):
        return self.int_in(1 if b else 0, 0, 255)

    def clock(self, value):
        """The targets' clock: nanoseconds in [INT64_MIN + 1e9, INT64_MAX - 1e9]."""
        self.back += (value + 2**63 - 10**9).to_bytes(8, "big")
        return self

    def u(self, value, bits):
        self.back += value.to_bytes(bits // 8, "big")
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


BUDGETS = [1, 2, 3, 4, 5, 7, 8, 16, 63, 64, 100, 1000, 4096, 1 << 20]


def session(seed, payload, budget=1 << 20, chunks=None):
    """SessionDriver: a budget, then arrivals of the payload in `chunks` (default: one)."""
    seed.int_in(BUDGETS.index(budget), 0, len(BUDGETS) - 1)
    chunks = chunks or [128] * ((len(payload) + 127) // 128)
    at = 0
    for n in chunks:
        part = payload[at:at + n]
        at += n
        if not part:
            break
        seed.int_in(0, 0, 7).int_in(len(part), 1, 128).data(part)
    return seed


def bytewise(payload):
    return [1] * len(payload)


def random_length_string(text):
    """What ConsumeRandomLengthString reads back as `text`: backslashes doubled, and a backslash
    followed by another byte to end it."""
    return text.replace(b"\\", b"\\\\") + b"\\e"


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def session_seeds(out, target, payloads, prefix=lambda s: s):
    for name, payload in payloads.items():
        write(out, target, name, session(prefix(Seed()), payload).bytes())
        write(out, target, name + "-bytewise-budget-1", session(prefix(Seed()), payload, 1, bytewise(payload)).bytes())
        write(out, target, name + "-budget-4", session(prefix(Seed()), payload, 4, [3, 5, 100]).bytes())


def tracker_request(command, digest, ip, port):
    return b"CASC" + struct.pack(">III", 1, command, 38) + digest + struct.pack(">IH", ip, port)


def block_request(index, digest):
    return b"CASCADE1" + bytes(16) + struct.pack(">Q", index) + digest


def main():
    out = sys.argv[1]
    # Sessions.
    text = {"lines": b"hello\nworld\n", "binary": bytes(range(256))[:120], "crlf": b"a\r\nb\r\n"}
    session_seeds(out, "session_echo", text)
    session_seeds(out, "session_discard", text)
    session_seeds(out, "session_chargen", {"ignored": b"anything\n"})
    session_seeds(out, "session_incr", {"pairs": b"\x00\x01\x7f\xff\xff\xff\x80\x00", "odd": b"\x00\x01\x02"})
    session_seeds(out, "session_upper", {"lines": b"hello\nMiXeD 123\n", "quit-line": b"abc\nquit\ndef\n",
                                         "quit-crlf": b"x\r\nquit\r\n", "quit-chunk": b"quit",
                                         "quitter": b"quitter\n"})
    fib = {"small": b"0\n1\n10\n", "nul": b"12\x0020\x00", "bad": b"abc\n-1\n+7\n 5 \n\n", "big": b"10000\n10001\n",
           "long-line": b"1" * 70 + b"\n3\n", "last-without-end": b"9\n8"}
    for i, max_line in enumerate([1, 2, 3, 5, 8, 40, 8192]):
        if max_line in (5, 8192):
            session_seeds(out, "session_fib", {f"{k}-max{max_line}": v for k, v in fib.items()},
                          prefix=lambda s, i=i: s.int_in(i, 0, 6))
    now = 1_764_590_400 * 10**9 + 123_456_000  # 2025-12-01 12:00:00.123456 UTC
    for name, t in {"now": now, "epoch": 0, "before-1970": -10**9 - 1, "2036-wrap": 2_085_978_496 * 10**9}.items():
        write(out, "session_time", name, session(Seed().clock(t), b"x").bytes())
        for iso in (False, True):
            write(out, "session_daytime", f"{name}-{'iso' if iso else 'inetd'}",
                  session(Seed().boolean(iso).clock(t), b"").bytes())

    # UDP answers: one per service (index into the catalog's UDP services, then daytime iso).
    for i in range(9):
        for name, datagram in {"text": b"hello world\n", "quit": b"quit\n", "pair": b"\x12\x34", "empty": b""}.items():
            write(out, "udp_answer", f"{i}-{name}", Seed().int_in(i, 0, 8).clock(now).data(datagram).bytes())

    # Addresses.
    for i, a in enumerate([b"127.0.0.1:7", b"[::1]:9000", b"[::ffff:10.1.2.3]:80", b"unix:/run/x.sock",
                           b"0.0.0.0:0", b"[fe80::1%lo]:1", b"localhost:80", b"1.2.3.4:65536", b"[::1]"]):
        write(out, "address", str(i), a)

    # The line reader: buffer size, max, ends, then writes and reads.
    def reader(buffer, max_index, nul, steps):
        s = Seed().int_in(buffer, 1, 40).int_in(max_index, 0, 7).boolean(nul)
        for step in steps:
            if isinstance(step, bytes):
                s.int_in(0, 0, 4).int_in(len(step), 1, 64).data(step)
            else:
                s.int_in(step, 0, 4)
                if step == 3:
                    s.int_in(3, 0, 64)
                elif step == 4:
                    s.int_in(5, 1, 64)
        return s.bytes()
    write(out, "line_reader", "lines", reader(8, 5, False, [b"first line\nsec", 2, b"ond\n", 2, 2]))
    write(out, "line_reader", "nul-ends", reader(3, 4, True, [b"a\x00bb\x00ccc\n", 2, 2, 3, 4, 2]))
    write(out, "line_reader", "too-long", reader(1, 2, False, [b"abcdef\n", 2]))
    write(out, "line_reader", "exact-and-some", reader(40, 7, False, [b"0123456789", 3, 4, b"\nend", 2]))

    # Cascade files: the course's layout.
    def cascade(size, block, blocks):
        return (b"CASCADE1" + bytes(8) + struct.pack(">QQ", size, block) + hashlib.sha256(b"t").digest() +
                b"".join(hashlib.sha256(bytes([i])).digest() for i in range(blocks)))
    write(out, "cascade_file", "three-blocks", cascade(25, 10, 3))
    write(out, "cascade_file", "empty-target", cascade(0, 1024, 0))
    write(out, "cascade_file", "trailing", cascade(10, 10, 1) + b"extra")
    write(out, "cascade_file", "too-few-hashes", cascade(100, 10, 2))
    write(out, "cascade_file", "short", b"CASCADE1")

    # Tracker requests (session), against the hash the target tracks.
    tracked = hashlib.sha256(b"tracked").digest()
    def tracker(payload, allow_any, peers, chunks=None):
        s = Seed().boolean(allow_any).boolean(False).u(0x0A000001, 32).int_in(4, 0, 4).u(42, 64).u(1_764_590_400, 32)
        s.int_in(len(peers), 0, 6)
        for ip, port, good, age in peers:
            s.u(ip, 32).u(port, 16).boolean(good).int_in(age, 0, 3600)
        s.boolean(True).int_in(0, 0, 4)
        return session(s, payload, 1 << 20, chunks).bytes()
    peers = [(0x01020304, 6881, True, 10), (0x05060708, 6882, False, 100), (0x7F000001, 6883, False, 3599)]
    write(out, "tracker_request", "subscribe", tracker(tracker_request(2, tracked, 0x0A000001, 7000), False, peers))
    write(out, "tracker_request", "list-split", tracker(tracker_request(1, tracked, 0x7F000001, 7001), False, peers, [3, 13, 38]))
    write(out, "tracker_request", "untracked", tracker(tracker_request(1, bytes(32), 1, 1), False, []))
    write(out, "tracker_request", "any", tracker(tracker_request(2, bytes(32), 0x08080808, 1), True, peers))
    write(out, "tracker_request", "bad-magic", tracker(b"GET / HTTP/1.0\r\n\r\n", True, []))
    write(out, "tracker_request", "short", tracker(tracker_request(2, tracked, 1, 1)[:30], False, []))

    # Tracker responses: command, hash byte, self, close at end, then the answer in chunks.
    def response(answer, chunks, close):
        s = Seed().boolean(True).u(7, 8).u(0x7F000001, 32).u(6881, 16).boolean(close)
        at = 0
        for n in chunks:
            s.int_in(1, 0, 15).int_in(n, 1, 300).data(answer[at:at + n])
            at += n
        return s.bytes()
    entries = b"".join(struct.pack(">IHIBx", ip, port, 1_764_590_000, good) for ip, port, good in
                       [(0x01020304, 6881, 1), (0x05060708, 6882, 0)])
    ok = b"\x00" + struct.pack(">I", len(entries)) + entries
    write(out, "tracker_response", "two-peers", response(ok, [len(ok)], False))
    write(out, "tracker_response", "two-peers-split", response(ok, [1, 4, 7, 100], True))
    refused = b"\x01" + struct.pack(">I", 20) + b"untracked cascade ha"
    write(out, "tracker_response", "refused", response(refused, [len(refused)], True))
    write(out, "tracker_response", "cut-short", response(ok[:9], [9], True))
    write(out, "tracker_response", "oversize", response(b"\x00\x00\x01\x00\x01", [5], False))

    # Block requests (session) against the target's file of blocks.
    served = hashlib.sha256(b"served").digest()
    pipelined = b"".join(block_request(i, served) for i in (0, 1, 2, 3))
    write(out, "block_request", "pipelined", session(Seed(), pipelined, 16, [64, 64, 64, 64]).bytes())
    write(out, "block_request", "pipelined-one-chunk", session(Seed(), pipelined[:128]).bytes())
    write(out, "block_request", "past-end", session(Seed(), block_request(9, served)).bytes())
    write(out, "block_request", "unknown", session(Seed(), block_request(0, bytes(32))).bytes())
    write(out, "block_request", "bad-magic", session(Seed(), b"CASCADE2" + block_request(0, served)[8:]).bytes())
    write(out, "block_request", "short", session(Seed(), block_request(0, served)[:40]).bytes())

    # Block answers: max message, then requests in flight and the answers in chunks.
    def answers(max_index, blocks, stream, chunks, via_feed=True):
        s = Seed().int_in(max_index, 0, 5)
        for b in blocks:
            s.int_in(0, 0, 3).int_in(b, 0, 7)
        at = 0
        for n in chunks:
            s.int_in(1 if via_feed else 2, 0, 3).int_in(n, 1, 80).data(stream[at:at + n])
            if not via_feed:
                s.int_in(80, 1, 80)
            at += n
        return s.bytes()
    def frame(status, body):
        return bytes([status]) + struct.pack(">Q", len(body)) + body
    stream = frame(0, b"0123456789") + frame(2, b"block 1 is not here") + frame(0, b"x" * 9)
    write(out, "block_answer", "three", answers(3, [4, 1, 3], stream, [5, 20, 13, 40]))
    write(out, "block_answer", "three-commit", answers(3, [4, 1, 3], stream, [5, 20, 13, 40], False))
    write(out, "block_answer", "stray", answers(3, [], frame(4, b"closing"), [16]))
    write(out, "block_answer", "wrong-length", answers(3, [4], frame(0, b"short"), [14]))
    write(out, "block_answer", "too-long", answers(1, [4], frame(1, b"a message"), [18]))

    # Bench replies: workload, size, fib n, udp, (raw: send, expect), max_line, pieces, stream.
    def bench(workload, stream, n=27, size=8, pieces=(), repeat=0, raw=None):
        s = Seed().int_in(workload, 0, 6).int_in(size, 1, 100).int_in(n, 0, 200).boolean(False)
        if workload == 6:
            send, expect = raw
            s.data(random_length_string(send))
            if isinstance(expect, bytes):
                s.boolean(True).data(random_length_string(expect))
            else:
                s.boolean(False).int_in(expect, 0, 40)
        s.int_in(100, 1, 200).int_in(len(pieces), 0, 16)
        for p in pieces:
            s.int_in(p, 1, 40)
        if workload in (0, 1, 6) and (workload != 6 or isinstance(raw[1], bytes)):
            s.boolean(repeat > 0)
            if repeat:
                s.int_in(repeat, 1, 4)
        return s.data(stream).bytes()
    write(out, "bench_reply", "echo-pipelined", bench(0, b"", size=8, repeat=3, pieces=(3, 7, 20)))
    write(out, "bench_reply", "fib", bench(1, b"196418\n196418\n", n=27, pieces=(2, 5)))
    write(out, "bench_reply", "time", bench(2, b"\xec\xd1\x6a\x40"))
    write(out, "bench_reply", "daytime", bench(3, b"Mon Dec  1 12:00:00 2025\r\n", pieces=(4, 30)))
    write(out, "bench_reply", "raw-exact", bench(6, b"pong\r\n", raw=(b"ping\\r\\n", b"pong\\r\\n")))

    # The HTTP response parser: HEAD or not, the pieces, then the response stream.
    def http(stream, head=False, pieces=()):
        s = Seed().boolean(head).int_in(len(pieces), 0, 32)
        for p in pieces:
            s.int_in(p, 1, 64)
        return s.data(stream).bytes()
    nginx = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 17:00:00 GMT\r\n"
             b"Content-Type: text/plain\r\nContent-Length: 10\r\nConnection: keep-alive\r\n"
             b"ETag: \"6929a1b0-a\"\r\nAccept-Ranges: bytes\r\n\r\n0123456789")
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=\"v\"\r\nhello\r\n"
               b"A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")
    write(out, "http_response", "content-length-pipelined", http(nginx * 3, pieces=(7, 30, 64, 1, 64)))
    write(out, "http_response", "chunked-split", http(chunked + nginx, pieces=(3, 50, 2, 9, 1, 1, 40)))
    write(out, "http_response", "head", http(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" * 2, head=True))
    write(out, "http_response", "no-body-codes", http(b"HTTP/1.1 204 No Content\r\n\r\n"
                                                      b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"))
    write(out, "http_response", "interim", http(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                                                 b"Link: </a.css>\r\n\r\n" + nginx))
    write(out, "http_response", "close-delimited", http(b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\nbody"))
    write(out, "http_response", "not-found-close", http(b"HTTP/1.1 404 Not Found\nContent-Length: 3\n"
                                                        b"Connection: close\n\nno!", pieces=(1,) * 20))
    write(out, "http_response", "huge-chunk", http(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                   b"ffffffffffffffffff\r\n"))
    write(out, "http_response", "both-lengths", http(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                                                     b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
    write(out, "bench_reply", "raw-count", bench(6, b"\x01\x02\x03", raw=(b"\\x00\\x01", 2)))

    # The whole server: service, (chargen: how much to read), then writes, pauses, reads.
    services = ["echo", "fib", "upper", "incr", "discard", "chargen", "daytime", "time"]
    def server(service, steps, wanted=None):
        s = Seed().int_in(services.index(service), 0, 7)
        if service == "chargen":
            s.int_in(wanted, 1, 20000)
        for step in steps:
            if isinstance(step, bytes):
                s.int_in(0, 0, 9).int_in(len(step), 1, 300).data(step)
            elif step == "pause":
                s.int_in(5, 0, 9).int_in(20, 0, 50)
            elif step == "read":
                s.int_in(7, 0, 9).int_in(100, 1, 2000)
            elif step == "close":
                s.int_in(9, 0, 9)
        return s.bytes()
    write(out, "server", "echo", server("echo", [b"hello ", "pause", b"world\n", "read", b"x" * 300]))
    write(out, "server", "fib-pipelined", server("fib", [b"10000\n" * 40, "pause", b"1\n2\n3"]))
    write(out, "server", "fib-bad", server("fib", [b"abc\n", b"1" * 100 + b"\n", b"7\x00", "close", b"8\n"]))
    write(out, "server", "upper", server("upper", [b"hello\n", "read", b"quit\n"]))
    write(out, "server", "incr", server("incr", [b"\x00", "pause", b"\x01\x7f\xff" * 100, "read"]))
    write(out, "server", "discard", server("discard", [b"z" * 300, b"z" * 300]))
    write(out, "server", "chargen", server("chargen", [b"x", "read", "pause"], wanted=10000))
    write(out, "server", "daytime", server("daytime", [b"anything\n"]))
    write(out, "server", "time", server("time", []))


if __name__ == "__main__":
    main()
