"""A real Celery worker keeps running when Redis goes away while it holds a task, and the task is
done once when Redis is back.

With celery 5.7.0 the worker exited here (``AttributeError: 'NoneType' object has no attribute
'hostname'`` in kombu's ``restore_unacked``): after a lost connection the consumer closed the
connection that ``collect()`` had already released, so the channel tried to restore its unacked
messages through a transport with no connection. requirements.txt pins the release before that.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROBE = "tests.omni.broker_probe.probe"
COUNTDOWN = 4  # seconds the worker holds the retried message before running it again


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a spare port, persisting to disk so that a restart
    keeps the queue and the unacknowledged messages, as a production Redis does."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = spare_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
            + ["--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._pings(client), 10, "redis-server to start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            raise pytest.UsageError("CI must have redis-server installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(redis_server, tmp_path):
    """``celery -A omni worker`` with Omni's settings (acks_late, prefork), loading the probe task."""
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.omni.worker_settings",
        "SECRET_KEY": "tests-only-not-secret",
        "CELERY_BROKER_URL": redis_server.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "omni", "worker", "-I", "tests.omni.broker_probe"]
    command += ["--concurrency", "1", "--loglevel", "INFO", "--hostname", f"outage-{redis_server.port}@%h"]
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    process.log = log
    try:
        wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 30, "the worker to start")
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_worker_survives_redis_going_away_while_it_holds_a_task_and_does_it_once(
    redis_server, worker, tmp_path, monkeypatch
):
    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)  # Celery prefers it to ``broker=``
    marker = tmp_path / "probe.txt"
    marker.touch()
    log = worker.log

    def runs() -> list[str]:
        return marker.read_text().splitlines()

    # given: the worker holds a task it is to retry (an unacknowledged message with a countdown)
    Celery(broker=redis_server.url).send_task(PROBE, args=[str(marker), COUNTDOWN])
    wait_for(lambda: log.read_text().count(f"Task {PROBE}[") >= 3, 20, "the retry to be received")
    assert runs() == ["run 0"]

    # when: Redis goes away while the worker holds it, then comes back
    redis_server.stop()
    wait_for(lambda: "Connection to broker lost" in log.read_text() or worker.poll() is not None, 15, "the loss")
    time.sleep(1)
    redis_server.start()

    # then: the worker is still running and the task is done, once
    wait_for(lambda: "done" in runs() or worker.poll() is not None, 40, "the task to be done")
    assert worker.poll() is None, log.read_text()
    time.sleep(2)  # a second delivery would show by now
    assert runs().count("done") == 1, runs()
    client = redis_server.client()
    assert (client.hlen("unacked"), client.llen("celery")) == (0, 0), "the message must be acknowledged"

    # and a warm shutdown (which restores what the worker still holds) queues nothing again
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=15)
    assert (client.hlen("unacked"), client.llen("celery")) == (0, 0)
    assert "Unrecoverable error" not in log.read_text()
