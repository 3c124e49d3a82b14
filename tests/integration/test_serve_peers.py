"""Every model names an IPv4 client the same way, also on a dual-stack IPv6 listener (one accept
path): "127.0.0.1:PORT", never "[::ffff:127.0.0.1]:PORT". The listener is bound to the
IPv4-mapped loopback address, so the test needs no wildcard address to show the mapping."""

import unittest

from harness import connect, list_models, serve


class DualStackPeerNames(unittest.TestCase):
    def test_every_model_shows_an_ipv4_client_of_an_ipv6_listener_as_ipv4(self):
        for model in list_models():
            with self.subTest(model=model):
                server, where = serve(["echo"], "--model", model, listen="::ffff:127.0.0.1")
                try:
                    _, port = where[("echo", "tcp")]
                    with connect("127.0.0.1", port) as client:
                        client.sendall(b"hi")
                        self.assertEqual(client.recv(2), b"hi")
                        mine = client.getsockname()[1]
                    server.wait_for(rf"connected 127\.0\.0\.1:{mine}\b")
                    server.wait_for(rf"closed 127\.0\.0\.1:{mine}\b")
                    named = [line for line in server.lines if line.startswith(("connected", "closed"))]
                    self.assertFalse([line for line in named if "::ffff:" in line], named)
                finally:
                    self.assertEqual(server.close(), 0)


if __name__ == "__main__":
    unittest.main()
