"""When the database or the Celery broker cannot be reached, a request answers 503 ``unavailable``
with ``Retry-After`` (``omni.core.api.exceptions`` for the API, ``omni.core.middleware`` for the admin)
instead of a 500: the client retries, and with the same ``Idempotency-Key`` a retry is safe.

Only connection-level failures count. An error from a database that answered (a lock or statement
timeout, a deadlock) is contention or a bug and stays a 500.
"""

import sqlite3

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

# A PostgreSQL restart takes seconds; a client should not hammer it meanwhile.
RETRY_AFTER_SECONDS = 10

# SQLSTATEs of a server that is going away or not yet accepting connections; class 08 is
# "connection exception".
_SERVER_GONE_STATES = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now


def unavailable_component(exc: BaseException) -> str | None:
    """``"database"`` or ``"broker"`` when ``exc`` means it cannot be reached, else None."""
    if isinstance(exc, BrokerOperationalError):
        return "broker"
    if isinstance(exc, InterfaceError):
        return "database"  # the connection is already closed
    if isinstance(exc, OperationalError) and _connection_failed(exc.__cause__):
        return "database"
    return None


def _connection_failed(cause: BaseException | None) -> bool:
    if isinstance(cause, sqlite3.OperationalError):
        return "unable to open database file" in str(cause)  # not e.g. "database is locked"
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        return True  # no answer from a server: it refused, or the connection broke
    return sqlstate.startswith("08") or sqlstate in _SERVER_GONE_STATES
