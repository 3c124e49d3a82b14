"""sockit nc --ssl against openssl s_server/s_client, ncat --ssl, socat OPENSSL and Python's ssl,
both ways; certificate checks; 100 MB through TLS."""

import os
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SOCKIT, free_port, sha256_file, wait_for_stderr_line
from test_nc import Peer, SockitListener, random_file, sockit_nc, wait_listening

HAVE_OPENSSL = shutil.which("openssl") is not None
HAVE_NCAT = shutil.which("ncat") is not None
HAVE_SOCAT = shutil.which("socat") is not None


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Certificates:
    """A test CA, a server certificate it signed (localhost, 127.0.0.1) and a self-signed one,
    all EC P-256, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=sockit test CA",
                cwd=d)
        openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
        openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "2", "-subj", "/CN=localhost",
                cwd=d)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def close(self):
        self.dir.cleanup()


def setUpModule():
    global CERTS
    CERTS = Certificates() if HAVE_OPENSSL else None


def tearDownModule():
    if CERTS:
        CERTS.close()


def s_server(port, *extra):
    """openssl s_server -rev (answers each line reversed) for one client on 127.0.0.1:PORT with
    the CA-signed certificate. Not its stdin mode: s_server drops the connection at stdin EOF."""
    return Peer("openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", CERTS.path("server.pem"),
                "-key", CERTS.path("server.key"), "-naccept", "1", "-rev", *extra)


@unittest.skipUnless(HAVE_OPENSSL, "openssl is not installed")
class OpensslTest(unittest.TestCase):
    def test_sockit_client_and_s_server_exchange_both_ways(self):
        port = free_port()
        with s_server(port, "-quiet") as server:
            wait_listening(port)
            # close_notify after the lines: s_server answers them, then closes, and so do we.
            proc = sockit_nc("--ssl", "127.0.0.1", str(port), input=b"hello sockit\nline2\n")
            server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"tikcos olleh\n2enil\n")

    def test_s_client_and_sockit_listener_exchange_both_ways_with_alpn(self):
        # s_client ends when its peer closes: the listener answers only after it got the request.
        with SockitListener("--ssl", "--ssl-alpn", "h2,http/1.1", "127.0.0.1", "0", stdin=None) as listener:
            request = tempfile.TemporaryFile()
            request.write(b"from s_client\n")
            request.seek(0)
            client = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{listener.port}", "-alpn", "h2",
                                       "-servername", "localhost", "-ign_eof"],
                                      stdin=request, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                got = b""
                deadline = time.monotonic() + 20
                while b"from s_client\n" not in got and time.monotonic() < deadline:
                    if select.select([listener.proc.stdout], [], [], 1)[0]:
                        chunk = os.read(listener.proc.stdout.fileno(), 4096)
                        if not chunk:
                            break
                        got += chunk
                listener.proc.stdin.write(b"from sockit\n")
                listener.proc.stdin.close()
                client_out, _ = client.communicate(timeout=30)
            finally:
                if client.poll() is None:
                    client.kill()
                    client.communicate(timeout=10)
                request.close()
            status, out, err = listener.finish()
        self.assertEqual(status, 0, err)
        self.assertEqual(got + out, b"from s_client\n")
        self.assertIn(b"from sockit\n", client_out)
        self.assertIn(b"ALPN protocol: h2", client_out)
        self.assertIn("generated a temporary self-signed certificate (EC P-256, CN=localhost)", err)
        self.assertRegex(err, r"TLS: TLSv1\.3 \S+, ALPN h2, SNI localhost")

    def test_s_server_sees_the_alpn_that_sockit_offers(self):
        port = free_port()
        with s_server(port, "-alpn", "http/1.1") as server:
            wait_listening(port)
            proc = sockit_nc("-v", "--ssl", "--ssl-alpn", "h2,http/1.1", "127.0.0.1", str(port), input=b"x\n")
            _, out, _ = server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"ALPN protocols advertised by the client: h2, http/1.1", out)
        self.assertIn(b", ALPN http/1.1", proc.stderr)

    def test_trustfile_verifies_a_server_signed_by_that_ca(self):
        port = free_port()
        with s_server(port, "-quiet") as server:
            wait_listening(port)
            proc = sockit_nc("-v", "-4", "--ssl-trustfile", CERTS.path("ca.pem"), "localhost", str(port),
                             input=b"verified\n")
            server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"deifirev\n")
        self.assertIn(b"(verified)", proc.stderr)

    def test_an_ip_address_is_checked_against_the_ip_sans(self):
        port = free_port()
        with s_server(port, "-quiet") as server:
            wait_listening(port)
            proc = sockit_nc("--ssl-trustfile", CERTS.path("ca.pem"), "127.0.0.1", str(port), input=b"by address\n")
            server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"sserdda yb\n")

    def test_a_name_the_certificate_does_not_carry_fails_verification(self):
        port = free_port()
        with s_server(port, "-quiet") as server:
            wait_listening(port)
            proc = sockit_nc("--ssl-trustfile", CERTS.path("ca.pem"), "--ssl-servername", "other.example", "127.0.0.1",
                             str(port))
            server.kill()
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.decode(),
                         f"sockit: TLS handshake with 127.0.0.1:{port} failed: certificate verify failed "
                         "(hostname mismatch)\n")

    def test_verifying_a_self_signed_server_fails_in_one_line(self):
        with SockitListener("--ssl", "127.0.0.1", "0", stdin=None) as listener:
            proc = sockit_nc("--ssl-verify", "127.0.0.1", str(listener.port), input=b"secret")
            listener.proc.kill()
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr.decode(),
                         f"sockit: TLS handshake with 127.0.0.1:{listener.port} failed: certificate verify failed "
                         "(self-signed certificate)\n")

    def test_system_trust_store_refuses_the_test_ca(self):
        port = free_port()
        with s_server(port, "-quiet") as server:
            wait_listening(port)
            proc = sockit_nc("--ssl-verify", "-4", "localhost", str(port))
            server.kill()
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr.decode(), r"^sockit: TLS handshake with 127\.0\.0\.1:\d+ failed: certificate verify "
                                               r"failed \(unable to get local issuer certificate\)\n$")

    def test_listener_with_a_given_certificate_passes_s_client_verification(self):
        with SockitListener("--ssl-cert", CERTS.path("server.pem"), "--ssl-key", CERTS.path("server.key"),
                            "127.0.0.1", "0", stdin=b"ok\n") as listener:
            client = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{listener.port}", "-CAfile",
                                     CERTS.path("ca.pem"), "-verify_return_error", "-verify_hostname", "localhost",
                                     "-ign_eof"], input=b"", capture_output=True, timeout=30)
            status, _, err = listener.finish()
        self.assertEqual(status, 0, err)
        self.assertIn(b"Verify return code: 0 (ok)", client.stdout)
        self.assertIn(b"ok\n", client.stdout)


class SniTest(unittest.TestCase):
    def test_python_ssl_server_sees_the_sni_and_alpn_that_sockit_sends(self):
        seen = {}
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(CERTS.path("server.pem"), CERTS.path("server.key"))
        context.set_alpn_protocols(["x-sockit"])
        context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)
        with socket.create_server(("127.0.0.1", 0)) as server:
            server.settimeout(20)
            port = server.getsockname()[1]

            def answer():
                conn, _ = server.accept()
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(20)
                    seen["alpn"] = tls.selected_alpn_protocol()
                    seen["data"] = tls.recv(100)
                    tls.sendall(b"bye")
                    # Up to our close_notify: closing with it unread would reset the connection.
                    while tls.recv(100):
                        pass

            thread = threading.Thread(target=answer)
            thread.start()
            proc = sockit_nc("-4", "--ssl-trustfile", CERTS.path("ca.pem"), "--ssl-alpn", "h2,x-sockit", "-q", "2",
                             "localhost", str(port), input=b"hello")
            thread.join(30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(seen, {"sni": "localhost", "alpn": "x-sockit", "data": b"hello"})
        self.assertEqual(proc.stdout, b"bye")


@unittest.skipUnless(HAVE_NCAT, "ncat is not installed")
class NcatTest(unittest.TestCase):
    def test_sockit_client_and_ncat_ssl_listener(self):
        port = free_port()
        with Peer("ncat", "--ssl", "-l", "127.0.0.1", str(port), stdin=b"from ncat") as server:
            wait_listening(port)
            proc = sockit_nc("--ssl", "127.0.0.1", str(port), input=b"from sockit")
            status, out, err = server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"from ncat")
        self.assertEqual(out, b"from sockit")

    def test_ncat_ssl_client_with_verification_and_sockit_listener(self):
        with SockitListener("--ssl-cert", CERTS.path("server.pem"), "--ssl-key", CERTS.path("server.key"),
                            "127.0.0.1", "0", stdin=b"from sockit") as listener:
            # ncat checks DNS names only (not IP SANs): connect by name.
            client = subprocess.run(["ncat", "-4", "--ssl", "--ssl-trustfile", CERTS.path("ca.pem"), "localhost",
                                     str(listener.port)], input=b"from ncat", capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(client.stdout, b"from sockit")
        self.assertEqual((status, out), (0, b"from ncat"), err)


@unittest.skipUnless(HAVE_SOCAT, "socat is not installed")
class SocatTest(unittest.TestCase):
    def test_sockit_client_to_socat_openssl_echo(self):
        port = free_port()
        with Peer("socat", "-t", "10", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,cert={CERTS.path('server.pem')},"
                  f"key={CERTS.path('server.key')},verify=0", "EXEC:cat") as server:
            wait_listening(port)
            proc = sockit_nc("--ssl-trustfile", CERTS.path("ca.pem"), "127.0.0.1", str(port), input=b"echo\x00me\xff")
            server.finish(timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"echo\x00me\xff")

    def test_socat_openssl_client_and_sockit_listener(self):
        with SockitListener("--ssl", "127.0.0.1", "0", stdin=b"from sockit") as listener:
            client = subprocess.run(["socat", "-t", "10", "-", f"OPENSSL:127.0.0.1:{listener.port},verify=0"],
                                    input=b"from socat", capture_output=True, timeout=30)
            status, out, err = listener.finish()
        self.assertEqual(client.stdout, b"from sockit")
        self.assertEqual((status, out), (0, b"from socat"), err)


class BulkTest(unittest.TestCase):
    def test_100_mb_through_tls_arrive_sha256_exact(self):
        with tempfile.TemporaryDirectory() as d:
            source = random_file(d, 100 * 1024 * 1024)
            target = os.path.join(d, "got.bin")
            with open(target, "wb") as o:
                listener = subprocess.Popen([SOCKIT, "nc", "-v", "--ssl", "-l", "127.0.0.1", "0"],
                                            stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.PIPE, text=True)
            try:
                port = wait_for_stderr_line(listener, r"listening on \S+:(\d+)").group(1)
                with open(source, "rb") as i:
                    sender = subprocess.run([SOCKIT, "nc", "-v", "--ssl", "127.0.0.1", port], stdin=i,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
                listener.wait(timeout=60)
            finally:
                if listener.poll() is None:
                    listener.kill()
                listener.communicate(timeout=10)
            self.assertEqual(sender.returncode, 0, sender.stderr)
            self.assertEqual(listener.returncode, 0)
            self.assertIn(b"sent 104857600 bytes, received 0 bytes", sender.stderr)
            self.assertEqual(sha256_file(target), sha256_file(source))


class TimingTest(unittest.TestCase):
    def test_quit_after_input_eof_ends_although_the_tls_peer_stays_open(self):
        with SockitListener("--ssl", "127.0.0.1", "0", stdin=None) as listener:
            start = time.monotonic()
            proc = sockit_nc("--ssl", "-q", "1", "127.0.0.1", str(listener.port), input=b"x", timeout=30)
            elapsed = time.monotonic() - start
            listener.proc.stdin.close()
            status, out, err = listener.finish()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertLess(elapsed, 10)
        self.assertEqual((status, out), (0, b"x"), err)

    def test_a_server_that_never_answers_the_handshake_times_out_in_one_line(self):
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
            proc = sockit_nc("--ssl", "-w", "1", "127.0.0.1", str(port), timeout=30)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.decode(),
                         f"sockit: TLS handshake with 127.0.0.1:{port} failed: Connection timed out\n")

    def test_a_plain_text_server_is_no_tls_server(self):
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]

            def answer():
                server.settimeout(20)
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"220 hello, this is not TLS\r\n" * 20)
                    conn.settimeout(5)
                    try:
                        conn.recv(4096)
                    except OSError:
                        pass

            thread = threading.Thread(target=answer)
            thread.start()
            proc = sockit_nc("--ssl", "-w", "5", "127.0.0.1", str(port), timeout=30)
            thread.join(30)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr.decode(), rf"^sockit: TLS handshake with 127\.0\.0\.1:{port} failed: [^\n]+\n$")


class ClientCertificateTest(unittest.TestCase):
    def listener(self):
        return SockitListener("--ssl-trustfile", CERTS.path("ca.pem"), "--ssl-cert", CERTS.path("server.pem"),
                              "--ssl-key", CERTS.path("server.key"), "127.0.0.1", "0", stdin=b"welcome")

    def test_a_verifying_listener_accepts_a_client_certificate_signed_by_its_ca(self):
        with self.listener() as listener:
            proc = sockit_nc("--ssl-cert", CERTS.path("server.pem"), "--ssl-key", CERTS.path("server.key"),
                             "127.0.0.1", str(listener.port), input=b"it is me")
            status, out, err = listener.finish()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual((status, out, proc.stdout), (0, b"it is me", b"welcome"), err)
        self.assertIn("peer certificate /CN=localhost (verified)", err)

    def test_a_verifying_listener_refuses_a_client_without_a_certificate(self):
        with self.listener() as listener:
            proc = sockit_nc("--ssl", "127.0.0.1", str(listener.port), input=b"anonymous")
            status, out, err = listener.finish()
        self.assertEqual(proc.returncode, 1)
        self.assertEqual((status, out), (1, b""))
        self.assertRegex(err, r"sockit: TLS handshake with 127\.0\.0\.1:\d+ failed: peer did not return a certificate")


class KeepListeningTest(unittest.TestCase):
    def test_a_failed_handshake_costs_only_that_client(self):
        with SockitListener("--ssl", "-k", "127.0.0.1", "0", stdin=None) as listener:
            with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as plain:
                plain.sendall(b"GET / HTTP/1.0\r\n\r\n")  # no ClientHello
                plain.settimeout(10)
                try:
                    while plain.recv(4096):
                        pass
                except OSError:
                    pass
            # -q: the listener waits for its own input EOF, which never comes here
            proc = sockit_nc("--ssl", "-q", "1", "127.0.0.1", str(listener.port), input=b"second client")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            got = b""
            deadline = time.monotonic() + 10
            while got != b"second client" and time.monotonic() < deadline:
                if select.select([listener.proc.stdout], [], [], 1)[0]:
                    got += os.read(listener.proc.stdout.fileno(), 4096)
            self.assertEqual(got, b"second client")
            self.assertIsNone(listener.proc.poll(), "the listener goes on")
            listener.proc.kill()
            _, _, err = listener.finish()
        self.assertRegex(err, r"connection failed: TLS handshake with 127\.0\.0\.1:\d+ failed: ")


class UsageTest(unittest.TestCase):
    def test_ssl_with_udp_exec_or_zero_io_is_a_usage_error(self):
        for args in (["--ssl", "-u", "127.0.0.1", "9"], ["--ssl", "-l", "9", "-e", "cat"], ["--ssl", "-z", "127.0.0.1", "9"],
                     ["--ssl-alpn", "h2,,x", "127.0.0.1", "9"]):
            proc = sockit_nc(*args)
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))


if __name__ == "__main__":
    unittest.main()
