"""Tracker requests (cascade-protocol.md §2) from wherever it runs: the lab's tests run it inside a
host (`host.run(["python3", tracker_query.py, ...])`), since the test itself is outside the lab's
namespaces. Prints one JSON object: {"answers": [{"status", "seconds", "peers" or "message"}, ...]},
one answer per request, `--parallel` of them at once.

    python3 tracker_query.py 10.77.0.1:8000 subscribe HASH --ip 10.77.0.5 --port 7000 --repeat 3
"""

import argparse
import json
import socket
import struct
import sys
import threading
import time

from harness import recv_exactly

COMMANDS = {"list": 1, "subscribe": 2, "bad": 1}
TIMEOUT = 10


def ask(host, port, command, cascade_hash, ip, peer_port):
    request = (b"CASC" + struct.pack("!III", 1, COMMANDS[command], 38) + cascade_hash + socket.inet_aton(ip)
               + struct.pack("!H", peer_port))
    if command == "bad":
        request = b"XXXX" + request[4:]
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(request)
        head = recv_exactly(s, 5)
        body = recv_exactly(s, struct.unpack("!I", head[1:])[0])
    answer = {"status": head[0], "seconds": time.monotonic() - start}
    if head[0] == 0:
        answer["peers"] = [[socket.inet_ntoa(body[i:i + 4]), *struct.unpack("!HIB", body[i + 4:i + 11])]
                           for i in range(0, len(body) - 11, 12)]
    else:
        answer["message"] = body.decode("utf-8", "replace")
    return answer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tracker", help="HOST:PORT")
    parser.add_argument("command", choices=sorted(COMMANDS), help="bad: a list with a wrong magic")
    parser.add_argument("hash", help="the cascade hash, 64 hex digits")
    parser.add_argument("--ip", default="127.0.0.1", help="the requester's listening IPv4 address")
    parser.add_argument("--port", type=int, default=1, help="the requester's listening port")
    parser.add_argument("--repeat", type=int, default=1, help="requests, one after another")
    parser.add_argument("--parallel", type=int, default=1, help="requests at once, each on a thread")
    args = parser.parse_args()
    host, _, port = args.tracker.rpartition(":")
    cascade_hash = bytes.fromhex(args.hash)

    answers, lock = [], threading.Lock()

    def one_after_another():
        for _ in range(args.repeat):
            try:
                answer = ask(host, int(port), args.command, cascade_hash, args.ip, args.port)
            except (OSError, AssertionError) as e:  # harness's recv_exactly asserts against an early EOF
                answer = {"status": None, "message": f"{type(e).__name__}: {e}"}
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=one_after_another) for _ in range(args.parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * args.repeat + 5)
    json.dump({"answers": answers}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
