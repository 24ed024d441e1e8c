import re
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"), stdout=StringIO()
    )
    assert "/api/v1/health/" in (tmp_path / "schema.yml").read_text()


def test_every_operation_documents_its_errors(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["type"] == "apiKey"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.endswith("/health/"):
                continue
            assert {"401", "403"} <= set(operation["responses"]), f"{method.upper()} {path} lacks auth errors"
            assert operation.get("summary"), f"{method.upper()} {path} lacks a summary"


def test_interactive_docs_are_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn.jsdelivr" not in response.content


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_choices_the_api_answers_blank_allow_blank(schema):
    components = schema["components"]["schemas"]
    blank_allowed = {
        ("Customer", "gender"),
        ("Customer", "preferred_channel"),
        ("Customer", "preferred_payment_method"),
        ("Entry", "bonus_type"),
        ("Entry", "channel"),
    }
    for component, field in blank_allowed:
        variants = components[component]["properties"][field].get("oneOf", [])
        assert {"$ref": "#/components/schemas/BlankEnum"} in variants, f"{component}.{field}"


def test_fields_every_order_carries_are_required(schema):
    required = set(schema["components"]["schemas"]["Order"]["required"])
    assert {"total", "paid", "refunded", "subtotal", "points_earned"} <= required


def test_a_replayed_answer_is_documented_where_an_idempotency_key_is_taken(schema):
    operation = schema["paths"]["/api/v1/orders/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]


def test_every_operation_names_its_scope(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.endswith("/health/"):
                assert operation["x-scopes"] == []
                continue
            [scope] = operation["x-scopes"]
            assert f"`{scope}`" in operation["description"], f"{method.upper()} {path}"


def test_a_page_below_one_is_invalid_input_and_documented(schema, client_with_scopes):
    reader = client_with_scopes("catalog:read")
    for page in ("0", "-1", "x"):
        response = reader.get("/api/v1/products/", {"page": page})
        assert response.status_code == 400, page
        assert list(response.json()["error"]["details"]["fields"]) == ["page"]
    assert reader.get("/api/v1/products/", {"page": "7"}).json()["error"]["code"] == "not_found"
    operation = schema["paths"]["/api/v1/products/"]["get"]
    assert {"400", "404"} <= set(operation["responses"])
    page = next(p for p in operation["parameters"] if p["name"] == "page")
    assert page["schema"]["minimum"] == 1


def test_request_bodies_say_what_the_serializers_enforce(schema):
    order = schema["components"]["schemas"]["OrderInputRequest"]
    assert order["additionalProperties"] is False
    assert order["properties"]["lines"]["minItems"] == 1
    pattern = re.compile(schema["components"]["schemas"]["PaymentInputRequest"]["properties"]["amount"]["pattern"])
    assert pattern.match("10.50") and pattern.match(".5")
    assert not any(pattern.match(text) for text in ("", ".", "-", "-."))
