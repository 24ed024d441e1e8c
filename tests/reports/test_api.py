"""GET /api/v1/reports/orders.csv: orders and their lines for a period, streamed, scope reports:read."""

import csv
import io

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/orders.csv"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_needs_credentials(api_client, shop):
    response = api_client.get(URL, MARCH)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_needs_the_reports_scope(client_with_scopes, shop):
    response = client_with_scopes("orders:read").get(URL, MARCH)

    assert response.status_code == 403
    assert "reports:read" in response.json()["error"]["message"]


def test_streams_orders_and_lines_of_the_period(client_with_scopes, shop):
    response = client_with_scopes("reports:read").get(URL, MARCH, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response)
    header = rows[0]
    assert header[0] == "order" and "sku" in header and "line_total" in header
    body = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    # lines of orders placed in March: O1, O2, O3 (2 lines), O4, O5, O8, O9
    assert len(body) == 8
    o3 = [row for row in body if row["order"] == "A-000003"]
    assert {(row["sku"], row["quantity"], row["refused"]) for row in o3} == {("P1", "1", "0"), ("P2", "2", "1")}
    assert o3[0]["store"] == "w" and o3[0]["order_paid"] == "150.00"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"date_from": "2026-03-01"},
        {"date_from": "yesterday", "date_to": "2026-03-31"},
        {"date_from": "2026-03-31", "date_to": "2026-03-01"},
        {"date_from": "2024-01-01", "date_to": "2026-03-01"},
    ],
)
def test_bad_dates_are_a_400_in_the_envelope(client_with_scopes, shop, query):
    response = client_with_scopes("reports:read").get(URL, query, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["details"]["fields"]) <= {"date_from", "date_to"}


def test_staff_session_gets_their_stores_only(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a))

    response = client.get(URL, MARCH)

    assert response.status_code == 200
    assert {row[0] for row in rows_of(response)[1:]} == {"S-000001", "W-000002", "S-000009"}


def test_staff_without_the_export_permission_is_refused(client, shop, manager_of):
    client.force_login(manager_of(shop.store_a, role="Store staff"))

    assert client.get(URL, MARCH).status_code == 403
