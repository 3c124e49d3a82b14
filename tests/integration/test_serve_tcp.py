"""Every TCP service under every model (`sockit serve --list-models`), driven by real clients:
the notes' own clients in python3, nc and socat, checking exact bytes; 50 concurrent clients for
every model but iterative. A service this build lacks is skipped with the reason."""

import unittest

import clients
from harness import built_services, in_parallel, list_models, serve, service_built

TCP_SERVICES = ["echo", "discard", "chargen", "daytime", "time", "fib", "upper", "incr"]
CONCURRENT = 50


def not_built(service):
    return (f"sockit serve {service} says the service is not built into this sockit "
            f"(built: {sorted(n for n, t in built_services().items() if 'tcp' in t)})")


class ModelMatrix:
    """Mixed into one TestCase per model; `model` is set by the generated subclass."""

    model = None

    @classmethod
    def setUpClass(cls):
        cls.server, cls.where = serve(TCP_SERVICES, "--model", cls.model, "--idle-timeout", "20")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.proc.stdout.close()
        if code != 0:
            raise AssertionError(f"sockit serve --model {cls.model} exited {code}:\n{cls.server.output()}")

    def address(self, service):
        if not service_built(service, "tcp"):
            self.skipTest(not_built(service))
        return self.where[(service, "tcp")]

    def test_startup_line_names_the_model(self):
        self.assertIn(f"model {self.model},", self.server.output())


def add_check(cls, service, check):
    def test(self):
        host, port = self.address(service)
        check(self, host, port)
    test.__doc__ = check.__doc__
    setattr(cls, f"test_{service}_{check.__name__.removeprefix(service + '_')}", test)


def add_concurrency(cls, service):
    def test(self):
        host, port = self.address(service)
        results = in_parallel(CONCURRENT, lambda i: clients.tcp_exchange(service, host, port, i), timeout=90)
        self.assertEqual(results, [True] * CONCURRENT)
    setattr(cls, f"test_{service}_serves_{CONCURRENT}_concurrent_clients", test)


for _model in list_models():
    _cls = type(f"Tcp{_model.capitalize()}Model", (ModelMatrix, unittest.TestCase), {"model": _model})
    for _service in TCP_SERVICES:
        for _check in clients.TCP_CHECKS[_service]:
            add_check(_cls, _service, _check)
    if _model != "iterative":
        for _service in ("echo", "fib", "upper"):
            add_concurrency(_cls, _service)
    globals()[_cls.__name__] = _cls
del _cls, _model, _service, _check


if __name__ == "__main__":
    unittest.main()
