"""`sockit serve http`: static files over HTTP/1.1 (issue 13), checked with curl, raw sockets and nc,
and every response read back by an independent strict parser (h11, Debian's python3-h11)."""

import contextlib
import email.utils
import gzip
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from harness import list_models, netns_available, run_in_netns, serve

try:
    import h11
except ImportError:  # the tests' Python may be another build than Debian's: take Debian's copy
    sys.path.append("/usr/lib/python3/dist-packages")
    import h11

NUMBERS = "".join(f"{i}\n" for i in range(1, 1001)).encode()
SECRET = b"root:x:0:0"  # what /etc/passwd starts with: never in a response


def make_site(root):
    os.makedirs(os.path.join(root, "sub"))
    os.makedirs(os.path.join(root, "listing", "inner"))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<h1>home</h1>\n")
    with open(os.path.join(root, "numbers.txt"), "wb") as f:
        f.write(NUMBERS)
    with gzip.open(os.path.join(root, "numbers.txt.gz"), "wb") as f:
        f.write(NUMBERS)
    with open(os.path.join(root, "sub", "style.css"), "w") as f:
        f.write("body { color: black; }\n")
    with open(os.path.join(root, "sub", "index.html"), "w") as f:
        f.write("<p>sub</p>\n")
    for name in ("a&b<c>.txt", "space name.txt", '"quoted".txt'):
        with open(os.path.join(root, "listing", name), "w") as f:
            f.write("x")
    with open(os.path.join(root, "%2e%2e"), "w") as f:
        f.write("a file named %2e%2e\n")
    os.symlink("/etc/passwd", os.path.join(root, "passwd"))
    os.symlink("/etc", os.path.join(root, "etc"))
    os.symlink("../../../../../../etc/passwd", os.path.join(root, "climb"))
    os.symlink("numbers.txt", os.path.join(root, "inside-link.txt"))
    os.mkfifo(os.path.join(root, "fifo"))


def exchange(port, data, timeout=10, host="127.0.0.1"):
    """Sends `data`, half-closes, returns everything until the server closes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def parse(raw, methods):
    """Reads responses to `methods` (one per request, in order) with h11 acting as the client;
    h11 raises if any of them breaks the protocol. Returns [(status, {name: value}, body)]."""
    client = h11.Connection(h11.CLIENT)
    responses = []
    for method in methods:
        client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        client.send(h11.EndOfMessage())
        status, fields, body = None, {}, b""
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                if not raw:
                    raise AssertionError(f"response to {method} cut short after {len(responses)} responses")
                client.receive_data(raw[:4096])
                raw = raw[4096:]
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                fields = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise AssertionError("connection closed before a response ended")
        responses.append((status, fields, body))
        if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
            break
        client.start_next_cycle()
    return responses


def get(port, target, *fields, method="GET", version="1.1", close=True):
    lines = [f"{method} {target} HTTP/{version}", "Host: test", *fields]
    if close:
        lines.append("Connection: close")
    raw = exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    return parse(raw, [method])[0]


class HttpServer(unittest.TestCase):
    model = "epoll"
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.root = os.path.join(cls.dir.name, "root")
        os.mkdir(cls.root)
        make_site(cls.root)
        cls.log_path = os.path.join(cls.dir.name, "access.log")
        cls.server, where = serve(["http"], "--root", cls.root, "--model", cls.model, "--access-log", cls.log_path,
                                  *cls.extra)
        cls.port = where[("http", "tcp")][1]

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.dir.cleanup()


class Files(HttpServer):
    def test_whole_file_with_every_header(self):
        status, fields, body = get(self.port, "/numbers.txt")
        self.assertEqual((status, body), (200, NUMBERS))
        self.assertEqual(fields["content-length"], str(len(NUMBERS)))
        self.assertEqual(fields["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(fields["server"], "sockit")
        self.assertEqual(fields["accept-ranges"], "bytes")
        self.assertRegex(fields["etag"], r'^"[0-9a-f-]+"$')
        mtime = os.stat(os.path.join(self.root, "numbers.txt")).st_mtime
        self.assertEqual(email.utils.parsedate_to_datetime(fields["last-modified"]).timestamp(), int(mtime))
        self.assertLess(abs(email.utils.parsedate_to_datetime(fields["date"]).timestamp() - time.time()), 60)

    def test_a_head_and_a_small_body_arrive_in_one_segment(self):
        # The head goes with MSG_MORE and the body's sendfile() pushes both: one TCP segment per
        # response instead of two. Counted by the client's TCP_INFO (tcpi_segs_in, offset 140).
        def segments_in(s):
            return struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), 140)[0]

        request = b"GET /sub/style.css HTTP/1.1\r\nHost: a\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            before, responses = segments_in(s), 20
            for _ in range(responses):
                s.sendall(request)
                raw = b""
                while not raw.endswith(b"body { color: black; }\n"):
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, "the server closed the connection")
                    raw += chunk
                time.sleep(0.005)
            received = segments_in(s) - before
        self.assertLessEqual(received, responses * 1.25, f"{received} segments for {responses} responses")

    def test_head_has_the_headers_and_no_body(self):
        _, got, _ = get(self.port, "/numbers.txt")
        status, fields, body = get(self.port, "/numbers.txt", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual({k: v for k, v in fields.items() if k != "date"},
                         {k: v for k, v in got.items() if k != "date"})

    def test_index_html_and_redirect_to_the_slashed_directory(self):
        self.assertEqual(get(self.port, "/")[2], b"<h1>home</h1>\n")
        self.assertEqual(get(self.port, "/sub/")[2], b"<p>sub</p>\n")
        status, fields, _ = get(self.port, "/sub?x=1")
        self.assertEqual((status, fields["location"]), (301, "/sub/?x=1"))
        self.assertEqual(get(self.port, "/listing/")[0], 404, "no index.html and no --autoindex")
        self.assertEqual(get(self.port, "/numbers.txt/")[0], 404)
        self.assertEqual(get(self.port, "/nothing-here")[0], 404)

    def test_media_types_from_mime_types(self):
        self.assertEqual(get(self.port, "/sub/style.css")[1]["content-type"], "text/css; charset=utf-8")
        self.assertEqual(get(self.port, "/")[1]["content-type"], "text/html; charset=utf-8")

    def test_conditional_requests_answer_304(self):
        _, fields, _ = get(self.port, "/numbers.txt")
        etag, modified = fields["etag"], fields["last-modified"]
        for condition in (f"If-None-Match: {etag}", f"If-None-Match: W/{etag}", "If-None-Match: \"x\", " + etag,
                          "If-None-Match: *", f"If-Modified-Since: {modified}"):
            with self.subTest(condition=condition):
                status, got, body = get(self.port, "/numbers.txt", condition)
                self.assertEqual((status, body), (304, b""))
                self.assertEqual(got["etag"], etag)
        self.assertEqual(get(self.port, "/numbers.txt", 'If-None-Match: "other"')[0], 200)
        self.assertEqual(get(self.port, "/numbers.txt", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT")[0], 200)
        self.assertEqual(get(self.port, "/numbers.txt", "If-Modified-Since: yesterday")[0], 200)

    def test_ranges(self):
        size = len(NUMBERS)
        for spec, first, last in (("0-9", 0, 9), ("10-", 10, size - 1), ("-5", size - 5, size - 1),
                                  (f"0-{size * 2}", 0, size - 1)):
            with self.subTest(range=spec):
                status, fields, body = get(self.port, "/numbers.txt", f"Range: bytes={spec}")
                self.assertEqual(status, 206)
                self.assertEqual(fields["content-range"], f"bytes {first}-{last}/{size}")
                self.assertEqual(body, NUMBERS[first:last + 1])
        status, fields, _ = get(self.port, "/numbers.txt", f"Range: bytes={size}-")
        self.assertEqual((status, fields["content-range"]), (416, f"bytes */{size}"))
        self.assertEqual(get(self.port, "/numbers.txt", "Range: lines=1-2")[0], 200)

    def test_several_ranges_come_as_multipart_byteranges(self):
        status, fields, body = get(self.port, "/numbers.txt", "Range: bytes=0-1,10-12")
        self.assertEqual(status, 206)
        boundary = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", fields["content-type"]).group(1)
        parts = body.split(b"--" + boundary.encode())
        self.assertEqual(parts[-1], b"--\r\n")
        self.assertIn(b"Content-Range: bytes 0-1/3893\r\n\r\n" + NUMBERS[0:2] + b"\r\n", parts[1])
        self.assertIn(b"Content-Range: bytes 10-12/3893\r\n\r\n" + NUMBERS[10:13] + b"\r\n", parts[2])

    def test_if_range_applies_the_range_only_to_the_same_file(self):
        _, fields, _ = get(self.port, "/numbers.txt")
        self.assertEqual(get(self.port, "/numbers.txt", "Range: bytes=0-1", f"If-Range: {fields['etag']}")[0], 206)
        self.assertEqual(get(self.port, "/numbers.txt", "Range: bytes=0-1",
                             f"If-Range: {fields['last-modified']}")[0], 206)
        self.assertEqual(get(self.port, "/numbers.txt", "Range: bytes=0-1", 'If-Range: "old"')[0], 200)

    def test_precompressed_sibling_for_gzip_clients(self):
        status, fields, body = get(self.port, "/numbers.txt", "Accept-Encoding: gzip, deflate")
        self.assertEqual((status, fields["content-encoding"], fields["vary"]), (200, "gzip", "Accept-Encoding"))
        self.assertEqual(gzip.decompress(body), NUMBERS)
        for refused in ("gzip;q=0", "identity", "br"):
            with self.subTest(accept=refused):
                status, fields, body = get(self.port, "/numbers.txt", f"Accept-Encoding: {refused}")
                self.assertEqual((body, fields["vary"]), (NUMBERS, "Accept-Encoding"))
                self.assertNotIn("content-encoding", fields)
        self.assertNotIn("vary", get(self.port, "/sub/style.css", "Accept-Encoding: gzip")[1])

    def test_methods_other_than_get_and_head_get_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "BREW"):
            with self.subTest(method=method):
                raw = exchange(self.port, f"{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
                status, fields, _ = parse(raw, [method])[0]
                self.assertEqual((status, fields["allow"]), (405, "GET, HEAD"))

    def test_access_log_in_the_common_log_format(self):
        get(self.port, "/sub/style.css")
        time.sleep(0.2)
        with open(self.log_path) as f:
            lines = f.read().splitlines()
        pattern = (r'127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                   r'"GET /sub/style\.css HTTP/1\.1" 200 23')
        self.assertTrue(any(re.fullmatch(pattern, line) for line in lines), lines[-5:])


class Jail(HttpServer):
    """Issue 13: none of these returns a byte from outside the root."""

    def test_traversal_in_every_spelling(self):
        for target in ("/../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E/%2e%2e/etc/passwd", "/sub/../../etc/passwd",
                       "/..%2fetc%2fpasswd", "/%2f..%2f..%2fetc%2fpasswd", "/%252e%252e/etc/passwd",
                       "/numbers.txt%00.html", "/%00", "/..\\..\\etc\\passwd", "/passwd", "/etc/passwd",
                       "/climb", "/etc/", "/fifo", "//etc/passwd", "http://x/../etc/passwd",
                       "/./././../etc/passwd", "/%c0%ae%c0%ae/etc/passwd"):
            with self.subTest(target=target):
                raw = exchange(self.port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                self.assertNotIn(SECRET, raw)
                status, _, body = parse(raw, ["GET"])[0]
                self.assertIn(status, (400, 404), raw[:200])

    def test_a_double_encoded_name_is_that_file_and_a_link_inside_the_root_is_followed(self):
        self.assertEqual(get(self.port, "/%252e%252e")[2], b"a file named %2e%2e\n")
        self.assertEqual(get(self.port, "/inside-link.txt")[2], NUMBERS)


class Protocol(HttpServer):
    extra = ("--keepalive-requests", "3", "--request-timeout", "1")

    def test_keep_alive_by_default_on_1_1_and_only_when_asked_on_1_0(self):
        request = b"GET /sub/style.css HTTP/1.1\r\nHost: x\r\n\r\n"
        raw = exchange(self.port, request * 2)
        self.assertEqual([r[0] for r in parse(raw, ["GET", "GET"])], [200, 200])
        raw = exchange(self.port, b"GET / HTTP/1.0\r\n\r\n" * 2)
        responses = parse(raw, ["GET", "GET"])
        self.assertEqual(len(responses), 1, "HTTP/1.0 without keep-alive closes after one response")
        raw = exchange(self.port, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2)
        self.assertEqual(raw.count(b"Connection: keep-alive\r\n"), 2)
        raw = exchange(self.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + request)
        self.assertEqual(raw.count(b"HTTP/1.1 200"), 1, "Connection: close is honoured")
        self.assertIn(b"Connection: close\r\n", raw)

    def test_keepalive_requests_caps_a_connection(self):
        request = b"GET /sub/style.css HTTP/1.1\r\nHost: x\r\n\r\n"
        raw = exchange(self.port, request * 5)
        responses = parse(raw, ["GET"] * 5)
        self.assertEqual(len(responses), 3)
        self.assertEqual(responses[-1][1].get("connection"), "close")

    def test_errors_and_request_smuggling_defences(self):
        cases = [
            (b"GET / HTTP/1.1\r\n\r\n", 400),                                         # no Host
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),                   # two Hosts
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n  folded\r\n\r\n", 400),          # obs-fold
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),                             # space before colon
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            (b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Big: " + b"b" * 33000 + b"\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413),
        ]
        for request, expected in cases:
            with self.subTest(request=request[:60], expected=expected):
                raw = exchange(self.port, request)
                responses = parse(raw, ["GET"])
                self.assertEqual(responses[0][0], expected)
                self.assertIn(b"Connection: close\r\n", raw)

    def test_a_body_on_get_is_read_and_discarded_and_the_next_request_answered(self):
        raw = exchange(self.port, b"GET /sub/style.css HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                                  b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n"
                                  b"GET /numbers.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        responses = parse(raw, ["GET"] * 3)
        self.assertEqual([r[0] for r in responses], [200, 200, 200])
        self.assertEqual(responses[2][2], NUMBERS)

    def test_a_body_that_goes_bad_after_its_answer_closes_without_another(self):
        raw = exchange(self.port, b"GET /sub/style.css HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"zz\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1, raw)
        self.assertEqual(parse(raw, ["GET"])[0][0], 200)

    def test_headers_not_complete_in_time_get_408(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
            started = time.monotonic()
            raw = b""
            while chunk := s.recv(4096):
                raw += chunk
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(parse(raw, ["GET"])[0][0], 408)


class Pipelining(HttpServer):
    def test_a_burst_of_100_over_a_raw_socket_and_over_nc(self):
        targets = ["/numbers.txt", "/sub/style.css", "/", "/missing"] * 25
        burst = b"".join(f"GET {t} HTTP/1.1\r\nHost: a\r\n\r\n".encode() for t in targets)
        burst += b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        expected = [200, 200, 200, 404] * 25 + [200]
        responses = parse(exchange(self.port, burst), ["GET"] * 101)
        self.assertEqual([r[0] for r in responses], expected)
        self.assertEqual(responses[0][2], NUMBERS)
        nc = subprocess.run(["nc", "-N", "127.0.0.1", str(self.port)], input=burst, capture_output=True, timeout=30)
        self.assertEqual([r[0] for r in parse(nc.stdout, ["GET"] * 101)], expected)


class Autoindex(HttpServer):
    extra = ("--autoindex",)

    def test_a_listing_escapes_and_encodes_names(self):
        status, fields, body = get(self.port, "/listing/")
        self.assertEqual((status, fields["content-type"]), (200, "text/html; charset=utf-8"))
        page = body.decode()
        self.assertIn('<a href="a%26b%3Cc%3E.txt">a&amp;b&lt;c&gt;.txt</a>', page)
        self.assertIn('<a href="space%20name.txt">space name.txt</a>', page)
        self.assertIn('<a href="%22quoted%22.txt">&quot;quoted&quot;.txt</a>', page)
        self.assertIn('<a href="inner/">inner/</a>', page)
        self.assertNotIn("<c>", page)


class Curl(HttpServer):
    def test_curl_sees_every_status(self):
        def code(*args):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *args], capture_output=True,
                                 text=True, timeout=30).stdout
            return int(out)

        url = f"http://127.0.0.1:{self.port}"
        self.assertEqual(code(f"{url}/numbers.txt"), 200)
        self.assertEqual(code("-r", "0-9", f"{url}/numbers.txt"), 206)
        self.assertEqual(code("-L", f"{url}/sub"), 200)
        self.assertEqual(code(f"{url}/sub"), 301)
        self.assertEqual(code("-H", "If-None-Match: *", f"{url}/numbers.txt"), 304)
        self.assertEqual(code("-r", "99999-", f"{url}/numbers.txt"), 416)
        self.assertEqual(code("-X", "POST", f"{url}/"), 405)
        self.assertEqual(code(f"{url}/missing"), 404)
        self.assertEqual(code("--path-as-is", f"{url}/../etc/passwd"), 400)
        self.assertEqual(code("-H", "Host:", f"{url}/"), 400)
        out = subprocess.run(["curl", "-s", "--compressed", f"{url}/numbers.txt"], capture_output=True,
                             timeout=30).stdout
        self.assertEqual(out, NUMBERS)


class EveryModel(unittest.TestCase):
    def test_every_model_serves_files_ranges_and_pipelines(self):
        with tempfile.TemporaryDirectory() as root:
            make_site(root)
            for model in list_models():
                with self.subTest(model=model):
                    server, where = serve(["http"], "--root", root, "--model", model, "--quiet")
                    try:
                        port = where[("http", "tcp")][1]
                        raw = exchange(port, b"GET /numbers.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                                             b"GET /numbers.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=-4\r\n\r\n"
                                             b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                        responses = parse(raw, ["GET", "GET", "HEAD"])
                        self.assertEqual([r[0] for r in responses], [200, 206, 200])
                        self.assertEqual(responses[0][2], NUMBERS)
                        self.assertEqual(responses[1][2], NUMBERS[-4:])
                    finally:
                        self.assertEqual(server.close(), 0)


def send_body_until_answered(port, declared=50_000_000, timeout=10):
    """Declares a body too large (413 at once) and sends it anyway, reading meanwhile; returns
    (what was read until the server's FIN, the error that ended it or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: {declared}\r\n\r\n".encode())
        s.setblocking(False)
        chunk, got = b"x" * 65536, b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([s], [s], [], 1)
            try:
                if writable:
                    s.send(chunk)
                if readable:
                    data = s.recv(65536)
                    if not data:
                        return got, None
                    got += data
            except BlockingIOError:
                pass
            except OSError as e:
                return got, e
        return got, TimeoutError("no FIN")


class LingeringClose(unittest.TestCase):
    """A 413 answered while the client still sends its body: closing at once, with its bytes
    unread, would reset the connection and could destroy the 413 before the client read it. The
    server shuts its side, reads and throws away until EOF, for at most 2 s (Limits::linger)."""

    def test_the_answer_survives_a_client_still_sending_and_the_linger_is_bounded(self):
        with tempfile.TemporaryDirectory() as root, contextlib.ExitStack() as stack:
            make_site(root)
            for model in list_models():
                server, where = serve(["http"], "--root", root, "--model", model, "--quiet")
                stack.callback(server.close)
                port = where[("http", "tcp")][1]
                with self.subTest(model=model):
                    for _ in range(10):
                        got, error = send_body_until_answered(port)
                        self.assertIsNone(error)
                        self.assertTrue(got.startswith(b"HTTP/1.1 413 "), got[:40])
                    # A client that never stops sending nor closes: closed after the linger.
                    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 50000000\r\n\r\n")
                        started = time.monotonic()
                        with self.assertRaises((BrokenPipeError, ConnectionResetError)):
                            while time.monotonic() - started < 8:
                                s.sendall(b"x" * 65536)
                        self.assertLess(time.monotonic() - started, 6)


class Timeouts(unittest.TestCase):
    """--keepalive-timeout and --header-timeout are http's own: fib on the same server keeps the
    server-wide --idle-timeout and --request-timeout (the defaults, 300 s and 30 s), in every model."""

    def test_http_timeouts_are_its_own(self):
        with tempfile.TemporaryDirectory() as root, contextlib.ExitStack() as stack:
            make_site(root)
            probes = []
            # iterative serves one client of a service at a time: the others would wait in line.
            for model in [m for m in list_models() if m != "iterative"]:
                server, where = serve(["http", "fib"], "--root", root, "--model", model, "--quiet",
                                      "--keepalive-timeout", "1", "--header-timeout", "1")
                stack.callback(server.close)
                http_port, fib_port = where[("http", "tcp")][1], where[("fib", "tcp")][1]
                connect = lambda port: stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
                kept_alive, slow_head = connect(http_port), connect(http_port)
                silent_fib, slow_line = connect(fib_port), connect(fib_port)
                kept_alive.sendall(b"GET /sub/style.css HTTP/1.1\r\nHost: a\r\n\r\n")
                slow_head.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
                slow_line.sendall(b"1")
                probes.append((model, kept_alive, slow_head, silent_fib, slow_line))
            time.sleep(2.5)  # past http's timeouts of 1 s, far from fib's
            for model, kept_alive, slow_head, silent_fib, slow_line in probes:
                with self.subTest(model=model):
                    answers = parse(read_all(kept_alive), ["GET"])  # its response, then the close
                    self.assertEqual(answers[0][0], 200)
                    self.assertEqual(parse(read_all(slow_head), ["GET"])[0][0], 408)
                    silent_fib.sendall(b"10\n")
                    self.assertEqual(silent_fib.recv(64), b"55\n")
                    slow_line.sendall(b"1\n")
                    self.assertEqual(slow_line.recv(64), b"89\n")


def read_all(s, timeout=5):
    """Everything until the server closes `s`, which must happen within `timeout`."""
    s.settimeout(timeout)
    chunks = []
    while chunk := s.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# In a network namespace of its own (the catalog's default ports are free there): which services
# `sockit serve` alone starts over TCP, without --root and with one, and whether http answers on 8080.
SERVE_ALONE = r'''
import json, re, socket, sys, tempfile, time
sys.path.insert(0, HERE)
from harness import Server

result = {}
with tempfile.TemporaryDirectory() as root:
    with open(root + "/index.html", "w") as f:
        f.write("alone")
    for name, extra in (("without", []), ("with", ["--root", root])):
        with Server("serve", "--tcp", "--listen", "127.0.0.1", *extra) as server:
            server.wait_for(r"listening on 127\.0\.0\.1:10013 \(daytime/tcp")
            time.sleep(0.5)  # every startup line is out
            services = sorted(set(re.findall(r"\((\w+)/tcp", server.output())))
            answer = b""
            if "http" in services:
                with socket.create_connection(("127.0.0.1", 8080), timeout=5) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    while chunk := s.recv(4096):
                        answer += chunk
            result[name] = {"services": services, "answer": answer.decode(errors="replace")}
print(json.dumps(result))
'''


class Startup(unittest.TestCase):
    @unittest.skipUnless(netns_available(), "needs a network namespace (root): the default ports")
    def test_serve_alone_starts_http_only_with_a_root_on_8080(self):
        code = SERVE_ALONE.replace("HERE", repr(os.path.dirname(os.path.abspath(__file__))))
        result = json.loads(run_in_netns(code, timeout=60).stdout.splitlines()[-1])
        self.assertNotIn("http", result["without"]["services"])
        self.assertIn("echo", result["without"]["services"])
        self.assertIn("http", result["with"]["services"])
        self.assertTrue(result["with"]["answer"].startswith("HTTP/1.1 200 OK"), result["with"]["answer"][:60])
        self.assertTrue(result["with"]["answer"].endswith("alone"))

    def test_http_needs_a_root_and_serve_alone_starts_it_only_with_one(self):
        from harness import run
        proc = run("serve", "http:0", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("http needs a root (--root DIR)", proc.stderr)
        proc = run("serve", "http:0", "--root", "/nonexistent/dir", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("/nonexistent/dir", proc.stderr)


if __name__ == "__main__":
    unittest.main()
