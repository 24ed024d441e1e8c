"""A local HTTP receiver on 127.0.0.1 that verifies signatures, and subscriptions to it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from omni.core.services import api_key_create
from omni.webhooks.services import subscription_create
from omni.webhooks.signing import signature_verify


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        self.secret = ""
        self.bad_signatures = 0

    def handle(self, handler: BaseHTTPRequestHandler) -> int:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        if not signature_verify(self.secret, body, handler.headers["Omni-Signature"]):
            self.bad_signatures += 1
            return 400
        event = json.loads(body)
        assert handler.headers["Omni-Event-Id"] == event["id"]
        assert handler.headers["Omni-Event-Type"] == event["type"]
        if self.status < 300:
            self.received.append(event)
        return self.status

    @property
    def types(self) -> list[str]:
        return [event["type"] for event in self.received]


@pytest.fixture
def receiver(settings):
    settings.OMNI_WEBHOOK_ALLOW_PRIVATE_URLS = True
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            code = state.handle(self)
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribe(db, receiver):
    def make(*event_types, **fields):
        api_key, _raw = api_key_create(name=f"shop-{len(event_types)}-{id(fields)}", scopes=["webhooks:manage"])
        subscription = subscription_create(api_key=api_key, url=receiver.url, event_types=list(event_types), **fields)
        receiver.secret = subscription.secret
        return subscription

    return make
