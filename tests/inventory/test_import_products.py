"""Importing the catalogue with django-import-export: all or nothing, through the services; a bad cell
is named by the file's row and column."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Category, Product
from inventory.resources import ProductResource, import_error_messages
from omni.core.actors import Actor
from tests.inventory.factories import BarcodeFactory, CategoryFactory, LocationFactory, ean13
from tests.inventory.import_support import (
    CSV_FORMAT,
    HEAD_OFFICE,
    PRODUCT_HEADER,
    STORE_MANAGER,
    TOO_LARGE_PRICE,
    XLSX_FORMAT,
    confirm,
    csv_bytes,
    dataset_of,
    import_through_admin,
    message_texts,
    page_errors,
    state,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


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


# --- Bad cells: the row is the file's, the reason is said, nothing is written -------------------

INVISIBLE_SKUS = ["MUG\u202e1", "MUG\u200b1", "MUG\u200d1", "\ufeffMUG-2", "MUG\u20601", "MUG\x1f1", "MUG\u20281"]


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
