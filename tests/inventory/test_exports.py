"""Exports of the catalogue, the stock and the ledger: their columns, and only the user's locations."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from inventory import services
from inventory.models import Stock
from inventory.services import Cause, StockLine
from tests.inventory.factories import LocationFactory, ean13
from tests.inventory.import_support import (
    CSV_FORMAT,
    HEAD_OFFICE,
    PRODUCT_HEADER,
    STORE_MANAGER,
    STORE_STAFF,
    XLSX_FORMAT,
    import_through_admin,
    receive,
    state,
)

pytestmark = pytest.mark.django_db


# --- Exports ---------------------------------------------------------------------------------


def export(client, model, resource_name, fields, *, query="", file_format=CSV_FORMAT):
    """django-import-export's own export page (the catalogue)."""
    data = {"format": file_format, **{f"{resource_name}_{field}": "on" for field in fields}}
    return client.post(reverse(f"admin:inventory_{model}_export") + query, data)


def export_list(client, model, *, query="", file_format="csv"):
    """The export link of a change list (``omni.reports.exports.admin``), with the list's query string."""
    return client.get(reverse(f"admin:inventory_{model}_export_list", args=[file_format]) + query)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# Column names for people (the machine names are ``?_headers=names``: tests/omni/test_list_exports.py).
STOCK_COLUMNS = ["Location", "SKU", "Name", "On hand", "Reserved", "Available", "Minimum"]


class TestExports:
    def test_products_export_the_import_columns(self, client, login, catalogue):
        login(STORE_STAFF, LocationFactory())

        response = export(client, "product", "productresource", PRODUCT_HEADER)

        rows = csv_rows(response)
        assert rows[0] == PRODUCT_HEADER
        assert rows[1][0] == "MUG-1"
        assert rows[1][6] == ean13(1)

    def test_an_exported_product_file_imports_back_unchanged(self, client, login, catalogue):
        login(HEAD_OFFICE)
        exported = export(client, "product", "productresource", PRODUCT_HEADER, file_format=XLSX_FORMAT).content
        before = state()

        import_through_admin(client, "product", exported, filename="p.xlsx", file_format=XLSX_FORMAT)

        assert state() == before

    def test_stock_export_has_its_columns_and_only_their_locations(self, client, login, stores):
        receive(stores["b"], (stores["mug"], 9), number="R-B")
        services.stock_reserve(lines=[StockLine(stores["mug"].pk, stores["a"].pk, 2)], cause=Cause("order", "W-1"))
        login(STORE_MANAGER, stores["a"])

        rows = csv_rows(export_list(client, "stock"))

        assert rows[0] == STOCK_COLUMNS
        assert sorted(rows[1:]) == [
            ["store-a", "KETTLE", stores["kettle"].name, "10", "0", "10", "0"],
            ["store-a", "MUG", stores["mug"].name, "5", "2", "3", "0"],
        ]

    def test_head_office_exports_every_location_with_the_filters_applied(self, client, login, stores):
        receive(stores["b"], (stores["mug"], 9), number="R-B")
        services.stock_set_minimum(
            stock=Stock.objects.get(product=stores["mug"], location=stores["b"]), min_quantity=10
        )
        login(HEAD_OFFICE)

        everything = csv_rows(export_list(client, "stock"))
        low = csv_rows(export_list(client, "stock", query="?low_stock=yes"))
        at_b = csv_rows(export_list(client, "stock", query=f"?location__id__exact={stores['b'].pk}"))

        assert len(everything) == 1 + 3
        assert [row[:2] for row in low[1:]] == [["store-b", "MUG"]]
        assert [row[:2] for row in at_b[1:]] == [["store-b", "MUG"]]

    def test_a_store_cannot_export_another_store_by_filtering_for_it(self, client, login, stores):
        receive(stores["b"], (stores["mug"], 9), number="R-B")
        store_c = LocationFactory(code="store-c")
        login(STORE_MANAGER, stores["a"], store_c)  # two locations, so the location filter is active

        rows = csv_rows(export_list(client, "stock", query=f"?location__id__exact={stores['b'].pk}"))

        assert rows[1:] == []

    def test_with_one_location_a_filter_for_another_still_exports_only_theirs(self, client, login, stores):
        # Django drops a list filter with a single choice, and its parameter with it.
        receive(stores["b"], (stores["mug"], 9), number="R-B")
        login(STORE_MANAGER, stores["a"])

        rows = csv_rows(export_list(client, "stock", query=f"?location__id__exact={stores['b'].pk}"))

        assert {row[0] for row in rows[1:]} == {"store-a"}

    def test_stock_export_as_xlsx(self, client, login, stores):
        login(STORE_MANAGER, stores["a"])

        response = export_list(client, "stock", file_format="xlsx")

        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.values)
        assert list(values[0]) == STOCK_COLUMNS
        # Numbers stay numbers in a spreadsheet (django-import-export's native types for binary formats).
        assert sorted(row[:4] for row in values[1:]) == [
            ("store-a", "KETTLE", stores["kettle"].name, 10),
            ("store-a", "MUG", stores["mug"].name, 5),
        ]

    def test_ledger_export_is_scoped(self, client, login, stores):
        receive(stores["b"], (stores["mug"], 9), number="R-B")
        login(STORE_MANAGER, stores["a"])
        columns = [
            "Date and time",
            "Location",
            "SKU",
            "On hand, change",
            "Reserved, change",
            "Reason",
            "Cause",
            "Cause ID",
            "Note",
            "By",
        ]

        rows = csv_rows(export_list(client, "stockmovement"))

        assert rows[0] == columns
        assert {(row[1], row[6], row[7]) for row in rows[1:]} == {("store-a", "receipt", "R-0")}
        assert len(rows) == 1 + 2

    def test_the_ledger_is_not_imported(self, client, login, stores):
        login(HEAD_OFFICE)
        with pytest.raises(Exception):  # noqa: B017 - there is simply no such URL
            reverse("admin:inventory_stockmovement_import")
