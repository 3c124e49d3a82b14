"""The tracker under abuse (issue 12, item 6), against the real binary. Clients speak from chosen
loopback addresses (127.0.0.0/8 is all ours), so one "host" can flood and another be its victim.
Decided trust (docs/hardening.md): by default a subscribe registers only the address it comes
from; `--trust message` is the course tracker's behaviour."""

import socket
import struct
import time
import unittest

from cascade_support import tracker
from harness import recv_exactly

HASH = bytes(range(32))


def ask(address, command, ip, port, source="127.0.0.1", cascade_hash=HASH):
    """One tracker exchange from `source`; returns (status, body)."""
    request = (b"CASC" + struct.pack("!III", 1, command, 38) + cascade_hash + socket.inet_aton(ip) +
               struct.pack("!H", port))
    with socket.socket() as s:
        s.settimeout(5)
        s.bind((source, 0))
        s.connect(address)
        s.sendall(request)
        head = recv_exactly(s, 5)
        return head[0], recv_exactly(s, struct.unpack("!I", head[1:])[0])


def listed(body):
    return [(socket.inet_ntoa(body[i:i + 4]), struct.unpack("!H", body[i + 4:i + 6])[0])
            for i in range(0, len(body), 12)]


class TrackerTrust(unittest.TestCase):
    def test_a_client_cannot_register_an_address_it_does_not_speak_from(self):
        with tracker() as t:
            status, body = ask(t.address(), 2, "127.0.0.5", 7000, source="127.0.0.1")
            self.assertEqual(status, 1)
            self.assertEqual(body, b"cannot register 127.0.0.5:7000 from 127.0.0.1: a peer registers only its own "
                                   b"address")
            t.wait_for(r"tracker request refused: cannot register 127\.0\.0\.5:7000")
            # Nothing was stored: the address's owner lists an empty swarm.
            self.assertEqual(ask(t.address(), 1, "127.0.0.9", 1, source="127.0.0.9"), (0, b""))
            # From its own address it registers.
            self.assertEqual(ask(t.address(), 2, "127.0.0.5", 7000, source="127.0.0.5"), (0, b""))
            status, body = ask(t.address(), 1, "127.0.0.9", 1, source="127.0.0.9")
            self.assertEqual(listed(body), [("127.0.0.5", 7000)])

    def test_trust_message_is_the_course_trackers_behaviour(self):
        with tracker("--trust", "message") as t:
            self.assertEqual(ask(t.address(), 2, "127.0.0.5", 7000, source="127.0.0.1"), (0, b""))
            status, body = ask(t.address(), 1, "127.0.0.9", 1, source="127.0.0.9")
            self.assertEqual(listed(body), [("127.0.0.5", 7000)])


class TrackerCaps(unittest.TestCase):
    def test_a_subscribe_flood_from_one_host_evicts_no_one(self):
        with tracker("--max-peers-per-ip", "4", "--max-peers", "50", "--max-rate", "0") as t:
            self.assertEqual(ask(t.address(), 2, "127.0.0.1", 7000, source="127.0.0.1")[0], 0)
            refused = 0
            for port in range(1, 201):
                status, body = ask(t.address(), 2, "127.0.0.2", port, source="127.0.0.2")
                refused += status
            self.assertEqual(refused, 196)
            self.assertEqual(body, b"127.0.0.2 has 4 peers in this swarm already (--max-peers-per-ip)")
            status, body = ask(t.address(), 1, "127.0.0.9", 1, source="127.0.0.9")
            peers = listed(body)
            self.assertIn(("127.0.0.1", 7000), peers)
            self.assertEqual(len(peers), 5)

    def test_a_source_over_the_rate_is_refused_for_a_second_and_others_are_served(self):
        with tracker("--max-rate", "10") as t:
            statuses = [ask(t.address(), 1, "127.0.0.2", 1, source="127.0.0.2") for _ in range(40)]
            refused = [body for status, body in statuses if status == 1]
            self.assertGreaterEqual(len(refused), 40 - 10 - 5)
            self.assertEqual(refused[-1], b"too many requests from 127.0.0.2: at most 10 a second (--max-rate)")
            self.assertEqual(ask(t.address(), 1, "127.0.0.3", 1, source="127.0.0.3"), (0, b""))
            time.sleep(2.1)  # muted for a second, then a second's tokens back
            self.assertEqual(ask(t.address(), 1, "127.0.0.2", 1, source="127.0.0.2"), (0, b""))

    def test_a_full_swarm_and_a_full_tracker_say_so(self):
        with tracker("--max-peers", "2", "--max-swarms", "1") as t:
            for n in (1, 2):
                self.assertEqual(ask(t.address(), 2, f"127.0.0.{n}", 7000, source=f"127.0.0.{n}")[0], 0)
            self.assertEqual(ask(t.address(), 2, "127.0.0.3", 7000, source="127.0.0.3"),
                             (1, b"swarm full: 2 peers already (--max-peers)"))
            self.assertEqual(ask(t.address(), 2, "127.0.0.1", 7000, source="127.0.0.1", cascade_hash=bytes(32)),
                             (1, b"tracker full: 1 swarm already (--max-swarms)"))


if __name__ == "__main__":
    unittest.main()
