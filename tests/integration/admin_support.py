"""Helpers for the admin endpoint's tests (`--admin`): start a server with one, ask it over HTTP,
read its Prometheus text."""

import http.client
import json
import re

from harness import Server, wait_until

ADMIN_READY = r"admin page on http://(\S+)/"


def serve_with_admin(*args, **server_options):
    """`sockit serve ARGS... --admin 127.0.0.1:0`, ready once the admin line is out; its
    address() is the admin endpoint's."""
    return Server("serve", *args, "--admin", "127.0.0.1:0", ready=ADMIN_READY, **server_options)


def service_address(server, service):
    """(host, port) of `service`'s TCP listener, from the startup line."""
    host, _, port = server.wait_for(rf"listening on (\S+) \({service}/tcp").group(1).rpartition(":")
    return host.strip("[]"), int(port)


def get(address, path, headers=None, timeout=5):
    """GET `path`; returns (status, {header: value}, body bytes)."""
    conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def status_json(address):
    code, _, body = get(address, "/status.json")
    assert code == 200, (code, body)
    return json.loads(body)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """{(name, ((label, value), ...)): value} of a Prometheus text page (labels sorted)."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(_LABEL.findall(m.group(2) or "")))
        found[(m.group(1), labels)] = float(m.group(3))
    return found


def metrics(address):
    code, headers, body = get(address, "/metrics")
    assert code == 200, (code, body)
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    return samples(body.decode())


def value(found, name, **labels):
    """The sample `name` with exactly `labels`, or None."""
    return found.get((name, tuple(sorted(labels.items()))))


def wait_for_metric(address, name, expected, timeout=10, **labels):
    """Polls /metrics until `name`{labels} is `expected`; returns the last page's samples."""
    last = {}

    def reached():
        last["page"] = metrics(address)
        return value(last["page"], name, **labels) == expected

    wait_until(reached, timeout=timeout, interval=0.05)
    return last["page"]
