"""What the inventory API tests share: the endpoints, stock built through the services, the one
error shape, and a snapshot of what a refused request must leave as it was."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.models import Barcode, Product, Stock, StockDocument, StockDocumentLine, StockMovement
from inventory.services import Cause, ProductQuantity, StockLine

PRODUCTS = reverse("api:inventory:product-list")
LOCATIONS = reverse("api:inventory:location-list")
AVAILABILITY = reverse("api:inventory:availability")
RECEIPTS = reverse("api:inventory:stock-receipt-list")
COUNTS = reverse("api:inventory:stock-count-list")


def product_url(sku: str) -> str:
    return reverse("api:inventory:product-detail", kwargs={"sku": sku})


def receive(location, *pairs, number=""):
    """Stock built the way production builds it: a receipt through the service."""
    return services.stock_receive(location=location, lines=[ProductQuantity(p.pk, q) for p, q in pairs], number=number)


def reserve(product, location, quantity):
    services.stock_reserve(lines=[StockLine(product.pk, location.pk, quantity)], cause=Cause("order", "W-1"))


def on_hand(product, location) -> int:
    return Stock.objects.get(product=product, location=location).on_hand


def db_snapshot() -> dict:
    """Everything the inventory endpoints may write, to assert that a refused request wrote nothing."""
    return {
        "products": sorted(
            Product.objects.values_list("sku", "name", "description", "category_id", "unit", "price", "is_active")
        ),
        "barcodes": sorted(Barcode.objects.values_list("code", "product_id")),
        "stock": sorted(Stock.objects.values_list("product_id", "location_id", "on_hand", "reserved")),
        "movements": StockMovement.objects.count(),
        "documents": sorted(StockDocument.objects.values_list("kind", "number", "location_id", "note")),
        "document_lines": StockDocumentLine.objects.count(),
    }


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape: ``{"error": {"code", "message", "details"}}``; returns the details."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]


def query_count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries)


def skus_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["sku"] for item in response.json()["results"]]


def receipt_body(location, *lines, number="R-1", **extra):
    return {
        "location": location.code,
        "number": number,
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
        **extra,
    }
