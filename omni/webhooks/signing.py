"""Signatures the way Stripe makes them: ``Omni-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Omni-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def signature_verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: the header's time is recent and one of its v1 signatures matches."""
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in parts if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")
