"""Message backends for tests: they record what they were asked to send."""

import threading
import time

from customers.messaging.backends import MessageBackend


class RecordingBackend(MessageBackend):
    sent: list = []
    lock = threading.Lock()
    delay = 0.0

    def send(self, message):
        time.sleep(self.delay)
        with self.lock:
            RecordingBackend.sent.append(message.pk)
        return f"rec-{message.pk}"


class FailingBackend(MessageBackend):
    failures_left = 0
    calls = 0

    def send(self, message):
        FailingBackend.calls += 1
        if FailingBackend.failures_left:
            FailingBackend.failures_left -= 1
            raise ConnectionError("provider down")
        return "ok-1"
