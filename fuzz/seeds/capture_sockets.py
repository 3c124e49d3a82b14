#!/usr/bin/env python3
"""Captures what the kernel tells the socket lister, as seeds for fuzz/sockets_netlink and
fuzz/sockets_proc: sock_diag reply datagrams and /proc/net tables, taken in a fresh network
namespace with a few sockets open (no other process's sockets get into the corpus).

    unshare -n python3 fuzz/seeds/capture_sockets.py fuzz/corpus

Netlink seeds are one byte naming the dump (0 unix, 1 TCP, 2 UDP) and one reply datagram;
/proc seeds one byte naming the table (0 tcp, 1 tcp6, 2 udp, 3 udp6, 4 unix) and its text.
"""
import os
import socket
import struct
import subprocess
import sys

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
INET_DIAG_INFO = 2
UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_RQLEN = 0x1, 0x4, 0x10


def dump(body):
    """Every reply datagram of one sock_diag dump request."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    header = struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.sendto(header + body, (0, 0))
    datagrams = []
    while True:
        d = s.recv(65536)
        datagrams.append(d)
        # NLMSG_DONE (3) ends the dump; it comes alone in the last datagram.
        if len(d) >= 6 and struct.unpack_from("=H", d, 4)[0] == 3:
            return datagrams


def inet_request(family, protocol, ext):
    return struct.pack("=BBBxI", family, protocol, ext, 0xFFFFFFFF) + bytes(48)


def unix_request():
    return struct.pack("=BBxxIII", socket.AF_UNIX, 0, 0xFFFFFFFF, 0, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN) + bytes(8)


def open_sockets(tmp):
    keep = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.bind((host, 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname()[:2])
        server, _ = listener.accept()
        client.sendall(b"queued, unread")
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        connected = socket.socket(family, socket.SOCK_DGRAM)
        connected.connect(udp.getsockname()[:2])
        connected.send(b"datagram")
        keep += [listener, client, server, udp, connected]
    path = os.path.join(tmp, "listener.sock")
    named = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    named.bind(path)
    named.listen()
    keep.append(named)
    unix_client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_client.connect(path)
    unix_server, _ = named.accept()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    abstract.bind(b"\0sockit-fuzz-abstract")
    pair = socket.socketpair()
    pair[0].send(b"unread")
    keep += [unix_client, unix_server, abstract, *pair]
    return keep


def main():
    out = sys.argv[1]
    tmp = os.path.join(out, "..", ".capture")
    os.makedirs(tmp, exist_ok=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    keep = open_sockets(tmp)
    netlink = os.path.join(out, "sockets_netlink")
    os.makedirs(netlink, exist_ok=True)
    dumps = [
        (1, "tcp4", inet_request(socket.AF_INET, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1))),
        (1, "tcp6", inet_request(socket.AF_INET6, socket.IPPROTO_TCP, 0)),
        (2, "udp4", inet_request(socket.AF_INET, socket.IPPROTO_UDP, 0)),
        (2, "udp6", inet_request(socket.AF_INET6, socket.IPPROTO_UDP, 0)),
        (0, "unix", unix_request()),
    ]
    for kind, name, request in dumps:
        for i, datagram in enumerate(dump(request)):
            with open(os.path.join(netlink, f"captured-{name}-{i}"), "wb") as f:
                f.write(bytes([kind]) + datagram)
    proc = os.path.join(out, "sockets_proc")
    os.makedirs(proc, exist_ok=True)
    for kind, table in enumerate(("tcp", "tcp6", "udp", "udp6", "unix")):
        with open(f"/proc/net/{table}", "rb") as f:
            text = f.read()
        with open(os.path.join(proc, f"captured-{table}"), "wb") as f:
            f.write(bytes([kind]) + text)
    for s in keep:
        s.close()
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
