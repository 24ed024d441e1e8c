"""Never a 500 for what a client sent: each kind of hostile input, sent to every operation of the schema.

The operations are read from the OpenAPI schema the API publishes, so a new endpoint is covered the
day it is added. Each request is made with an API key holding every scope, with path parameters
naming real objects, so the input reaches the view's own code and not only a 404.
"""

import re
from urllib.parse import quote, urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from omni.core.scopes import Scope
from tests.loyalty.factories import ProgrammeFactory, member
from tests.orders.factories import collect, product, stock, store

pytestmark = pytest.mark.django_db

NUL = "A\x00B"
DEEP_JSON = b"[" * 50_000
EDGE_DATES = ("0001-01-01", "9999-12-30", "9999-12-31")
EDGE_DATETIMES = ("0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59", "9999-12-31T23:59:59Z")
OVERSIZED = b'{"note": "' + b"x" * (5 * 1024 * 1024) + b'"}'


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


OPERATIONS = list(_operations())
WITH_BODY = [(path, method, op) for path, method, op in OPERATIONS if "requestBody" in op]


@pytest.fixture
def world():
    """One of each thing a path parameter can name."""
    ProgrammeFactory()
    shop, item = store(), product()
    stock(shop, item, 5)
    account = member()
    order = collect(account.customer, shop, (item, 1))
    return {
        "sku": item.sku,
        "id": account.customer.pk,  # customers, and nothing under cases/ and refunds/: a 404 there
        "customer_id": account.customer.pk,
        "order_number": order.number,
        "card_number": account.cards.first().number,
        "ref": "R-1",
        "code": shop.code,  # a location; no category or promo code has it: a 404 there
        "pk": 1,  # a duplicate pair: none, a 404
        "model_code": "NO-MODEL",  # a 404 there
    }


@pytest.fixture
def client(client_with_scopes):
    return client_with_scopes(*Scope.values)


def _url(path: str, values: dict, *, override: str | None = None) -> str:
    def value(match):
        name = match.group(1)
        if override is not None:
            return quote(override, safe="")
        if name == "number":
            return values["card_number"] if path.startswith("/api/v1/loyalty/") else values["order_number"]
        return quote(str(values[name]), safe="")

    return re.sub(r"{(\w+)}", value, path)


def _send(client, method: str, url: str, **kwargs):
    return getattr(client, method)(url, **kwargs)


def _assert_refused_in_shape(response, what: str):
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), f"{what}: {response['Content-Type']}"
        error = response.json()["error"]
        assert {"code", "message", "details"} <= set(error), f"{what}: {error}"


def test_a_nul_byte_in_any_path_parameter_is_refused_in_the_error_shape(client, world):
    sent = 0
    for path, method, _operation in OPERATIONS:
        if "{" not in path:
            continue
        response = _send(client, method, _url(path, world, override=NUL), data={}, format="json")
        _assert_refused_in_shape(response, f"{method.upper()} {path}")
        assert response.status_code in (400, 404), f"{method.upper()} {path}: {response.status_code}"
        sent += 1
    assert sent > 10


def test_a_nul_byte_in_any_query_parameter_is_refused_in_the_error_shape(client, world):
    for path, method, operation in OPERATIONS:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] or ["q"]
        url = f"{_url(path, world)}?{urlencode(dict.fromkeys(names, NUL))}"
        response = _send(client, method, url, data={}, format="json")
        _assert_refused_in_shape(response, f"{method.upper()} {path}?{names}")
        assert response.status_code == 400, f"{method.upper()} {path}: {response.status_code}"


def test_dates_at_the_edge_of_the_calendar_are_refused_in_the_error_shape(client, world):
    sent = 0
    for path, method, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            kind = parameter["schema"].get("format")
            if parameter["in"] != "query" or kind not in ("date", "date-time"):
                continue
            for edge in EDGE_DATES if kind == "date" else EDGE_DATETIMES:
                # Both ends of a period, when the operation has one, so the period itself is valid.
                names = [p["name"] for p in operation["parameters"] if p["schema"].get("format") == kind]
                url = f"{_url(path, world)}?{urlencode(dict.fromkeys(names, edge))}"
                response = _send(client, method, url)
                _assert_refused_in_shape(response, f"{method.upper()} {url}")
                assert response.status_code == 400, f"{method.upper()} {url}: {response.status_code} {response.json()}"
                sent += 1
    assert sent > 10


def test_deeply_nested_json_is_refused_in_the_error_shape(client, world):
    for path, method, _operation in WITH_BODY:
        response = _send(client, method, _url(path, world), data=DEEP_JSON, content_type="application/json")
        _assert_refused_in_shape(response, f"{method.upper()} {path}")
        assert response.status_code == 400, f"{method.upper()} {path}: {response.status_code}"
        assert response.json()["error"]["code"] == "parse_error"


def test_an_oversized_body_is_refused_with_413_in_the_error_shape(client, world):
    for path, method, operation in WITH_BODY:
        assert "413" in operation["responses"], f"{method.upper()} {path} does not document 413"
        response = _send(client, method, _url(path, world), data=OVERSIZED, content_type="application/json")
        _assert_refused_in_shape(response, f"{method.upper()} {path}")
        assert response.status_code == 413, f"{method.upper()} {path}: {response.status_code}"
        assert response.json()["error"]["code"] == "too_large"
