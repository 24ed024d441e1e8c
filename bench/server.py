"""Gunicorn on 127.0.0.1 for the benchmarks that measure requests over HTTP, and a timed client.

``bench.settings`` is the real settings with one more URL: ``/bench/empty/``, an API view that
authenticates, checks a scope and throttles like every endpoint, then answers ``{}`` without a
query of its own. Its latency is the floor an endpoint is compared with.
"""

import os
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from urllib.parse import urlencode

HOST = "127.0.0.1"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``with Gunicorn(workers=1) as server: server.get(...)``; stops the server on leaving."""

    def __init__(self, *, workers: int = 1, env: dict | None = None):
        self.port = free_port()
        self.workers = workers
        self.env = {
            **os.environ,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "omni.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/api/v1/health/")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        sys.exit("gunicorn did not start within 30 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def request(self, method: str, path: str, *, query=None, body: bytes | None = None, headers=None):
        """(status, body bytes, seconds): one request on a fresh connection, as gunicorn's sync
        workers close each connection after answering."""
        if query:
            path = f"{path}?{urlencode(query, doseq=True)}"
        conn = HTTPConnection(HOST, self.port, timeout=60)
        try:
            began = time.perf_counter()
            conn.request(method, path, body, headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, data, time.perf_counter() - began
        finally:
            conn.close()

    def timed(self, method: str, path: str, calls, *, headers=None, expect: int = 200) -> list[float]:
        """Milliseconds of each call; ``calls`` yields (query, body) pairs."""
        timings = []
        for query, body in calls:
            status, data, seconds = self.request(method, path, query=query, body=body, headers=headers)
            assert status == expect, (status, data[:300])
            timings.append(seconds * 1000)
        return timings
