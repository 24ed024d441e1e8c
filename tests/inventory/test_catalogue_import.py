"""The catalogue with variants in a spreadsheet: one row per variant with its model, attribute columns
and image URLs; exported, it imports back unchanged; a bad cell imports nothing and is named."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory import services
from inventory.catalogue_resources import CatalogueResource
from inventory.models import Product, ProductImage, ProductModel
from inventory.resources import import_error_messages
from omni.core.actors import Actor
from tests.inventory.factories import CategoryFactory, ean13
from tests.inventory.import_support import (
    CSV_FORMAT,
    HEAD_OFFICE,
    XLSX_FORMAT,
    csv_bytes,
    dataset_of,
    import_through_admin,
    message_texts,
    state,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

HEADER = [
    "sku",
    "name",
    "category",
    "price",
    "barcodes",
    "model_code",
    "model_name",
    "images",
    "attr:size",
    "attr:colour",
]


@pytest.fixture
def attributes():
    CategoryFactory(code="tees")
    services.attribute_upsert(code="size", name="Size", type="choice", choices=["S", "M", "L"])
    services.attribute_upsert(code="colour", name="Colour", type="colour")


def rows():
    return [
        HEADER,
        ["TEE-M", "Tee M", "tees", "990", ean13(1), "TEE", "Basic tee", "https://cdn.example.com/m.jpg", "M", "Red"],
        ["TEE-L", "Tee L", "tees", "1090.50", "", "TEE", "Basic tee", "", "L", ""],
        ["MUG-1", "Mug", "", "120", "", "", "", "", "", ""],
    ]


def import_rows(data):
    return CatalogueResource(actor=Actor()).import_data(dataset_of(data))


def variant(sku: str) -> tuple:
    product = Product.objects.get(sku=sku)
    return (
        product.model.code if product.model else None,
        product.price,
        dict(product.attribute_values.values_list("attribute__code", "value")),
        list(product.images.values_list("url", flat=True)),
    )


def test_imports_variants_with_models_attributes_and_images(attributes):
    result = import_rows(rows())

    assert not import_error_messages(result)
    assert ProductModel.objects.get(code="TEE").name == "Basic tee"
    assert variant("TEE-M") == (
        "TEE",
        Decimal("990"),
        {"size": "M", "colour": "Red"},
        ["https://cdn.example.com/m.jpg"],
    )
    assert variant("TEE-L") == ("TEE", Decimal("1090.50"), {"size": "L"}, [])
    assert variant("MUG-1") == (None, Decimal("120"), {}, [])


def test_bad_rows_are_all_named_and_nothing_is_imported(attributes):
    bad = rows()
    bad[1][8] = "XXL"  # not a size
    bad[2][7] = "ftp://example.com/x.jpg"
    bad[3][0] = "MUG 1"
    before = state()

    messages = import_error_messages(import_rows(bad))

    assert any(m.startswith("Row 2, column attr:size:") and "XXL" in m for m in messages), messages
    assert any(m.startswith("Row 3, column images:") for m in messages), messages
    assert any(m.startswith("Row 4, column sku:") for m in messages), messages
    assert state() == before and not ProductModel.objects.exists() and not ProductImage.objects.exists()


def test_unknown_attribute_column_is_refused(attributes):
    data = rows()
    data[0] = [*HEADER[:-1], "attr:fabric"]
    messages = import_error_messages(import_rows(data))
    assert messages == ["The file names attributes that do not exist: fabric."]
    assert not Product.objects.exists()


def export_rows(client, file_format=CSV_FORMAT):
    resource = CatalogueResource()
    fields = list(resource.fields)
    data = {"format": file_format, **{f"catalogueresource_{field}": "on" for field in fields}}
    return client.post(reverse("admin:inventory_productmodel_export"), data)


def test_export_imports_back_unchanged_through_the_admin(client, login, attributes):
    import_rows(rows())
    login(HEAD_OFFICE)
    exported = export_rows(client)
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {"model_code", "model_name", "images", "attr:size", "attr:colour"} <= set(table[0])
    line = dict(zip(table[0], next(r for r in table if r[0] == "TEE-M"), strict=True))
    assert (line["model_code"], line["attr:size"], line["images"]) == ("TEE", "M", "https://cdn.example.com/m.jpg")
    before = (state(), [variant(sku) for sku in ("TEE-M", "TEE-L", "MUG-1")])

    response = import_through_admin(client, "productmodel", exported.content, filename="catalogue.csv")

    assert any("Import finished" in text for text in message_texts(response))
    assert (state(), [variant(sku) for sku in ("TEE-M", "TEE-L", "MUG-1")]) == before


def test_admin_upload_shows_every_bad_row(client, login, attributes):
    login(HEAD_OFFICE)
    bad = rows()
    bad[2][3] = "free"

    response = upload(client, "productmodel", csv_bytes(bad), filename="c.csv")

    assert "Row 3, column price" in response.content.decode()
    assert not Product.objects.exists()


def test_xlsx_import(client, login, attributes):
    login(HEAD_OFFICE)
    import_through_admin(client, "productmodel", xlsx_bytes(rows()), filename="c.xlsx", file_format=XLSX_FORMAT)
    assert variant("TEE-L")[0] == "TEE"
