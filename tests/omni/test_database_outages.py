"""The database going away: a connection the server closed, and a database that cannot be reached."""

import time
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import InterfaceError, OperationalError, connection, connections
from kombu.exceptions import OperationalError as BrokerOperationalError

from omni.core.availability import RETRY_AFTER_SECONDS, unavailable_component
from omni.core.models import NumberSequence


def wsgi_get(path: str, **headers) -> int:
    """GET ``path`` the way gunicorn does, through Django's WSGI handler (the test client leaves
    out the request_started/finished connection housekeeping that this is about); returns the status."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, **headers}
    setup_testing_defaults(environ)
    statuses = []
    response = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(response)
    finally:
        response.close()  # request_finished: the connection is kept (CONN_MAX_AGE) or closed
    return int(statuses[0].split()[0])


def terminate_backend(pid: int) -> None:
    """What a PostgreSQL restart does to an idle connection: its server process goes away."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(100):  # the backend exits shortly after the signal
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise AssertionError(f"backend {pid} did not exit")
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_between_requests_is_replaced_not_failed(client_with_scopes, settings):
    # given: a kept connection (CONN_MAX_AGE > 0) that served a request
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    auth = client_with_scopes("catalog:read")._credentials["HTTP_AUTHORIZATION"]
    assert wsgi_get("/api/v1/products/", HTTP_AUTHORIZATION=auth) == 200
    assert connection.connection is not None, "the connection should be kept between requests"
    pid = connection.connection.info.backend_pid

    # when: the server closes it while it is idle
    terminate_backend(pid)

    # then: the next request checks it, connects again and answers
    assert wsgi_get("/api/v1/products/", HTTP_AUTHORIZATION=auth) == 200
    assert connection.connection.info.backend_pid != pid


# --- A database (or broker) that cannot be reached: 503, not 500 ----------------------------


@pytest.fixture
def database_down(monkeypatch):
    """Every new use of the database fails the way a refused connection does."""

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    def take_down():
        monkeypatch.setattr(connection, "ensure_connection", refuse)

    return take_down


def assert_unavailable(response):
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["details"] == {"retry_after": RETRY_AFTER_SECONDS}


@pytest.mark.django_db
def test_api_request_while_the_database_is_unreachable_is_503_unavailable(client_with_scopes, database_down):
    client = client_with_scopes("catalog:read")
    database_down()

    assert_unavailable(client.get("/api/v1/products/"))


@pytest.mark.django_db
@pytest.mark.urls("tests.omni.urls")
def test_retry_with_the_same_idempotency_key_after_a_503_makes_one_change(client_with_scopes, monkeypatch):
    client = client_with_scopes("stock:write")
    create = NumberSequence.objects.create

    def connection_lost(**kwargs):
        raise wrapped(psycopg.OperationalError("server closed the connection unexpectedly"), "connection lost")

    # when: the connection breaks after the key was recorded, then the client retries with the same key
    monkeypatch.setattr(NumberSequence.objects, "create", connection_lost)
    first = client.post("/api/v1/idempotent/", {"note": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")
    monkeypatch.setattr(NumberSequence.objects, "create", create)
    again = client.post("/api/v1/idempotent/", {"note": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")

    # then: the 503 stored nothing, the retry ran once and is not a replay
    assert_unavailable(first)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert NumberSequence.objects.filter(name__startswith="idempotency-test-").count() == 1


@pytest.mark.django_db
def test_admin_page_while_the_database_is_unreachable_is_a_plain_503_page(client, staff_in_role, database_down):
    client.force_login(staff_in_role("Administrator"))
    database_down()

    response = client.get("/admin/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert "Try again in a few seconds" in response.content.decode()


def wrapped(cause: Exception, message: str) -> OperationalError:
    """The error Django raises for ``cause`` from the database driver."""
    exc = OperationalError(message)
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "component"),
    [
        (OperationalError("refused"), "database"),  # no answer from a server: could not connect
        (wrapped(psycopg.OperationalError("server closed the connection"), "gone"), "database"),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection"), "restart"), "database"),
        (wrapped(psycopg.errors.CannotConnectNow("starting up"), "starting"), "database"),
        (InterfaceError("connection already closed"), "database"),
        (BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379"), "broker"),
        # Errors of a database that answered are bugs or contention, not an outage: still a 500.
        (wrapped(psycopg.errors.LockNotAvailable("could not obtain lock"), "lock"), None),
        (wrapped(psycopg.errors.QueryCanceled("statement timeout"), "timeout"), None),
        (wrapped(psycopg.errors.DeadlockDetected("deadlock detected"), "deadlock"), None),
        (ValueError("a bug"), None),
    ],
)
def test_only_an_unreachable_database_or_broker_counts_as_unavailable(exc, component):
    assert unavailable_component(exc) == component


@pytest.mark.django_db
def test_an_error_of_a_database_that_answered_is_still_a_server_error(client_with_scopes, monkeypatch):
    client = client_with_scopes("catalog:read")
    client.raise_request_exception = False

    def lock_timeout(*args, **kwargs):
        raise wrapped(psycopg.errors.LockNotAvailable("could not obtain lock"), "could not obtain lock")

    monkeypatch.setattr(connection, "ensure_connection", lock_timeout)

    assert client.get("/api/v1/products/").status_code == 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api_request_while_postgresql_refuses_connections_is_503(client_with_scopes):
    client = client_with_scopes("catalog:read")
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = 1  # nothing listens there: connections are refused
    try:
        response = client.get("/api/v1/products/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    assert_unavailable(response)
    assert client.get("/api/v1/products/").status_code == 200  # and it recovers by itself


@pytest.mark.django_db
def test_health_503_says_when_to_retry(api_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = api_client.get("/api/v1/health/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
