"""Import and export with django-import-export: all or nothing, through the services, scoped."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inventory import services
from inventory.models import Barcode, Category, Product, Stock, StockDocument, StockMovement
from inventory.resources import ProductResource, StockImportResource, import_error_messages
from inventory.selectors import stock_discrepancies
from inventory.services import Cause, ProductQuantity, StockLine
from omni.core.actors import Actor
from tests.inventory.factories import (
    BarcodeFactory,
    CategoryFactory,
    LocationFactory,
    ProductFactory,
    ean13,
)

pytestmark = pytest.mark.django_db

STORE_STAFF, STORE_MANAGER, HEAD_OFFICE = "Store staff", "Store manager", "Head office"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in the admin's format list

PRODUCT_HEADER = ["sku", "name", "description", "category", "unit", "price", "barcodes", "is_active"]


# --- Helpers ---------------------------------------------------------------------------------


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


@pytest.fixture
def login(client, staff_in_role):
    def make(role, *locations):
        user = staff_in_role(role, locations=locations)
        client.force_login(user)
        return user

    return make


@pytest.fixture
def catalogue():
    CategoryFactory(code="kitchen", name="Kitchen")
    CategoryFactory(code="garden", name="Garden")
    existing = ProductFactory(sku="MUG-1", name="Mug", price=Decimal("100.00"), category=None)
    BarcodeFactory(product=existing, code=ean13(1))
    return existing


# --- Product import --------------------------------------------------------------------------


class TestProductImport:
    def good_rows(self):
        return [
            PRODUCT_HEADER,
            ["KETTLE-1", "Kettle", "1.7 l", "kitchen", "pcs", "1990.50", f"{ean13(10)}, {ean13(11)}", "1"],
            ["MUG-1", "Big mug", "", "kitchen", "pcs", "120,00", ean13(1), "yes"],
            ["HOSE-1", "Garden hose", "", "garden", "m", "15", "", "0"],
        ]

    def assert_imported(self):
        kettle = Product.objects.get(sku="KETTLE-1")
        assert (kettle.name, kettle.description, kettle.category.code, kettle.price) == (
            "Kettle",
            "1.7 l",
            "kitchen",
            Decimal("1990.50"),
        )
        assert sorted(kettle.barcodes.values_list("code", flat=True)) == [ean13(10), ean13(11)]
        mug = Product.objects.get(sku="MUG-1")
        assert (mug.name, mug.price, mug.category.code) == ("Big mug", Decimal("120.00"), "kitchen")
        assert list(mug.barcodes.values_list("code", flat=True)) == [ean13(1)]
        hose = Product.objects.get(sku="HOSE-1")
        assert (hose.unit, hose.is_active, hose.barcodes.count()) == ("m", False, 0)

    def test_a_good_csv_is_previewed_then_imported(self, client, login, catalogue):
        login(HEAD_OFFICE)
        before = state()

        first = upload(client, "product", csv_bytes(self.good_rows()), filename="products.csv")

        assert first.status_code == 200
        assert first.context["confirm_form"] is not None
        assert state() == before  # the dry run changed nothing
        result = first.context["result"]
        assert [row.import_type for row in result.rows] == ["new", "update", "new"]

        response = confirm(client, "product", first)

        assert response.status_code == 200
        self.assert_imported()
        assert any("Import finished" in text for text in message_texts(response))

    def test_a_good_xlsx_is_imported(self, client, login, catalogue):
        login(HEAD_OFFICE)
        rows = self.good_rows()
        rows[1][5] = 1990.5  # numbers typed in a spreadsheet come as numbers
        rows[3][6] = None

        import_through_admin(client, "product", xlsx_bytes(rows), filename="products.xlsx", file_format=XLSX_FORMAT)

        self.assert_imported()

    @pytest.mark.parametrize(
        ("bad_row", "expected"),
        [
            (
                ["BAD-1", "Bad", "", "no-such-category", "pcs", "10", "", "1"],
                "Row 3, column category: Unknown category code.",
            ),
            (
                ["BAD-1", "Bad", "", "", "pcs", "10", "4600000000000", "1"],
                "Row 3, column barcodes: A barcode must be an EAN-13",
            ),
            (["BAD-1", "Bad", "", "", "pcs", "ten", "", "1"], "Row 3, column price: ten is not a number."),
            (
                ["BAD-1", "Bad", "", "", "pcs", "-5", "", "1"],
                "Row 3, column price: The price must be zero or more",
            ),
            (["BAD-1", "Bad", "", "", "crates", "5", "", "1"], "Row 3, column unit: Unknown unit crates."),
            (["", "Bad", "", "", "pcs", "5", "", "1"], "Row 3, column sku: The SKU is missing."),
            (["BAD-1", "Bad", "", "", "pcs", "5", "", "maybe"], "Row 3, column is_active: maybe is not yes or no"),
            (
                ["BAD-1", "Bad", "", "", "pcs", "5", ean13(1), "1"],
                f"Row 3, column barcodes: The barcode {ean13(1)} already belongs to MUG-1.",
            ),
        ],
    )
    def test_one_bad_row_imports_nothing_and_is_named(self, client, login, catalogue, bad_row, expected):
        login(HEAD_OFFICE)
        rows = [PRODUCT_HEADER, ["GOOD-1", "Good", "", "kitchen", "pcs", "10", "", "1"], bad_row]
        before = state()

        response = upload(client, "product", csv_bytes(rows), filename="products.csv")

        assert response.context.get("confirm_form") is None
        messages = import_error_messages(response.context["result"])
        assert any(text.startswith(expected) for text in messages), messages
        assert "Nothing was imported" in page_errors(response)
        assert state() == before

    def test_a_bad_row_found_only_at_confirmation_still_imports_nothing(self, client, login, catalogue):
        """django-import-export's own confirm step would commit the good rows and say "finished"."""
        login(HEAD_OFFICE)
        rows = [
            PRODUCT_HEADER,
            ["GOOD-1", "Good", "", "kitchen", "pcs", "10", "", "1"],
            ["GOOD-2", "Good too", "", "garden", "pcs", "10", ean13(50), "1"],
        ]
        first = upload(client, "product", csv_bytes(rows), filename="products.csv")
        assert first.context["confirm_form"] is not None
        BarcodeFactory(product=catalogue, code=ean13(50))  # another product takes it meanwhile
        before = state()

        response = confirm(client, "product", first)

        assert state() == before
        texts = message_texts(response)
        assert f"Row 3, column barcodes: The barcode {ean13(50)} already belongs to MUG-1." in texts
        assert "Nothing was imported." in texts
        assert not any("Import finished" in text for text in texts)

    def test_the_resource_alone_is_atomic_too(self, catalogue):
        """Whoever calls import_data (a command, a task), a bad row rolls back the good ones."""
        rows = [
            PRODUCT_HEADER,
            ["GOOD-1", "Good", "", "kitchen", "pcs", "10", "", "1"],
            ["BAD-1", "Bad", "", "nowhere", "pcs", "10", "", "1"],
        ]
        before = state()

        result = ProductResource(actor=Actor()).import_data(dataset_of(rows), dry_run=False)

        assert result.has_validation_errors()
        assert import_error_messages(result)[0].startswith("Row 3, column category:")
        assert state() == before

    def test_a_missing_column_imports_nothing(self, client, login, catalogue):
        login(HEAD_OFFICE)
        before = state()

        response = upload(client, "product", csv_bytes([["sku", "name"], ["NEW-1", "New"]]), filename="products.csv")

        assert response.context.get("confirm_form") is None
        assert "The file has no column price. It needs the columns sku, name, price." in page_errors(response)
        assert state() == before

    def test_an_unknown_column_is_refused(self, client, login, catalogue):
        login(HEAD_OFFICE)

        response = upload(
            client,
            "product",
            csv_bytes([["sku", "name", "price", "barcode"], ["NEW-1", "New", "5", ean13(3)]]),
            filename="products.csv",
        )

        assert response.context.get("confirm_form") is None
        assert "columns this import does not know: barcode" in page_errors(response)
        assert not Product.objects.filter(sku="NEW-1").exists()

    def test_a_malformed_xlsx_imports_nothing(self, client, login, catalogue):
        login(HEAD_OFFICE)
        before = state()

        response = upload(
            client, "product", b"this is not a spreadsheet", filename="products.xlsx", file_format=XLSX_FORMAT
        )

        assert response.status_code == 200
        assert response.context.get("confirm_form") is None
        assert response.context["form"].errors["import_file"]
        assert state() == before

    def test_a_file_with_a_header_only_imports_nothing(self, client, login, catalogue):
        login(HEAD_OFFICE)

        response = upload(client, "product", csv_bytes([PRODUCT_HEADER]), filename="products.csv")

        assert response.context.get("confirm_form") is None
        assert response.context["form"].errors["import_file"]

    def test_a_semicolon_csv_with_decimal_commas_is_read(self, client, login, catalogue):
        # What Excel in Russian saves as "CSV".
        login(HEAD_OFFICE)
        content = "sku;name;price;category\nKETTLE-1;Чайник, белый;1 990,50;kitchen\n".encode()

        import_through_admin(client, "product", content, filename="products.csv")

        kettle = Product.objects.get(sku="KETTLE-1")
        assert (kettle.name, kettle.price, kettle.category.code) == ("Чайник, белый", Decimal("1990.50"), "kitchen")

    def test_columns_left_out_keep_what_the_product_has(self, client, login, catalogue):
        login(HEAD_OFFICE)
        catalogue.category = Category.objects.get(code="garden")
        catalogue.save()

        import_through_admin(
            client, "product", csv_bytes([["SKU", "Name", "Price"], ["MUG-1", "Mug", "99"]]), filename="p.csv"
        )

        catalogue.refresh_from_db()
        assert (catalogue.price, catalogue.category.code) == (Decimal("99.00"), "garden")
        assert list(catalogue.barcodes.values_list("code", flat=True)) == [ean13(1)]

    def test_only_those_who_may_change_products_import_them(self, client, login, catalogue):
        login(STORE_MANAGER, LocationFactory())
        response = upload(client, "product", csv_bytes(self.good_rows()), filename="products.csv")
        assert response.status_code == 403
        assert client.get(reverse("admin:inventory_product_changelist")).status_code == 200


# --- Stock import ----------------------------------------------------------------------------


@pytest.fixture
def stores():
    store_a = LocationFactory(code="store-a")
    store_b = LocationFactory(code="store-b")
    kettle = ProductFactory(sku="KETTLE")
    mug = ProductFactory(sku="MUG")
    BarcodeFactory(product=mug, code=ean13(77))
    receive(store_a, (kettle, 10), (mug, 5), number="R-0")
    return {"a": store_a, "b": store_b, "kettle": kettle, "mug": mug}


class TestStockImport:
    def test_a_receipt_adds_one_document_per_location(self, client, login, stores):
        login(HEAD_OFFICE)
        rows = [
            ["location", "sku", "quantity"],
            ["store-a", "KETTLE", "3"],
            ["store-a", ean13(77), "2"],  # a barcode in the sku column
            ["store-b", "KETTLE", "4"],
        ]
        before = state()

        first = upload(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt", number="DN-5")

        assert state() == before  # the dry run changed nothing
        response = confirm(client, "stock", first)

        assert (on_hand(stores["kettle"], stores["a"]), on_hand(stores["mug"], stores["a"])) == (13, 7)
        assert on_hand(stores["kettle"], stores["b"]) == 4
        assert sorted(StockDocument.objects.filter(kind="receipt").values_list("number", "location__code")) == [
            ("DN-5-store-a", "store-a"),
            ("DN-5-store-b", "store-b"),
            ("R-0", "store-a"),
        ]
        assert StockDocument.objects.get(number="DN-5-store-a").created_by is not None
        assert any("DN-5-store-b is recorded" in text for text in message_texts(response))
        assert stock_discrepancies() == []

    def test_a_count_sets_the_quantities(self, client, login, stores):
        login(STORE_MANAGER, stores["a"])
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", 4], ["store-a", "MUG", 0]]

        import_through_admin(
            client, "stock", xlsx_bytes(rows), filename="count.xlsx", file_format=XLSX_FORMAT, mode="count"
        )

        assert (on_hand(stores["kettle"], stores["a"]), on_hand(stores["mug"], stores["a"])) == (4, 0)
        document = StockDocument.objects.get(kind="count")
        assert document.number.startswith("COUNT-")
        assert stock_discrepancies() == []

    def test_the_preview_shows_before_and_after(self, client, login, stores):
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "4"]]

        first = upload(client, "stock", csv_bytes(rows), filename="count.csv", mode="count")

        assert first.context["result"].rows[0].diff == ["store-a", "KETTLE", 4, 10, 4]
        assert on_hand(stores["kettle"], stores["a"]) == 10

    @pytest.mark.parametrize(
        ("bad_row", "expected"),
        [
            (["store-a", "NOPE", "1"], "Row 3, column sku: No product has the SKU or barcode NOPE."),
            (["nowhere", "MUG", "1"], "Row 3, column location: No location has the code nowhere."),
            (["store-a", "MUG", "-2"], "Row 3, column quantity: The quantity -2 is negative."),
            (["store-a", "MUG", "1.5"], "Row 3, column quantity: 1.5 is not a whole number."),
            (["store-a", "MUG", "0"], "Row 3, column quantity: The quantity must be greater than zero."),
            (["store-a", "MUG", ""], "Row 3, column quantity: The quantity is missing."),
        ],
    )
    def test_one_bad_row_imports_nothing_and_is_named(self, client, login, stores, bad_row, expected):
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "3"], bad_row]
        before = state()

        response = upload(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt")

        assert response.context.get("confirm_form") is None
        assert expected in import_error_messages(response.context["result"])
        assert state() == before

    def test_store_staff_cannot_import_stock_into_another_store(self, client, login, stores):
        login(STORE_MANAGER, stores["a"])
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "1"], ["store-b", "KETTLE", "1"]]
        before = state()

        response = upload(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt")

        assert "Row 3, column location: You cannot record stock at store-b." in import_error_messages(
            response.context["result"]
        )
        assert state() == before

    def test_a_count_below_reserved_is_refused_on_its_row(self, client, login, stores):
        services.stock_reserve(lines=[StockLine(stores["mug"].pk, stores["a"].pk, 3)], cause=Cause("order", "W-1"))
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "1"], ["store-a", "MUG", "2"]]
        before = state()

        response = upload(client, "stock", csv_bytes(rows), filename="count.csv", mode="count")

        messages = import_error_messages(response.context["result"])
        assert "Row 3: MUG at store-a: counted 2, but 3 are reserved for orders." in messages
        assert state() == before

    def test_a_change_between_preview_and_confirmation_imports_nothing(self, client, login, stores):
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "1"], ["store-a", "MUG", "2"]]
        first = upload(client, "stock", csv_bytes(rows), filename="count.csv", mode="count")
        assert first.context["confirm_form"] is not None
        services.stock_reserve(lines=[StockLine(stores["mug"].pk, stores["a"].pk, 3)], cause=Cause("order", "W-1"))
        before = state()

        response = confirm(client, "stock", first)

        assert state() == before
        texts = message_texts(response)
        assert "Row 3: MUG at store-a: counted 2, but 3 are reserved for orders." in texts
        assert "Nothing was imported." in texts

    def test_the_confirm_step_checks_the_mode_again(self, client, login, stores, staff_in_role):
        manager = login(STORE_MANAGER, stores["a"])
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "1"]]
        first = upload(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt")
        before = state()

        # A store manager may record receipts and counts; a forged mode is refused.
        response = confirm(client, "stock", first, mode="write_off")

        assert manager.has_perm("inventory.receive_stock")
        assert response.context["confirm_form"].errors
        assert state() == before

    def test_importing_the_same_file_twice_under_one_number_changes_nothing(self, client, login, stores):
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "3"]]
        import_through_admin(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt", number="DN-9")

        response = import_through_admin(
            client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt", number="DN-9"
        )

        assert on_hand(stores["kettle"], stores["a"]) == 13
        assert any("already recorded" in text for text in message_texts(response))

    def test_a_malformed_or_incomplete_file_imports_nothing(self, client, login, stores):
        login(HEAD_OFFICE)
        before = state()

        missing = upload(
            client, "stock", csv_bytes([["location", "sku"], ["store-a", "KETTLE"]]), filename="in.csv", mode="count"
        )
        garbage = upload(client, "stock", b"\x00\x01garbage", filename="in.xlsx", file_format=XLSX_FORMAT, mode="count")

        assert "The file has no column quantity." in page_errors(missing)
        assert garbage.context["form"].errors["import_file"]
        assert state() == before

    def test_the_resource_alone_is_atomic_across_locations(self, stores):
        rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "3"], ["store-b", "MUG", "-1"]]
        before = state()

        result = StockImportResource(mode="receipt").import_data(dataset_of(rows), dry_run=False)

        assert import_error_messages(result) == ["Row 3, column quantity: The quantity -1 is negative."]
        assert state() == before

    def test_store_staff_without_stock_permissions_cannot_import(self, client, login, stores):
        login(STORE_STAFF, stores["a"])
        response = upload(
            client, "stock", csv_bytes([["location", "sku", "quantity"], ["store-a", "KETTLE", "1"]]), filename="x.csv"
        )
        assert response.status_code == 403


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


STOCK_COLUMNS = ["location", "sku", "name", "on_hand", "reserved", "available", "min_quantity"]


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
            "at",
            "location",
            "sku",
            "on_hand_delta",
            "reserved_delta",
            "reason",
            "cause_type",
            "cause_id",
            "note",
            "by",
        ]

        rows = csv_rows(export_list(client, "stockmovement"))

        assert rows[0] == columns
        assert {(row[1], row[6], row[7]) for row in rows[1:]} == {("store-a", "receipt", "R-0")}
        assert len(rows) == 1 + 2

    def test_the_ledger_is_not_imported(self, client, login, stores):
        login(HEAD_OFFICE)
        with pytest.raises(Exception):  # noqa: B017 - there is simply no such URL
            reverse("admin:inventory_stockmovement_import")


# --- Outside the test's own transaction --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_bad_row_rolls_back_in_a_real_transaction():
    """The tests above run inside a transaction of their own; here nothing wraps the import."""
    CategoryFactory(code="kitchen")
    rows = [
        PRODUCT_HEADER,
        ["GOOD-1", "Good", "", "kitchen", "pcs", "10", "", "1"],
        ["BAD-1", "Bad", "", "nowhere", "pcs", "10", "", "1"],
    ]

    result = ProductResource().import_data(dataset_of(rows), dry_run=False)

    assert result.has_validation_errors()
    assert not Product.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_stock_import_refused_late_commits_nothing(client, staff_in_role):
    store = LocationFactory(code="store-a")
    kettle, mug = ProductFactory(sku="KETTLE"), ProductFactory(sku="MUG")
    receive(store, (kettle, 10), (mug, 5), number="R-0")
    client.force_login(staff_in_role(HEAD_OFFICE))
    rows = [["location", "sku", "quantity"], ["store-a", "KETTLE", "1"], ["store-a", "MUG", "2"]]
    first = upload(client, "stock", csv_bytes(rows), filename="count.csv", mode="count")
    services.stock_reserve(lines=[StockLine(mug.pk, store.pk, 3)], cause=Cause("order", "W-1"))
    before = state()

    response = confirm(client, "stock", first)

    assert state() == before
    assert "Nothing was imported." in message_texts(response)
    assert stock_discrepancies() == []


# --- Bad cells: the row is the file's, the reason is said, nothing is written -------------------

INVISIBLE_SKUS = ["MUG\u202e1", "MUG\u200b1", "MUG\u200d1", "\ufeffMUG-2", "MUG\u20601", "MUG\x1f1", "MUG\u20281"]
TOO_LARGE_PRICE = "1" + "0" * 30


def one_product_file(row, *, file_format):
    rows = [["sku", "name", "price"], row]
    if file_format == XLSX_FORMAT:
        return xlsx_bytes(rows), "products.xlsx"
    return csv_bytes(rows), "products.csv"


class TestBadCells:
    @pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
    def test_errors_name_the_row_of_the_file(self, client, login, catalogue, file_format):
        """In the file (and the spreadsheet) the header is row 1, so its first product is row 2."""
        login(HEAD_OFFICE)
        rows = [
            ["sku", "name", "price", "category"],
            ["GOOD-1", "Good", "10", "kitchen"],
            ["BAD-1", "Bad", "10", "nowhere"],
        ]
        content = xlsx_bytes(rows) if file_format == XLSX_FORMAT else csv_bytes(rows)

        response = upload(client, "product", content, filename="p.xlsx", file_format=file_format)

        messages = import_error_messages(response.context["result"])
        assert messages == [
            "Row 3, column category: Unknown category code.",
            "Row 3, column category: The category code given was nowhere.",
        ]

    @pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
    def test_a_blank_row_counts(self, client, login, catalogue, file_format):
        login(HEAD_OFFICE)
        if file_format == XLSX_FORMAT:
            content = xlsx_bytes(
                [["sku", "name", "price"], ["GOOD-1", "Good", 10], [None] * 3, ["BAD-1", "Bad", "ten"]]
            )
        else:
            content = b"sku,name,price\r\nGOOD-1,Good,10\r\n\r\nBAD-1,Bad,ten\r\n"

        response = upload(client, "product", content, filename="p.file", file_format=file_format)

        assert import_error_messages(response.context["result"]) == ["Row 4, column price: ten is not a number."]

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            (
                ["KETTLE\x00", "Kettle", "10"],
                "Row 2, column sku: The character U+0000 is not allowed here",
            ),
            (["KETTLE-1", "Ket\x00tle", "10"], "Row 2, column name: The character U+0000 is not allowed here"),
            (["KETTLE-1", "Kettle", "10\x00"], "Row 2, column price: The character U+0000 is not allowed here"),
            (["KETTLE-1", "Kettle", "10", "pcs\x00"], "Row 2, column unit: The character U+0000 is not allowed here"),
            (["KETTLE-1", "Kettle", "10", "pcs", "1,7\x00"], "Row 2, column description: The character U+0000"),
        ],
    )
    def test_a_nul_in_a_cell_is_named_with_its_row_and_reason(self, client, login, catalogue, row, expected):
        login(HEAD_OFFICE)
        before = state()
        content = csv_bytes([["sku", "name", "price", "unit", "description"][: len(row)], row])
        filename = "products.csv"

        response = upload(client, "product", content, filename=filename)

        messages = import_error_messages(response.context["result"])
        assert len(messages) == 1 and messages[0].startswith(expected), messages
        assert state() == before

    @pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
    @pytest.mark.parametrize("price", [TOO_LARGE_PRICE, "10000000000", "1e30"])
    def test_a_price_too_large_says_so(self, client, login, catalogue, file_format, price):
        login(HEAD_OFFICE)
        before = state()
        cell = float(price) if file_format == XLSX_FORMAT else price  # typed in a spreadsheet: a number
        content, filename = one_product_file(["KETTLE-1", "Kettle", cell], file_format=file_format)

        response = upload(client, "product", content, filename=filename, file_format=file_format)

        messages = import_error_messages(response.context["result"])
        assert messages == [
            "Row 2, column price: The price is too large: at most 10 digits before the decimal point."
        ], messages
        assert state() == before

    def test_a_price_too_large_found_at_confirmation_imports_nothing(self, client, login, catalogue):
        # The resource on its own, as the confirm step and a command run it: no dry run, real writes.
        rows = [["sku", "name", "price"], ["GOOD-1", "Good", "10"], ["BIG-1", "Big", TOO_LARGE_PRICE]]
        before = state()

        result = ProductResource().import_data(dataset_of(rows), dry_run=False)

        assert import_error_messages(result) == [
            "Row 3, column price: The price is too large: at most 10 digits before the decimal point."
        ]
        assert state() == before

    @pytest.mark.parametrize(
        ("file_format", "sku"),
        [(CSV_FORMAT, sku) for sku in INVISIBLE_SKUS]
        # A worksheet cannot hold control characters (openpyxl refuses to write them).
        + [(XLSX_FORMAT, sku) for sku in INVISIBLE_SKUS if "\x1f" not in sku],
    )
    def test_a_sku_with_invisible_characters_is_refused(self, client, login, catalogue, file_format, sku):
        login(HEAD_OFFICE)
        before = state()
        content, filename = one_product_file([sku, "Mug", "10"], file_format=file_format)

        response = upload(client, "product", content, filename=filename, file_format=file_format)

        messages = import_error_messages(response.context["result"])
        assert len(messages) == 1 and messages[0].startswith("Row 2, column sku: The character U+"), messages
        assert state() == before

    @pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
    def test_a_barcode_of_other_digits_is_refused(self, client, login, catalogue, file_format):
        # Full-width digits pass str.isdigit(), and int() reads them.
        wide = ean13(20).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
        before = state()
        login(HEAD_OFFICE)
        rows = [["sku", "name", "price", "barcodes"], ["KETTLE-1", "Kettle", "10", wide]]
        content = xlsx_bytes(rows) if file_format == XLSX_FORMAT else csv_bytes(rows)

        response = upload(client, "product", content, filename="p.file", file_format=file_format)

        messages = import_error_messages(response.context["result"])
        assert len(messages) >= 1 and messages[0].startswith("Row 2, column barcodes: A barcode must be an EAN-13")
        assert state() == before

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            (["store-a", "KET\x00TLE", "1"], "Row 3, column sku: The character U+0000 is not allowed here"),
            (["store-\x00a", "KETTLE", "1"], "Row 3, column location: The character U+0000 is not allowed here"),
            (["store-a", "KETTLE\u200b", "1"], "Row 3, column sku: The character U+200B"),
            (["store-a", "KETTLE", TOO_LARGE_PRICE], "Row 3, column quantity: The quantity"),
            (["store-a", "KETTLE", "1\x00"], "Row 3, column quantity: The character U+0000 is not allowed here"),
        ],
    )
    def test_a_bad_cell_of_a_stock_file_is_named(self, client, login, stores, row, expected):
        login(HEAD_OFFICE)
        rows = [["location", "sku", "quantity"], ["store-a", "MUG", "3"], row]
        before = state()

        response = upload(client, "stock", csv_bytes(rows), filename="in.csv", mode="receipt")

        messages = import_error_messages(response.context["result"])
        assert len(messages) == 1 and messages[0].startswith(expected), messages
        assert state() == before
