"""Every TCP service under every model (`sockit serve --list-models`), driven by real clients:
the notes' own clients in python3, nc and socat, checking exact bytes; 50 concurrent clients for
every model but iterative. A service this build lacks is skipped with the reason."""

import unittest

import clients
from harness import add_concurrency_check, add_service_check, built_services, list_models, serve, service_built

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


for _model in list_models():
    _cls = type(f"Tcp{_model.capitalize()}Model", (ModelMatrix, unittest.TestCase), {"model": _model})
    for _service in TCP_SERVICES:
        for _check in clients.TCP_CHECKS[_service]:
            add_service_check(_cls, _service, _check)
    if _model != "iterative":
        for _service in ("echo", "fib", "upper"):
            add_concurrency_check(_cls, _service, clients.tcp_exchange, CONCURRENT, timeout=90)
    globals()[_cls.__name__] = _cls
del _cls, _model, _service, _check


if __name__ == "__main__":
    unittest.main()
