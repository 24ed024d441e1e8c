"""One HTTP POST of a webhook, to the address that was checked (``omni.webhooks.addresses``).

``http.client`` rather than ``requests``: the connection is made to the resolved, checked address
while TLS still verifies the certificate of the host name, redirects are never followed, and no
dependency is needed for it.
"""

import http.client
import socket
import ssl
from dataclasses import dataclass

from omni.webhooks.addresses import Target

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    body: str


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self):
        self.sock = socket.create_connection((self.target.address, self.target.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.target = target

    def connect(self):
        sock = socket.create_connection((self.target.address, self.target.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.target.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS) -> Response:
    """POST ``body``; the response's status and the start of its body. Raises ``OSError`` (a
    refused connection, a timeout, TLS) or ``http.client.HTTPException``."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        return Response(response.status, text)
    finally:
        connection.close()
