"""Issue 11, item 1: UDP reflection loops. Spoofed datagrams (raw sockets, in a network namespace
of their own: see udp_loop_support.py) must not start a loop, and a loop the guard cannot see
by its ports must die out by itself within a bounded count of replies."""

import json
import os
import unittest

from harness import netns_available, run_in_netns

HERE = os.path.dirname(os.path.abspath(__file__))
RATE, BURST = 1000, 250  # sockit serve's default --udp-rate, and the burst it allows


def scenario(name):
    script = f"import sys; sys.path.insert(0, {HERE!r}); import udp_loop_support; udp_loop_support.main({name!r})"
    return json.loads(run_in_netns(script, timeout=120).stdout.splitlines()[-1])


def refusal_lines(result, reason):
    return sum(line.count(f"({reason}); the rest of this spell") for line in result["logs"])


@unittest.skipUnless(netns_available(), "needs a network namespace (root): the datagrams are spoofed")
class SpoofedLoops(unittest.TestCase):
    def assert_no_reply(self, result, injected=1):
        # The sniffer counts the injected datagrams too.
        self.assertEqual(result["datagrams"], injected, result)

    def test_echo_never_answers_a_datagram_from_its_own_port(self):
        result = scenario("self_loop_v4")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "this-port"), 1, result["logs"])

    def test_echo_never_answers_its_own_port_over_ipv6(self):
        result = scenario("self_loop_v6")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "this-port"), 1, result["logs"])

    def test_a_dual_stack_echo_sees_through_ipv4_mapped_sources(self):
        result = scenario("self_loop_mapped")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "this-port"), 1, result["logs"])

    def test_echo_and_chargen_in_one_process_do_not_ping_pong(self):
        result = scenario("echo_chargen_one_process")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "own-port"), 1, result["logs"])

    def test_echo_and_chargen_in_two_processes_do_not_ping_pong(self):
        # Each sees the other on a default sockit port (CVE-1999-0103 between two sockits).
        result = scenario("echo_chargen_two_processes")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "reflector-port"), 1, result["logs"])

    def assert_loop_died(self, result, injected):
        # A token bucket gives each end at most its burst plus the rate times the time it ran:
        # that bounds the count; and the loop must be over well before the window ends.
        self.assertLess(result["last"], 1.5, f"still looping {result['last']:.2f} s after the spoofed datagrams")
        bound = injected + 2 * (BURST + RATE * result["last"]) + 10
        self.assertLessEqual(result["datagrams"], bound, result)
        self.assertGreater(result["datagrams"], injected + 10, "the loop should run until the rate limit ends it")

    def test_a_loop_between_two_processes_on_unlisted_ports_dies_out_by_itself(self):
        result = scenario("two_processes_other_ports_1")
        self.assert_loop_died(result, injected=1)
        self.assertEqual(refusal_lines(result, "rate-limited"), 1, result["logs"])

    def test_a_loop_of_a_hundred_datagrams_dies_out_too(self):
        # The mute drops every datagram still circling, not only the first one over the rate.
        result = scenario("two_processes_other_ports_100")
        self.assert_loop_died(result, injected=100)
        self.assertIn(refusal_lines(result, "rate-limited"), (1, 2), "one line per spell and server")

    def test_port_zero_gets_no_reply(self):
        result = scenario("port_zero")
        self.assert_no_reply(result)
        self.assertEqual(refusal_lines(result, "port-zero"), 1, result["logs"])

    def test_broadcast_and_multicast_sources_get_no_reply(self):
        result = scenario("not_unicast_sources")
        self.assert_no_reply(result, injected=2)
        self.assertEqual(refusal_lines(result, "multicast-source"), 1, result["logs"])
        self.assertEqual(refusal_lines(result, "broadcast-source"), 1, result["logs"])


@unittest.skipUnless(netns_available(), "needs a network namespace (root): default port, nothing else there")
class ReplyRate(unittest.TestCase):
    def test_one_source_gets_a_burst_then_the_rate_and_one_log_line(self):
        result = scenario("one_client_flood")
        bound = BURST + RATE * result["elapsed"] + 50
        self.assertLessEqual(result["replies"], bound, result)
        self.assertGreaterEqual(result["replies"], BURST, result)
        self.assertEqual(refusal_lines(result, "rate-limited"), 1, result["logs"])
        self.assertRegex(result["logs"][0], r"udp: refused \d+ datagrams in \d+\.\d s \(rate-limited\)")


if __name__ == "__main__":
    unittest.main()
