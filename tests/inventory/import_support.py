"""What the import and export tests share: files written as CSV or XLSX, the admin's two import
steps, and a snapshot of everything an import could change."""

import csv
import io

import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory import services
from inventory.models import Barcode, Product, Stock, StockDocument, StockMovement
from inventory.resources import import_error_messages
from inventory.services import ProductQuantity

STORE_STAFF, STORE_MANAGER, HEAD_OFFICE = "Store staff", "Store manager", "Head office"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in the admin's format list

PRODUCT_HEADER = ["sku", "name", "description", "category", "unit", "price", "barcodes", "is_active"]
TOO_LARGE_PRICE = "1" + "0" * 30


def csv_bytes(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows) -> bytes:
    dataset = tablib.Dataset(headers=rows[0])
    for row in rows[1:]:
        dataset.append(row)
    return dataset.export("xlsx")


def dataset_of(rows) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=rows[0])
    for row in rows[1:]:
        dataset.append(row)
    return dataset


def receive(location, *pairs, number=""):
    services.stock_receive(location=location, lines=[ProductQuantity(p.pk, q) for p, q in pairs], number=number)


def on_hand(product, location) -> int:
    row = Stock.objects.filter(product=product, location=location).first()
    return row.on_hand if row else 0


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def state() -> tuple:
    """Everything an import could change, to compare before and after."""
    return (
        sorted(Product.objects.values_list("sku", "name", "price", "category_id", "unit", "is_active")),
        sorted(Barcode.objects.values_list("code", "product_id")),
        sorted(Stock.objects.values_list("product_id", "location_id", "on_hand", "reserved")),
        StockMovement.objects.count(),
        StockDocument.objects.count(),
    )


def upload(client, model, content, *, filename, file_format=CSV_FORMAT, **fields):
    """The first step of an admin import: upload, and django-import-export's dry run."""
    return client.post(
        reverse(f"admin:inventory_{model}_import"),
        {"format": file_format, "import_file": SimpleUploadedFile(filename, content), **fields},
    )


def confirm(client, model, first_step, **overrides):
    """The second step: confirm the import prepared by the first."""
    form = first_step.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(overrides)
    return client.post(reverse(f"admin:inventory_{model}_process_import"), data, follow=True)


def import_through_admin(client, model, content, *, filename, file_format=CSV_FORMAT, **fields):
    first = upload(client, model, content, filename=filename, file_format=file_format, **fields)
    assert first.status_code == 200
    assert first.context["confirm_form"] is not None, import_error_messages(first.context["result"])
    return confirm(client, model, first)


def page_errors(response) -> str:
    return response.content.decode()
