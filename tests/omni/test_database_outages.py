"""The database going away: a connection the server closed, and a database that cannot be reached."""

import time
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections


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
