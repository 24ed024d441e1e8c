"""HTTP POSTs of webhooks to the address that was checked (``omni.webhooks.addresses``).

``http.client`` rather than ``requests``: the connection is made to the resolved, checked address
while TLS still verifies the certificate of the host name, redirects are never followed, and no
dependency is needed for it. A ``Poster`` keeps its connection alive between the deliveries of one
drain, so that a busy subscription does not pay a TCP (and TLS) handshake per event.
"""

import http.client
import socket
import ssl
from dataclasses import dataclass

from omni.webhooks.addresses import Target

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 64 * 1024
# The receiver may close an idle kept-alive connection just as a request is sent on it.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


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
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.target = target

    def connect(self):
        sock = socket.create_connection((self.target.address, self.target.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.target.host)


class Poster:
    """POSTs to one target over one connection, kept alive while the receiver allows it."""

    def __init__(self, target: Target, *, timeout: float = TIMEOUT_SECONDS):
        self.target = target
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: dict[str, str]) -> Response:
        """The response's status and the start of its body. Raises ``OSError`` (a refused connection,
        a timeout, TLS) or ``http.client.HTTPException``."""
        reused = self._connection is not None
        try:
            return self._post(body, headers)
        except _STALE_CONNECTION:
            if not reused:
                raise
            return self._post(body, headers)  # once more, on a fresh connection

    def _post(self, body: bytes, headers: dict[str, str]) -> Response:
        if self._connection is None:
            connection_class = _PinnedHTTPSConnection if self.target.scheme == "https" else _PinnedHTTPConnection
            self._connection = connection_class(self.target, self.timeout)
        try:
            self._connection.request("POST", self.target.path, body=body, headers=headers)
            response = self._connection.getresponse()
            text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        except BaseException:
            self.close()
            raise
        if response.will_close or not response.isclosed():  # the receiver ends it, or its body was too long
            self.close()
        return Response(response.status, text)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
