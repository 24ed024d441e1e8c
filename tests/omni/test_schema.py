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
