"""sockit lookup against the system's own tools (getent)."""

import json
import subprocess
import unittest

from harness import netns_available, run, sockit_without_names


def getent_services(spec):
    proc = subprocess.run(["getent", "services", spec], capture_output=True, text=True, timeout=10)
    return proc.returncode, [line.split()[:2] for line in proc.stdout.splitlines()]


def getent_ahosts(host):
    out = subprocess.run(["getent", "ahosts", host], capture_output=True, text=True, timeout=10, check=True).stdout
    pairs = set()
    for line in out.splitlines():
        fields = line.split()
        pairs.add((fields[0], fields[1].lower()))
    return pairs


class LookupTest(unittest.TestCase):
    def test_localhost_agrees_with_getent_ahosts(self):
        report = json.loads(run("lookup", "localhost", "--json").stdout)
        ours = {(a["address"], a["type"]) for a in report["addresses"]}
        self.assertEqual(ours, getent_ahosts("localhost"))

    def test_table_lists_each_address_with_family_type_and_protocol(self):
        out = run("lookup", "localhost").stdout
        self.assertIn("127.0.0.1", out)
        self.assertRegex(out, r"127\.0\.0\.1\s+inet\s+stream\s+tcp")
        self.assertRegex(out, r"127\.0\.0\.1\s+inet\s+dgram\s+udp")

    def test_service_ssh_is_22_tcp(self):
        out = run("lookup", "--service", "ssh").stdout
        self.assertRegex(out, r"^ssh\s+22/tcp", out)

    def test_service_by_port_number(self):
        report = json.loads(run("lookup", "--service", "13", "--json").stdout)
        self.assertEqual(report["service"][0]["name"], "daytime")

    def test_protocol_by_name_and_number(self):
        self.assertRegex(run("lookup", "--protocol", "udp").stdout, r"^udp\s+17")
        report = json.loads(run("lookup", "--protocol", "6", "--json").stdout)
        self.assertEqual(report["protocol"]["name"], "tcp")

    def test_reverse_of_loopback_is_localhost(self):
        self.assertIn("is localhost", run("lookup", "--reverse", "127.0.0.1").stdout)

    @unittest.skipUnless(netns_available(), "needs unshare -n -m (root)")
    def test_unknown_host_is_not_found_exit_2_as_getent(self):
        code, _, err = sockit_without_names("lookup", "no-such-host.invalid")
        self.assertEqual(code, 2, err)
        self.assertIn("getaddrinfo for no-such-host.invalid failed: Name or service not known", err)

    @unittest.skipUnless(netns_available(), "needs unshare -n -m (root)")
    def test_address_without_a_name_is_not_found_exit_2(self):
        code, _, err = sockit_without_names("lookup", "--reverse", "192.0.2.1")
        self.assertEqual(code, 2, err)
        self.assertIn("getnameinfo for 192.0.2.1 failed", err)

    def test_malformed_reverse_address_is_a_usage_error_without_a_port(self):
        proc = run("lookup", "--reverse", "300.1.2.3", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--reverse: not a numeric IPv4 or IPv6 address", proc.stderr)
        self.assertNotIn(":0", proc.stderr)

    def test_unknown_service_and_protocol_are_not_found_exit_2(self):
        proc = run("lookup", "--service", "no-such-service", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no service 'no-such-service'", proc.stderr)
        self.assertEqual(run("lookup", "--protocol", "no-such-protocol", check=False).returncode, 2)

    def test_a_port_or_protocol_number_out_of_range_is_a_usage_error_not_a_missing_service(self):
        # Issue 11: `--service 99999` said "no service '99999' in /etc/services".
        for option, value, problem in (("--service", "99999", "port 99999 is not from 1 to 65535"),
                                       ("--service", "0/tcp", "port 0 is not from 1 to 65535"),
                                       ("--service", "ssh/", "a protocol after '/' must not be empty"),
                                       ("--protocol", "256", "protocol 256 is not from 0 to 255"),
                                       ("--protocol", "-1", "protocol -1 is not from 0 to 255")):
            with self.subTest(option=option, value=value):
                proc = run("lookup", option, value, check=False)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(f"{option}: {problem}", proc.stderr)
                self.assertIn("Run with --help", proc.stderr)
                self.assertNotIn("/etc/", proc.stderr)
        self.assertEqual(run("lookup", "--service", "65535", check=False).returncode,
                         0 if getent_services("65535")[0] == 0 else 2)

    def test_service_with_a_protocol_answers_as_getent_services(self):
        for spec in ("ssh/tcp", "53/udp", "domain/udp", "22/udp"):
            with self.subTest(spec=spec):
                status, entries = getent_services(spec)
                proc = run("lookup", "--service", spec, check=False)
                self.assertEqual(proc.returncode, 0 if status == 0 else 2, proc.stderr)
                self.assertEqual([line.split()[:2] for line in proc.stdout.splitlines()], entries)

    def test_nothing_to_look_up_is_a_usage_error(self):
        self.assertEqual(run("lookup", check=False).returncode, 2)


class BinaryTest(unittest.TestCase):
    def test_version_and_help(self):
        self.assertRegex(run("--version").stdout, r"^sockit \d+\.\d+")
        self.assertIn("lookup", run("--help").stdout)

    def test_unknown_subcommand_is_a_usage_error(self):
        self.assertEqual(run("no-such-command", check=False).returncode, 2)

    def test_unknown_subcommand_is_named(self):
        proc = run("bogus", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown subcommand 'bogus'", proc.stderr)
        proc = run("cascade", "bogus", check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("sockit cascade: unknown subcommand 'bogus'", proc.stderr)

    def test_every_subcommand_help_has_an_example(self):
        for sub in ("lookup", "endian"):
            self.assertIn("Example", run(sub, "--help").stdout, sub)


class EndianTest(unittest.TestCase):
    def test_shows_host_and_network_order_like_the_notes(self):
        out = run("endian").stdout
        self.assertIn("little-endian", out)
        self.assertIn("host order (memory):    04 03 02 01", out)
        self.assertIn("network order (wire):   01 02 03 04", out)

    def test_sixteen_bit_value(self):
        out = run("endian", "--value", "0x1234", "--bits", "16").stdout
        self.assertIn("network order (wire):   12 34", out)
        self.assertIn("htons(0x1234) = 0x3412", out)

    def test_value_too_wide_is_a_usage_error(self):
        self.assertEqual(run("endian", "--value", "70000", "--bits", "16", check=False).returncode, 2)

    def test_value_is_decimal_even_with_a_leading_zero(self):
        self.assertIn("value 0x0000000a = 10 (32-bit)", run("endian", "--value", "010").stdout)

    def test_value_past_64_bits_is_refused_not_clamped(self):
        for value in ("18446744073709551616", "0x10000000000000000", "-1"):
            with self.subTest(value=value):
                proc = run("endian", "--value", value, "--bits", "64", check=False)
                self.assertEqual(proc.returncode, 2, proc.stdout)
                self.assertIn("--value", proc.stderr)


if __name__ == "__main__":
    unittest.main()
