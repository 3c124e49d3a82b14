"""Spoofed datagrams and a packet counter for the UDP reflection tests (test_udp_reflection.py).

Everything here runs inside a network namespace of its own (harness.run_in_netns: `unshare -n`,
lo up), as root, so fixed ports are free and nothing leaves the machine. Each scenario prints
one JSON object that the test reads.

How a datagram is spoofed: a raw socket (SOCK_RAW, IPPROTO_UDP) writes the UDP header itself, so
the source port is whatever we say; for IPv4 with IP_HDRINCL the IP header too, so the source
address is any address at all (broadcast and multicast included). A UDP socket bound to the
source port cannot do it: the server holds that port, and binding it is exactly what item 3
forbids. The UDP checksum is 0 ("none") over IPv4; over IPv6 it is mandatory and the kernel
fills it in (IPV6_CHECKSUM). Counting: an AF_PACKET socket on lo sees every datagram once as
outgoing, whoever sent it, so a loop between two servers is counted without taking part in it.
"""

import ipaddress
import json
import socket
import struct
import subprocess
import sys
import threading
import time

from harness import Server, listeners

PACKET_OUTGOING = 4
ETH_P_ALL = 3
IPV6_CHECKSUM = getattr(socket, "IPV6_CHECKSUM", 7)


def spoof(source, destination, payload=b"spoofed", count=1):
    """Sends `count` UDP datagrams that claim to come from `source` (host, port) to `destination`."""
    v6 = ":" in source[0]
    udp = struct.pack("!HHHH", source[1], destination[1], 8 + len(payload), 0) + payload
    if v6:
        with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP) as raw:
            raw.setsockopt(socket.IPPROTO_IPV6, IPV6_CHECKSUM, 6)  # the kernel writes the checksum at offset 6
            raw.bind((source[0], 0))
            for _ in range(count):
                raw.sendto(udp, (destination[0], 0))
        return
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP) as raw:
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        # Version 4, 20-byte header; the kernel fills in the total length, id and checksum.
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_UDP, 0,
                             socket.inet_aton(source[0]), socket.inet_aton(destination[0]))
        for _ in range(count):
            raw.sendto(header + udp, (destination[0], 0))


class Sniffer:
    """Records every UDP datagram that crosses lo (time, source, destination) on a thread."""

    def __init__(self):
        self.records = []
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                frame, where = self._sock.recvfrom(70000)
            except socket.timeout:
                continue
            if where[2] != PACKET_OUTGOING:  # lo shows each frame twice: sent, then received
                continue
            record = parse(frame)
            if record:
                self.records.append((time.monotonic(), *record))

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def between(self, ports):
        """Records whose source and destination ports are both in `ports`."""
        return [r for r in self.records if r[2] in ports and r[4] in ports]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse(frame):
    """(source, source port, destination, destination port) of a UDP frame on lo, or None."""
    kind = frame[12:14]
    if kind == b"\x08\x00":
        ip = frame[14:]
        if ip[9] != socket.IPPROTO_UDP:
            return None
        body = ip[(ip[0] & 15) * 4:]
        source, destination = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    elif kind == b"\x86\xdd":
        ip = frame[14:]
        if ip[6] != socket.IPPROTO_UDP:
            return None
        body = ip[40:]
        source = str(ipaddress.IPv6Address(ip[8:24]))
        destination = str(ipaddress.IPv6Address(ip[24:40]))
    else:
        return None
    source_port, destination_port = struct.unpack("!HH", body[:4])
    return source, source_port, destination, destination_port


def serve(*args, expect):
    """Starts `sockit serve ARGS... --udp` and waits for the listeners in `expect` [(service, "udp")]."""
    server = Server("serve", *args, "--udp")
    listeners(server, expect)
    return server


def watch_loop(servers, inject, ports, window=3.0):
    """Counts the datagrams between `ports` for `window` seconds after inject() runs; returns the
    servers' output too. `last` is how long after the injection the last datagram went by."""
    with Sniffer() as sniffer:
        time.sleep(0.2)
        start = time.monotonic()
        inject()
        time.sleep(window)
    seen = sniffer.between(ports)
    outputs = []
    for server in servers:
        server.close()
        outputs.append(server.output())
    return {"datagrams": len(seen), "last": (seen[-1][0] - start) if seen else 0.0, "logs": outputs}


ECHO = [("echo", "udp")]


def self_loop_v4():
    server = serve("echo", expect=ECHO)
    return watch_loop([server], lambda: spoof(("127.0.0.1", 10007), ("127.0.0.1", 10007)), {10007})


def self_loop_v6():
    server = serve("echo", expect=ECHO)
    return watch_loop([server], lambda: spoof(("::1", 10007), ("::1", 10007)), {10007})


def self_loop_mapped():
    # A dual-stack socket sees the IPv4 sender as ::ffff:127.0.0.1.
    server = serve("echo", "--listen", "::", expect=ECHO)
    return watch_loop([server], lambda: spoof(("127.0.0.1", 10007), ("127.0.0.1", 10007)), {10007})


def echo_chargen_one_process():
    server = serve("echo", "chargen", expect=ECHO + [("chargen", "udp")])
    return watch_loop([server], lambda: spoof(("127.0.0.1", 10019), ("127.0.0.1", 10007)), {10007, 10019})


def echo_chargen_two_processes():
    chargen = serve("chargen", expect=[("chargen", "udp")])
    echo = serve("echo", expect=ECHO)
    return watch_loop([echo, chargen], lambda: spoof(("127.0.0.1", 10019), ("127.0.0.1", 10007)), {10007, 10019})


def two_processes_other_ports(count):
    # 7777 and 8888 are on no list: only the rate limit can end this loop.
    echo = serve("echo:7777", expect=ECHO)
    upper = serve("upper:8888", expect=[("upper", "udp")])
    return watch_loop([echo, upper], lambda: spoof(("127.0.0.1", 8888), ("127.0.0.1", 7777), count=count),
                      {7777, 8888})


def port_zero():
    server = serve("echo", expect=ECHO)
    return watch_loop([server], lambda: spoof(("127.0.0.1", 0), ("127.0.0.1", 10007)), {0, 10007})


def not_unicast_sources():
    # A route for multicast, so that a reply to one would go out on lo where the sniffer sees it.
    subprocess.run(["ip", "route", "add", "224.0.0.0/4", "dev", "lo"], check=True)
    server = serve("echo", expect=ECHO)

    def inject():
        spoof(("224.0.0.1", 41234), ("127.0.0.1", 10007))
        spoof(("255.255.255.255", 41234), ("127.0.0.1", 10007))

    return watch_loop([server], inject, {41234, 10007}, window=1.5)


def one_client_flood(count=3000):
    """A real client (not spoofed) sends `count` datagrams as fast as it can; returns how many
    replies came back."""
    server = serve("echo:7777", expect=ECHO)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.connect(("127.0.0.1", 7777))
    client.settimeout(0.5)
    replies = []

    def read():
        while True:
            try:
                replies.append(client.recv(2048))
            except OSError:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    start = time.monotonic()
    for i in range(count):
        client.send(b"%d" % i)
    elapsed = time.monotonic() - start
    reader.join(10)
    client.close()
    server.close()
    return {"replies": len(replies), "sent": count, "elapsed": elapsed, "logs": [server.output()]}


SCENARIOS = {
    "self_loop_v4": self_loop_v4,
    "self_loop_v6": self_loop_v6,
    "self_loop_mapped": self_loop_mapped,
    "echo_chargen_one_process": echo_chargen_one_process,
    "echo_chargen_two_processes": echo_chargen_two_processes,
    "two_processes_other_ports_1": lambda: two_processes_other_ports(1),
    "two_processes_other_ports_100": lambda: two_processes_other_ports(100),
    "port_zero": port_zero,
    "not_unicast_sources": not_unicast_sources,
    "one_client_flood": one_client_flood,
}


def main(name):
    print(json.dumps(SCENARIOS[name]()))
    sys.stdout.flush()
