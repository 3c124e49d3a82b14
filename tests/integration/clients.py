"""Real clients for every service, each checking exact bytes: python3 versions of the notes' own
clients (seeds 000-004), nc and socat. Each check takes (test, host, port) and fails the test."""

import re
import socket
import struct
import subprocess
import time

from harness import connect, read_line, recv_exactly, recv_until_eof, udp_ask, udp_silence

CTIME_LINE = re.compile(rb"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        rb"[ 123]\d \d\d:\d\d:\d\d \d{4}\r\n$")
SECONDS_1900_TO_1970 = 2208988800
RING = bytes(range(32, 127))  # the 95 printable ASCII characters of RFC 864


def tool(args, data=b"", timeout=10):
    """Runs an external client (nc, socat) with `data` on stdin; returns its stdout bytes."""
    proc = subprocess.run(args, input=data, capture_output=True, timeout=timeout)
    return proc.stdout


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def check_chargen_lines(test, data):
    """RFC 864: lines of 72 printable characters + CRLF, each starting one character further on the ring."""
    lines = data.split(b"\r\n")
    complete = lines[:-1]
    test.assertGreater(len(complete), 0, data[:200])
    for line in complete:
        test.assertEqual(len(line), 72, line)
        start = RING.index(line[:1])
        test.assertEqual(line, (RING * 2)[start:start + 72], line)
    for a, b in zip(complete, complete[1:]):
        test.assertEqual(RING.index(b[:1]), (RING.index(a[:1]) + 1) % len(RING))


# ---- TCP ----

def echo_notes_client(test, host, port):
    """Seed 003's echoclient: a line out, the same line back, until done; NUL and high bytes too."""
    with connect(host, port) as s:
        for line in (b"hello\n", b"a\0b\xff\n", b"x" * 5000 + b"\n"):
            s.sendall(line)
            test.assertEqual(recv_exactly(s, len(line)), line)


def echo_socat_binary_stream(test, host, port):
    data = bytes((i * 7 + i // 256) % 256 for i in range(200_000))
    out = tool(["socat", "-t", "5", "-", f"TCP:{host}:{port}"], data)
    test.assertEqual(out, data)


def echo_nc_lines(test, host, port):
    test.assertEqual(tool(["nc", "-N", host, str(port)], b"one\ntwo\n"), b"one\ntwo\n")


def discard_sends_nothing(test, host, port):
    with connect(host, port) as s:
        s.sendall(b"x" * 100_000)
        s.shutdown(socket.SHUT_WR)
        test.assertEqual(recv_until_eof(s), b"")


def discard_nc(test, host, port):
    test.assertEqual(tool(["nc", "-N", host, str(port)], b"anything\n" * 100), b"")


def chargen_rfc864_lines(test, host, port):
    with connect(host, port) as s:
        check_chargen_lines(test, recv_exactly(s, 74 * 40))


def chargen_nc(test, host, port):
    out = tool(["sh", "-c", f"nc {host} {port} </dev/null | head -c 740"])
    test.assertEqual(len(out), 740)
    check_chargen_lines(test, out + b"")


def daytime_inetd_line(test, host, port):
    with connect(host, port) as s:
        test.assertRegex(recv_until_eof(s), CTIME_LINE)


def daytime_nc(test, host, port):
    test.assertRegex(tool(["nc", "-d", host, str(port)]), CTIME_LINE)


def time_rfc868(test, host, port):
    with connect(host, port) as s:
        reply = recv_until_eof(s)
    test.assertEqual(len(reply), 4, reply)
    (value,) = struct.unpack("!I", reply)
    test.assertAlmostEqual(value, time.time() + SECONDS_1900_TO_1970, delta=5)


def time_socat(test, host, port):
    reply = tool(["socat", "-u", f"TCP:{host}:{port}", "-"])
    test.assertEqual(len(reply), 4, reply)


def fib_notes_client(test, host, port):
    """Seed 000's fib client, as is: one request, `int(s.recv(10))`."""
    n = 37
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    s.send(f"{n}\n".encode("utf-8"))
    r = int(s.recv(10))
    s.close()
    test.assertEqual(r, 24157817)


def fib_many_requests_both_terminators(test, host, port):
    with connect(host, port) as s:
        s.sendall(b"0\n1\n10\n")
        s.sendall(b"30\x0020")
        s.sendall(b"\n1000\n")
        want = [0, 1, 55, 832040, 6765, fib(1000)]
        got = [int(read_line(s)) for _ in want]
        test.assertEqual(got, want)


def fib_bad_input_keeps_connection(test, host, port):
    with connect(host, port) as s:
        s.sendall(b"abc\n-5\n12\n")
        test.assertTrue(read_line(s).startswith(b"ERR"))
        test.assertTrue(read_line(s).startswith(b"ERR"))
        test.assertEqual(read_line(s), b"144\n")


def fib_nc(test, host, port):
    test.assertEqual(tool(["nc", "-N", host, str(port)], b"10\n20\n"), b"55\n6765\n")


def upper_notes_client(test, host, port):
    """Seed 004's TCP client: text without newline, reply in upper case; 'quit' ends the session."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((host, port))
    for txtout in ("hello world", "Mixed Case 123"):
        s.send(txtout.encode("utf-8"))
        test.assertEqual(s.recv(2048).decode("utf-8"), txtout.upper())
    s.send(b"quit")
    test.assertEqual(recv_until_eof(s), b"")
    s.close()


def upper_nc_quit_ends_session(test, host, port):
    test.assertEqual(tool(["nc", host, str(port)], b"abc\nquit\n"), b"ABC\n")


def incr_two_bytes_big_endian(test, host, port):
    with connect(host, port) as s:
        for value, want in ((1, 2), (-2, -1), (32767, -32768)):
            wire = struct.pack("!h", value)
            s.sendall(wire[:1])
            time.sleep(0.01)
            s.sendall(wire[1:])
            test.assertEqual(struct.unpack("!h", recv_exactly(s, 2))[0], want)


TCP_CHECKS = {
    "echo": [echo_notes_client, echo_socat_binary_stream, echo_nc_lines],
    "discard": [discard_sends_nothing, discard_nc],
    "chargen": [chargen_rfc864_lines, chargen_nc],
    "daytime": [daytime_inetd_line, daytime_nc],
    "time": [time_rfc868, time_socat],
    "fib": [fib_notes_client, fib_many_requests_both_terminators, fib_bad_input_keeps_connection, fib_nc],
    "upper": [upper_notes_client, upper_nc_quit_ends_session],
    "incr": [incr_two_bytes_big_endian],
}


def tcp_exchange(service, host, port, i):
    """One short, checkable exchange with `service` for client number `i` (for concurrency tests)."""
    with connect(host, port, timeout=20) as s:
        if service == "echo":
            data = f"client {i} ".encode() * 200
            s.sendall(data)
            return recv_exactly(s, len(data)) == data
        if service == "fib":
            s.sendall(f"{i}\n".encode())
            return int(read_line(s)) == fib(i)
        if service == "upper":
            s.sendall(f"client {i}\n".encode())
            return read_line(s) == f"CLIENT {i}\n".encode()
        if service == "incr":
            s.sendall(struct.pack("!h", i))
            return struct.unpack("!h", recv_exactly(s, 2))[0] == i + 1
        if service == "discard":
            s.sendall(b"x" * 1000)
            s.shutdown(socket.SHUT_WR)
            return recv_until_eof(s) == b""
        if service == "chargen":
            return len(recv_exactly(s, 740)) == 740
        if service == "daytime":
            return CTIME_LINE.match(recv_until_eof(s)) is not None
        if service == "time":
            return len(recv_until_eof(s)) == 4
    raise AssertionError(f"no exchange for {service}")


# ---- UDP ----

def udp_echo_datagrams(test, host, port):
    for payload in (b"ping", b"a\0b\xff", b"x" * 60000):
        test.assertEqual(udp_ask(host, port, payload), payload)


def udp_echo_nc(test, host, port):
    test.assertEqual(tool(["nc", "-u", "-w1", host, str(port)], b"hi\n"), b"hi\n")


def udp_discard_never_answers(test, host, port):
    test.assertTrue(udp_silence(host, port, b"anything"))


def udp_chargen_one_datagram(test, host, port):
    reply = udp_ask(host, port, b"x")
    test.assertIsNotNone(reply)
    test.assertLessEqual(len(reply), 512)
    check_chargen_lines(test, reply)


def udp_daytime_inetd_line(test, host, port):
    test.assertRegex(udp_ask(host, port, b"x"), CTIME_LINE)


def udp_time_rfc868(test, host, port):
    reply = udp_ask(host, port, b"x")
    (value,) = struct.unpack("!I", reply)
    test.assertAlmostEqual(value, time.time() + SECONDS_1900_TO_1970, delta=5)


def udp_upper_notes_client(test, host, port):
    """Seed 004's UDP client: datagrams upper-cased; 'quit' gets no reply and stops no server."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    addr = (host, port)
    for txtout in ("hello", "quit", "still there"):
        s.sendto(txtout.encode("utf-8"), addr)
        if txtout == "quit":
            continue
        modified, _ = s.recvfrom(2048)
        test.assertEqual(modified.decode("utf-8"), txtout.upper())
    s.close()


def udp_length_notes_client(test, host, port):
    """Seed 001's client: connected UDP with exponential back-off."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
    delay = 0.1
    while True:
        sock.send(b"Send this message!")
        sock.settimeout(delay)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            delay *= 2
            if delay > 2.0:
                raise RuntimeError("Maybe the server is down")
        else:
            break
    sock.close()
    test.assertEqual(data, b"The msg was 18 bytes long")


def udp_incr_notes_client(test, host, port):
    """Seed 002's client: struct.pack('!h', 1) out, 2 back; 32767 wraps; a wrong size gets nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for value, want in ((1, 2), (32767, -32768)):
        s.sendto(struct.pack("!h", value), (host, port))
        data, _ = s.recvfrom(1024)
        test.assertEqual(struct.unpack("!h", data)[0], want)
    s.close()
    test.assertTrue(udp_silence(host, port, b"abc"))


UDP_CHECKS = {
    "echo": [udp_echo_datagrams, udp_echo_nc],
    "discard": [udp_discard_never_answers],
    "chargen": [udp_chargen_one_datagram],
    "daytime": [udp_daytime_inetd_line],
    "time": [udp_time_rfc868],
    "upper": [udp_upper_notes_client],
    "length": [udp_length_notes_client],
    "incr": [udp_incr_notes_client],
}


def udp_exchange(service, host, port, i):
    payload = {"incr": struct.pack("!h", i)}.get(service, f"client {i}".encode())
    want = {
        "echo": payload,
        "upper": payload.upper(),
        "length": f"The msg was {len(payload)} bytes long".encode(),
        "incr": struct.pack("!h", i + 1),
    }.get(service)
    if want is None:
        return True
    return udp_ask(host, port, payload, timeout=3.2) == want
