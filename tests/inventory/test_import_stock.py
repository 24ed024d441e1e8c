"""Importing stock (a receipt or a count, one document per location): all or nothing, through the
services, within the user's locations."""

import pytest

from inventory import services
from inventory.models import StockDocument
from inventory.resources import StockImportResource, import_error_messages
from inventory.selectors import stock_discrepancies
from inventory.services import Cause, StockLine
from tests.inventory.factories import LocationFactory, ProductFactory, ean13
from tests.inventory.import_support import (
    HEAD_OFFICE,
    STORE_MANAGER,
    STORE_STAFF,
    TOO_LARGE_PRICE,
    XLSX_FORMAT,
    confirm,
    csv_bytes,
    dataset_of,
    import_through_admin,
    message_texts,
    on_hand,
    page_errors,
    receive,
    state,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


# --- Stock import ----------------------------------------------------------------------------


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


# --- Outside the test's own transaction --------------------------------------------------------


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


class TestBadCells:
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
