"""The inventory admin, as store staff, store managers and head office use it."""

import pytest
from django.contrib.admin import AdminSite, ModelAdmin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.admin import LocationScopedAdminMixin
from inventory.admin import stock as stock_admin
from inventory.admin.transfers import TransferAdmin
from inventory.models import (
    Barcode,
    MovementReason,
    Product,
    Stock,
    StockDocument,
    StockMovement,
    Transfer,
    TransferStatus,
)
from inventory.services import ProductQuantity
from tests.inventory.admin_support import (
    ADMINISTRATOR,
    HEAD_OFFICE,
    STORE_MANAGER,
    STORE_STAFF,
    admin_url,
    assert_ledger_matches,
    message_texts,
    receive,
    stock_of,
)
from tests.inventory.factories import (
    BarcodeFactory,
    CategoryFactory,
    LocationFactory,
    ProductFactory,
    WarehouseFactory,
    ean13,
)

pytestmark = pytest.mark.django_db


# --- Every screen loads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    ["category", "product", "location", "stock", "stockmovement", "stockdocument", "transfer", "employee"],
)
def test_every_changelist_loads_for_head_office(client, login, world, model):
    login(HEAD_OFFICE)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200


def test_change_pages_and_tools_load_for_head_office(client, login, world):
    login(HEAD_OFFICE)
    transfer = services.transfer_create(
        source=world["wh"], destination=world["a"], lines=[ProductQuantity(world["shared"].pk, 1)]
    )
    document = StockDocument.objects.get(number="R-A")
    urls = [
        reverse("admin:index"),
        admin_url("product", "change", world["only_a"].pk),
        admin_url("product", "add"),
        admin_url("category", "change", world["only_a"].category_id),
        admin_url("location", "change", world["a"].pk),
        admin_url("stock", "change", stock_of(world["only_a"], world["a"]).pk),
        admin_url("stockmovement", "change", StockMovement.objects.first().pk),
        admin_url("stockdocument", "change", document.pk),
        admin_url("transfer", "change", transfer.pk),
        admin_url("transfer", "add"),
        admin_url("stock", "receive"),
        admin_url("stock", "count"),
        admin_url("stock", "write_off"),
        admin_url("product", "import"),
        admin_url("product", "export"),
        admin_url("stock", "import"),
        admin_url("stock", "export_list", "csv"),
        admin_url("stockmovement", "export_list", "xlsx"),
        admin_url("stockmovement", "changelist") + "?reason=receipt&q=ONLY-A",
        admin_url("stock", "changelist") + "?low_stock=yes",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_administrator_manages_employees(client, login, world):
    login(ADMINISTRATOR)
    assert client.get(admin_url("employee", "add")).status_code == 200


def test_a_scoped_admin_must_name_its_location_fields():
    class Unscoped(LocationScopedAdminMixin, ModelAdmin):
        pass

    errors = Unscoped(Stock, AdminSite()).check()

    assert [error.id for error in errors] == ["inventory.E001"]
    assert TransferAdmin(Transfer, AdminSite()).check() == []


def test_store_staff_cannot_open_head_office_screens(client, login, world):
    login(STORE_STAFF, world["a"])
    assert client.get(admin_url("employee", "changelist")).status_code == 403
    assert client.get(admin_url("stock", "receive")).status_code == 403
    assert client.get(admin_url("transfer", "add")).status_code == 403


@pytest.mark.parametrize(
    ("role", "model"),
    [
        (HEAD_OFFICE, "stock"),
        (STORE_STAFF, "stock"),
        (HEAD_OFFICE, "stockmovement"),
        (STORE_STAFF, "transfer"),
        (HEAD_OFFICE, "product"),
        (HEAD_OFFICE, "stockdocument"),
    ],
)
def test_changelist_queries_do_not_grow_with_its_rows(client, login, role, model):
    store, warehouse = LocationFactory(), WarehouseFactory()
    login(role, store)

    def add_rows(count):
        for _ in range(count):
            product = ProductFactory(category=CategoryFactory())
            receive(warehouse, (product, 5))
            receive(store, (product, 5))
            services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 1)])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(admin_url(model, "changelist")).status_code == 200
        return len(captured)

    add_rows(2)
    few = queries()
    add_rows(10)
    assert queries() == few


# --- Location scoping ------------------------------------------------------------------------


class TestScoping:
    def test_store_staff_see_only_their_stock(self, client, login, world):
        login(STORE_STAFF, world["a"])

        response = client.get(admin_url("stock", "changelist"))

        rows = {(row.product.sku, row.location.code) for row in response.context["cl"].result_list}
        assert rows == {("ONLY-A", "store-a"), ("SHARED", "store-a")}
        content = response.content.decode()
        assert "ONLY-B" not in content
        assert "Store Bravo" not in content  # not even in the location filter
        assert "Main Warehouse" not in content

    def test_another_stores_stock_page_does_not_exist_for_them(self, client, login, world):
        login(STORE_STAFF, world["a"])
        other = stock_of(world["only_b"], world["b"])

        response = client.get(admin_url("stock", "change", other.pk))

        assert response.status_code == 302
        assert response.url == reverse("admin:index")
        assert client.get(admin_url("stock", "change", stock_of(world["only_a"], world["a"]).pk)).status_code == 200

    def test_store_staff_see_only_their_ledger(self, client, login, world):
        login(STORE_STAFF, world["a"])

        response = client.get(admin_url("stockmovement", "changelist"))

        assert {row.location.code for row in response.context["cl"].result_list} == {"store-a"}
        assert "Store Bravo" not in response.content.decode()
        other = StockMovement.objects.filter(location=world["b"]).first()
        assert client.get(admin_url("stockmovement", "change", other.pk)).status_code == 302

    def test_store_managers_see_only_their_documents(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.get(admin_url("stockdocument", "changelist"))

        assert [document.number for document in response.context["cl"].result_list] == ["R-A"]
        other = StockDocument.objects.get(number="R-B")
        assert client.get(admin_url("stockdocument", "change", other.pk)).status_code == 302
        # The lines of their own document are shown.
        own = client.get(admin_url("stockdocument", "change", StockDocument.objects.get(number="R-A").pk))
        assert "ONLY-A" in own.content.decode()

    def test_a_transfer_is_visible_from_either_end(self, client, login, world):
        to_a = services.transfer_create(
            source=world["wh"], destination=world["a"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        from_a = services.transfer_create(
            source=world["a"], destination=world["wh"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        to_b = services.transfer_create(
            source=world["wh"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        login(STORE_STAFF, world["a"])

        response = client.get(admin_url("transfer", "changelist"))

        assert {t.number for t in response.context["cl"].result_list} == {to_a.number, from_a.number}
        assert to_b.number not in response.content.decode()
        assert client.get(admin_url("transfer", "change", to_b.pk)).status_code == 302

    def test_head_office_sees_every_location(self, client, login, world):
        login(HEAD_OFFICE)

        response = client.get(admin_url("stock", "changelist"))

        assert {row.location.code for row in response.context["cl"].result_list} == {"store-a", "store-b", "wh-1"}
        assert client.get(admin_url("stock", "change", stock_of(world["only_b"], world["b"]).pk)).status_code == 200

    def test_product_page_shows_stock_of_their_locations_only(self, client, login, world):
        login(STORE_STAFF, world["a"])

        response = client.get(admin_url("product", "change", world["shared"].pk))

        content = response.content.decode()
        assert response.status_code == 200
        assert "Store Alpha" in content
        assert "Store Bravo" not in content
        assert "Main Warehouse" not in content


# --- Stock levels: only the minimum is edited -------------------------------------------------


class TestMinimumQuantity:
    def test_minimum_is_saved_through_the_service_and_figures_stay(self, client, login, world, monkeypatch):
        calls = []
        real = stock_admin.stock_set_minimum

        def spy(**kwargs):
            calls.append(kwargs)
            return real(**kwargs)

        monkeypatch.setattr(stock_admin, "stock_set_minimum", spy)
        login(STORE_MANAGER, world["a"])
        row = stock_of(world["only_a"], world["a"])

        response = client.post(
            admin_url("stock", "change", row.pk),
            {"min_quantity": "12", "on_hand": "999", "reserved": "5", "product": world["only_b"].pk},
        )

        assert response.status_code == 302
        row.refresh_from_db()
        assert (row.min_quantity, row.on_hand, row.reserved, row.product_id) == (12, 10, 0, world["only_a"].pk)
        assert [call["min_quantity"] for call in calls] == [12]
        assert_ledger_matches()

    def test_low_stock_filter(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        client.post(admin_url("stock", "change", stock_of(world["only_a"], world["a"]).pk), {"min_quantity": "11"})

        low = client.get(admin_url("stock", "changelist") + "?low_stock=yes").context["cl"].result_list
        enough = client.get(admin_url("stock", "changelist") + "?low_stock=no").context["cl"].result_list

        assert [row.product.sku for row in low] == ["ONLY-A"]
        assert [row.product.sku for row in enough] == ["SHARED"]

    def test_a_negative_minimum_is_refused(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        row = stock_of(world["only_a"], world["a"])

        response = client.post(admin_url("stock", "change", row.pk), {"min_quantity": "-1"})

        assert response.status_code == 200
        row.refresh_from_db()
        assert row.min_quantity == 0

    def test_store_staff_cannot_change_stock_and_nobody_adds_or_deletes_it(self, client, login, world):
        row = stock_of(world["only_a"], world["a"])
        login(STORE_STAFF, world["a"])
        assert client.post(admin_url("stock", "change", row.pk), {"min_quantity": "3"}).status_code == 403
        row.refresh_from_db()
        assert row.min_quantity == 0

        login(HEAD_OFFICE)
        assert client.get(admin_url("stock", "add")).status_code == 403
        assert client.post(admin_url("stock", "delete", row.pk), {"post": "yes"}).status_code == 403
        assert Stock.objects.filter(pk=row.pk).exists()


# --- Receipts, counts and write-offs typed in the admin --------------------------------------


class TestStockDocumentScreens:
    def test_receipt_by_sku_and_barcode(self, client, login, world):
        barcode = BarcodeFactory(product=world["shared"])
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("stock", "receive"),
            {"location": world["a"].pk, "number": "INV-77", "lines": f"ONLY-A 5\n\n{barcode.code};2\n"},
        )

        assert response.status_code == 302
        assert stock_of(world["only_a"], world["a"]).on_hand == 15
        assert stock_of(world["shared"], world["a"]).on_hand == 6
        document = StockDocument.objects.get(number="INV-77")
        assert (document.kind, document.location_id, document.created_by.groups.get().name) == (
            "receipt",
            world["a"].pk,
            STORE_MANAGER,
        )
        assert_ledger_matches()

    def test_bad_lines_are_named_and_nothing_is_recorded(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        movements = StockMovement.objects.count()

        response = client.post(
            admin_url("stock", "receive"),
            {"location": world["a"].pk, "lines": "ONLY-A 5\nNOPE 1\nSHARED 2.5\nSHARED -3\nSHARED 0\nONLY-A"},
        )

        assert response.status_code == 200
        errors = response.context["form"].errors["lines"]
        assert "Line 2: no product has the SKU or barcode NOPE." in errors
        assert "Line 3: 2.5 is not a whole number." in errors
        assert "Line 4: The quantity -3 is negative." in errors
        assert "Line 5: The quantity must be greater than zero." in errors
        assert "Line 6: give a SKU or barcode, then a quantity." in errors
        assert StockMovement.objects.count() == movements
        assert stock_of(world["only_a"], world["a"]).on_hand == 10

    def test_location_must_be_one_of_theirs(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(admin_url("stock", "receive"), {"location": world["b"].pk, "lines": "ONLY-B 5"})

        assert response.status_code == 200
        assert "location" in response.context["form"].errors
        assert stock_of(world["only_b"], world["b"]).on_hand == 7
        assert [str(loc) for loc in response.context["form"].fields["location"].queryset] == [str(world["a"])]

    def test_write_off(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("stock", "write_off"), {"location": world["a"].pk, "note": "broken", "lines": "SHARED 1"}
        )

        assert response.status_code == 302
        assert stock_of(world["shared"], world["a"]).on_hand == 3
        assert StockMovement.objects.get(reason=MovementReason.WRITE_OFF).note == "broken"
        assert_ledger_matches()

    def test_write_off_beyond_available_changes_nothing(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(admin_url("stock", "write_off"), {"location": world["a"].pk, "lines": "SHARED 5"})

        assert response.status_code == 200
        assert "SHARED at store-a: 5 requested, 4 available." in message_texts(response)
        assert stock_of(world["shared"], world["a"]).on_hand == 4
        assert not StockDocument.objects.filter(kind="write_off").exists()

    def test_the_same_number_again_changes_nothing(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        data = {"location": world["a"].pk, "number": "INV-1", "lines": "ONLY-A 5"}
        client.post(admin_url("stock", "receive"), data)

        response = client.post(admin_url("stock", "receive"), data, follow=True)

        assert stock_of(world["only_a"], world["a"]).on_hand == 15
        assert any("already recorded" in text for text in message_texts(response))

    def test_each_screen_needs_its_permission(self, client, login, world):
        login(STORE_STAFF, world["a"])
        for screen in ("receive", "count", "write_off"):
            response = client.post(admin_url("stock", screen), {"location": world["a"].pk, "lines": "ONLY-A 1"})
            assert response.status_code == 403
        assert stock_of(world["only_a"], world["a"]).on_hand == 10

    def test_the_stock_list_links_to_the_screens_the_user_may_use(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        assert admin_url("stock", "write_off") in client.get(admin_url("stock", "changelist")).content.decode()
        login(STORE_STAFF, world["a"])
        assert admin_url("stock", "receive") not in client.get(admin_url("stock", "changelist")).content.decode()


# --- Transfers -------------------------------------------------------------------------------


def run_action(client, action, *transfers):
    return client.post(
        admin_url("transfer", "changelist"),
        {"action": action, "index": 0, "_selected_action": [t.pk for t in transfers]},
        follow=True,
    )


class TestTransfers:
    def test_create_through_the_admin_reserves_at_the_source(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("transfer", "add"),
            {"source": world["a"].pk, "destination": world["b"].pk, "note": "for the weekend", "lines": "SHARED 3"},
        )

        transfer = Transfer.objects.get()
        assert response.status_code == 302
        assert response.url == admin_url("transfer", "change", transfer.pk)
        assert (transfer.source, transfer.destination, transfer.status) == (world["a"], world["b"], "requested")
        assert transfer.created_by is not None
        assert stock_of(world["shared"], world["a"]).reserved == 3
        assert_ledger_matches()

    def test_create_beyond_available_stock_is_refused(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("transfer", "add"), {"source": world["a"].pk, "destination": world["b"].pk, "lines": "SHARED 9"}
        )

        assert response.status_code == 200
        assert "SHARED at store-a: 9 requested, 4 available." in message_texts(response)
        assert not Transfer.objects.exists()
        assert stock_of(world["shared"], world["a"]).reserved == 0

    def test_source_is_limited_to_their_locations(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("transfer", "add"), {"source": world["b"].pk, "destination": world["a"].pk, "lines": "SHARED 1"}
        )

        assert response.status_code == 200
        assert "source" in response.context["form"].errors
        assert not Transfer.objects.exists()

    def test_head_office_may_send_from_any_location(self, client, login, world):
        login(HEAD_OFFICE)

        client.post(
            admin_url("transfer", "add"), {"source": world["wh"].pk, "destination": world["b"].pk, "lines": "ONLY-B 5"}
        )

        assert Transfer.objects.get().source == world["wh"]

    def test_source_and_destination_must_differ(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(
            admin_url("transfer", "add"), {"source": world["a"].pk, "destination": world["a"].pk, "lines": "SHARED 1"}
        )

        assert "destination" in response.context["form"].errors
        assert not Transfer.objects.exists()

    def test_ship_then_receive_in_full(self, client, login, world):
        transfer = services.transfer_create(
            source=world["a"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 2)]
        )
        login(STORE_MANAGER, world["a"])

        run_action(client, "ship_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.IN_TRANSIT
        assert (stock_of(world["shared"], world["a"]).on_hand, stock_of(world["shared"], world["a"]).reserved) == (2, 0)

        login(STORE_STAFF, world["b"])
        response = run_action(client, "receive_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.RECEIVED
        assert stock_of(world["shared"], world["b"]).on_hand == 5
        assert any(transfer.number in text and "received" in text for text in message_texts(response))
        assert_ledger_matches()

    def test_a_manager_cannot_ship_from_a_store_that_is_not_theirs(self, client, login, world):
        transfer = services.transfer_create(
            source=world["b"], destination=world["a"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        login(STORE_MANAGER, world["a"])  # sees it: it comes to their store

        response = run_action(client, "ship_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.REQUESTED
        assert (
            f"Transfer {transfer.number} was not shipped: it leaves from {world['b']}, which is not your location."
            in (message_texts(response))
        )

    def test_store_staff_are_refused_shipping_from_a_store_that_is_not_theirs(self, client, login, world):
        transfer = services.transfer_create(
            source=world["b"], destination=world["a"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        login(STORE_STAFF, world["a"])  # sees it: it comes to their store

        response = run_action(client, "ship_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.REQUESTED
        actions = [choice[0] for choice in response.context["action_form"].fields["action"].choices]
        assert "ship_selected" not in actions
        assert "receive_selected" in actions

    def test_another_stores_transfer_cannot_be_acted_on(self, client, login, world):
        transfer = services.transfer_create(
            source=world["b"], destination=world["wh"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        login(STORE_MANAGER, world["a"])

        run_action(client, "cancel_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.REQUESTED

    def test_receive_refused_where_the_destination_is_not_theirs(self, client, login, world):
        transfer = services.transfer_create(
            source=world["a"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        services.transfer_ship(transfer=transfer)
        login(STORE_STAFF, world["a"])

        response = run_action(client, "receive_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.IN_TRANSIT
        assert any("was not received" in text for text in message_texts(response))
        assert client.get(admin_url("transfer", "receive", transfer.pk)).status_code == 403

    def test_a_wrong_status_shows_the_services_message(self, client, login, world):
        transfer = services.transfer_create(
            source=world["a"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 1)]
        )
        login(STORE_STAFF, world["b"])

        response = run_action(client, "receive_selected", transfer)

        assert f"Transfer {transfer.number} was not received. Transfer {transfer.number} is reserved." in (
            message_texts(response)
        )

    def test_receive_part_records_the_discrepancy(self, client, login, world):
        transfer = services.transfer_create(
            source=world["wh"],
            destination=world["a"],
            lines=[ProductQuantity(world["shared"].pk, 5), ProductQuantity(world["only_a"].pk, 2)],
        )
        services.transfer_ship(transfer=transfer)
        lines = {line.product.sku: line for line in transfer.lines.select_related("product")}
        login(STORE_STAFF, world["a"])
        change_page = client.get(admin_url("transfer", "change", transfer.pk)).content.decode()
        assert admin_url("transfer", "receive", transfer.pk) in change_page
        assert client.get(admin_url("transfer", "receive", transfer.pk)).status_code == 200

        response = client.post(
            admin_url("transfer", "receive", transfer.pk),
            {f"line_{lines['SHARED'].pk}": "3", f"line_{lines['ONLY-A'].pk}": "2"},
            follow=True,
        )

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.RECEIVED
        assert stock_of(world["shared"], world["a"]).on_hand == 4 + 3
        assert stock_of(world["only_a"], world["a"]).on_hand == 10 + 2
        assert transfer.has_discrepancy
        assert "2 units shipped did not arrive; the discrepancy is recorded on the transfer." in message_texts(response)
        assert "SHARED: 2 of 5 did not arrive" in response.content.decode()
        assert_ledger_matches()

    def test_receiving_more_than_shipped_is_refused(self, client, login, world):
        transfer = services.transfer_create(
            source=world["wh"], destination=world["a"], lines=[ProductQuantity(world["shared"].pk, 5)]
        )
        services.transfer_ship(transfer=transfer)
        line = transfer.lines.get()
        login(STORE_STAFF, world["a"])

        response = client.post(admin_url("transfer", "receive", transfer.pk), {f"line_{line.pk}": "6"})

        assert response.status_code == 200
        assert f"line_{line.pk}" in response.context["form"].errors
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.IN_TRANSIT

    def test_cancel_releases_the_reservation(self, client, login, world):
        transfer = services.transfer_create(
            source=world["a"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 2)]
        )
        login(STORE_MANAGER, world["a"])

        run_action(client, "cancel_selected", transfer)

        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.CANCELLED
        assert stock_of(world["shared"], world["a"]).reserved == 0
        assert_ledger_matches()

    def test_transfers_are_not_edited_or_deleted(self, client, login, world):
        transfer = services.transfer_create(
            source=world["a"], destination=world["b"], lines=[ProductQuantity(world["shared"].pk, 2)]
        )
        login(HEAD_OFFICE)

        client.post(admin_url("transfer", "change", transfer.pk), {"status": "received", "note": "changed"})

        transfer.refresh_from_db()
        assert (transfer.status, transfer.note) == ("requested", "")
        assert client.post(admin_url("transfer", "delete", transfer.pk), {"post": "yes"}).status_code == 403


# --- Catalogue -------------------------------------------------------------------------------


class TestProducts:
    def test_search_by_exact_barcode(self, client, login, world):
        barcode = BarcodeFactory(product=world["only_b"])
        login(STORE_STAFF, world["a"])

        found = client.get(admin_url("product", "changelist"), {"q": barcode.code}).context["cl"].result_list
        partial = client.get(admin_url("product", "changelist"), {"q": barcode.code[:8]}).context["cl"].result_list

        assert [product.sku for product in found] == ["ONLY-B"]
        assert list(partial) == []

    def test_search_by_sku_and_name(self, client, login, world):
        login(STORE_STAFF, world["a"])
        by_sku = client.get(admin_url("product", "changelist"), {"q": "ONLY-A"}).context["cl"].result_list
        by_name = client.get(admin_url("product", "changelist"), {"q": "toast"}).context["cl"].result_list
        assert [p.sku for p in by_sku] == ["ONLY-A"]
        assert [p.sku for p in by_name] == ["ONLY-B"]

    def test_an_invalid_barcode_is_refused_when_saving(self, client, login, world):
        login(HEAD_OFFICE)
        category = CategoryFactory()
        data = {
            "sku": "NEW-1",
            "name": "New",
            "description": "",
            "category": category.pk,
            "unit": "pcs",
            "price": "10.00",
            "is_active": "on",
            "barcodes-TOTAL_FORMS": "1",
            "barcodes-INITIAL_FORMS": "0",
            "barcodes-0-code": "4600000000000",  # wrong check digit
            "stock-TOTAL_FORMS": "0",
            "stock-INITIAL_FORMS": "0",
        }

        response = client.post(admin_url("product", "add"), data)

        assert response.status_code == 200
        assert "not a valid EAN-13" in response.content.decode()
        assert not Barcode.objects.filter(product__sku="NEW-1").exists()

        data["barcodes-0-code"] = ean13(424242)
        assert client.post(admin_url("product", "add"), data).status_code == 302
        assert Barcode.objects.get(product__sku="NEW-1").code == ean13(424242)

    def test_store_staff_see_barcodes_read_only(self, client, login, world):
        BarcodeFactory(product=world["only_a"])
        login(STORE_STAFF, world["a"])

        response = client.get(admin_url("product", "change", world["only_a"].pk))

        assert response.status_code == 200
        assert 'name="barcodes-0-code"' not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("sku", "MUG\u200b1", "The character U+200B ZERO WIDTH SPACE is not allowed here"),
        ("sku", "MUG\u202e1", "The character U+202E RIGHT-TO-LEFT OVERRIDE is not allowed here"),
        ("barcodes-0-code", ean13(5).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}), "not a valid EAN-13"),
    ],
)
def test_product_form_refuses_invisible_characters_and_other_digits(client, login, field, value, expected):
    login(HEAD_OFFICE)
    data = {
        "sku": "MUG-1",
        "name": "Mug",
        "price": "10.00",
        "unit": "pcs",
        "is_active": "on",
        "barcodes-TOTAL_FORMS": "1",
        "barcodes-INITIAL_FORMS": "0",
        "barcodes-0-code": ean13(5),
        "stock-TOTAL_FORMS": "0",
        "stock-INITIAL_FORMS": "0",
        field: value,
    }

    response = client.post(admin_url("product", "add"), data)

    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not Product.objects.exists()
    assert not Barcode.objects.exists()


def test_product_form_applies_the_sku_rule_of_the_api(client, login):
    login(HEAD_OFFICE)
    data = {
        "sku": "BAD SKU",
        "name": "Kettle",
        "price": "10.00",
        "unit": "pcs",
        "is_active": "on",
        "barcodes-TOTAL_FORMS": "0",
        "barcodes-INITIAL_FORMS": "0",
    }

    response = client.post(admin_url("product", "add"), data)

    assert response.status_code == 200
    assert "neither spaces nor slashes" in response.content.decode()
    assert not Product.objects.filter(sku="BAD SKU").exists()
