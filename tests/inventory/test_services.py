import pytest

from inventory import services
from inventory.errors import (
    BarcodeTaken,
    CountBelowReserved,
    DocumentNumberConflict,
    InsufficientStock,
    InvalidBarcode,
    InvalidQuantity,
    InvalidTransferStatus,
    ReleaseExceedsReserved,
    StockChangedSinceCount,
    StockLimitExceeded,
    UnknownCategory,
)
from inventory.models import MovementReason, Stock, StockDocument, StockMovement, TransferStatus
from inventory.selectors import stock_discrepancies
from inventory.services import Cause, ProductData, ProductQuantity, StockLine
from tests.inventory.factories import CategoryFactory, LocationFactory, ProductFactory, WarehouseFactory, ean13

pytestmark = pytest.mark.django_db

ORDER = Cause("order", "W-1")


def stock_of(product, location) -> Stock:
    return Stock.objects.get(product=product, location=location)


def receive(location, *pairs, number=""):
    return services.stock_receive(location=location, lines=[ProductQuantity(p.pk, q) for p, q in pairs], number=number)


def assert_ledger_matches():
    assert stock_discrepancies() == []


class TestReceive:
    def test_receipt_adds_on_hand_and_writes_ledger(self):
        store, product = LocationFactory(), ProductFactory()

        document, created = receive(store, (product, 5), number="R-1")

        assert created
        assert stock_of(product, store).on_hand == 5
        movement = StockMovement.objects.get()
        assert (movement.on_hand_delta, movement.reserved_delta, movement.reason) == (5, 0, MovementReason.RECEIPT)
        assert (movement.cause_type, movement.cause_id) == ("receipt", "R-1")
        assert document.lines.get().on_hand_before == 0
        assert_ledger_matches()

    def test_repeated_number_with_same_lines_changes_nothing(self):
        store, product = LocationFactory(), ProductFactory()
        first, _ = receive(store, (product, 5), number="R-1")

        again, created = receive(store, (product, 5), number="R-1")

        assert not created and again.pk == first.pk
        assert stock_of(product, store).on_hand == 5
        assert StockMovement.objects.count() == 1

    def test_repeated_number_with_other_lines_is_refused(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 5), number="R-1")

        with pytest.raises(DocumentNumberConflict):
            receive(store, (product, 6), number="R-1")
        assert stock_of(product, store).on_hand == 5

    def test_lines_of_one_product_are_summed(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 2), (product, 3))
        assert stock_of(product, store).on_hand == 5

    @pytest.mark.parametrize("quantity", [0, -1, 1.5, "3", True, None])
    def test_bad_quantity_changes_nothing(self, quantity):
        store, product = LocationFactory(), ProductFactory()
        with pytest.raises(InvalidQuantity):
            receive(store, (product, quantity))
        assert not StockDocument.objects.exists()
        assert not Stock.objects.exists()

    def test_empty_receipt_is_refused(self):
        with pytest.raises(InvalidQuantity):
            services.stock_receive(location=LocationFactory(), lines=[])

    def test_lines_adding_up_past_the_largest_stock_are_refused(self):
        store, product = LocationFactory(), ProductFactory()
        with pytest.raises(InvalidQuantity):
            receive(store, (product, 2_000_000_000), (product, 2_000_000_000))
        assert not StockDocument.objects.exists()

    def test_a_receipt_past_the_largest_stock_a_row_holds_is_refused(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 2_000_000_000))
        with pytest.raises(StockLimitExceeded):
            receive(store, (product, 200_000_000))
        assert stock_of(product, store).on_hand == 2_000_000_000
        assert_ledger_matches()

    def test_number_is_generated_when_missing(self):
        store, product = LocationFactory(), ProductFactory()
        first, _ = receive(store, (product, 1))
        second, _ = receive(store, (product, 1))
        assert first.number != second.number
        assert first.number.startswith("RECEIPT-")


class TestReserveAndSell:
    def test_reserve_sell_release_cycle(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 10))

        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 4)], cause=ORDER)
        row = stock_of(product, store)
        assert (row.on_hand, row.reserved, row.available) == (10, 4, 6)

        services.stock_sell_reserved(lines=[StockLine(product.pk, store.pk, 3)], cause=ORDER)
        services.stock_release(lines=[StockLine(product.pk, store.pk, 1)], cause=ORDER)
        row = stock_of(product, store)
        assert (row.on_hand, row.reserved) == (7, 0)
        assert_ledger_matches()

    def test_reserve_is_all_or_nothing_and_names_short_skus(self):
        store = LocationFactory()
        plenty, scarce, absent = (
            ProductFactory(sku="PLENTY"),
            ProductFactory(sku="SCARCE"),
            ProductFactory(sku="ABSENT"),
        )
        receive(store, (plenty, 10), (scarce, 1))

        with pytest.raises(InsufficientStock) as error:
            services.stock_reserve(
                lines=[
                    StockLine(plenty.pk, store.pk, 5),
                    StockLine(scarce.pk, store.pk, 2),
                    StockLine(absent.pk, store.pk, 1),
                ],
                cause=ORDER,
            )

        assert error.value.details["skus"] == ["ABSENT", "SCARCE"]
        assert {(line["sku"], line["requested"], line["available"]) for line in error.value.details["lines"]} == {
            ("SCARCE", 2, 1),
            ("ABSENT", 1, 0),
        }
        assert stock_of(plenty, store).reserved == 0
        assert StockMovement.objects.filter(reason=MovementReason.RESERVATION).count() == 0

    def test_reserved_units_cannot_be_reserved_again(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 2))
        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 2)], cause=ORDER)
        with pytest.raises(InsufficientStock):
            services.stock_reserve(lines=[StockLine(product.pk, store.pk, 1)], cause=Cause("order", "W-2"))

    def test_release_more_than_reserved_is_refused(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 5))
        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 1)], cause=ORDER)
        with pytest.raises(ReleaseExceedsReserved):
            services.stock_release(lines=[StockLine(product.pk, store.pk, 2)], cause=ORDER)
        with pytest.raises(ReleaseExceedsReserved):
            services.stock_sell_reserved(lines=[StockLine(product.pk, store.pk, 2)], cause=ORDER)
        assert stock_of(product, store).reserved == 1

    def test_direct_sale_takes_only_available_units(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 3))
        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 2)], cause=ORDER)

        with pytest.raises(InsufficientStock):
            services.stock_sell(lines=[StockLine(product.pk, store.pk, 2)], cause=Cause("sale", "S-1"))
        services.stock_sell(lines=[StockLine(product.pk, store.pk, 1)], cause=Cause("sale", "S-1"))

        row = stock_of(product, store)
        assert (row.on_hand, row.reserved) == (2, 2)
        assert_ledger_matches()

    def test_return_puts_goods_on_hand_where_they_were_taken_back(self):
        seller, receiver, product = LocationFactory(), LocationFactory(), ProductFactory()
        receive(seller, (product, 1))
        services.stock_sell(lines=[StockLine(product.pk, seller.pk, 1)], cause=ORDER)

        services.stock_return(lines=[StockLine(product.pk, receiver.pk, 1)], cause=Cause("return", "R-1"))

        assert stock_of(product, seller).on_hand == 0
        assert stock_of(product, receiver).on_hand == 1
        assert_ledger_matches()


class TestCountAndWriteOff:
    def test_count_sets_on_hand_and_records_the_difference(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 10))

        document, _ = services.stock_count(location=store, lines=[ProductQuantity(product.pk, 7)], number="C-1")

        assert stock_of(product, store).on_hand == 7
        line = document.lines.get()
        assert (line.quantity, line.on_hand_before, line.on_hand_delta) == (7, 10, -3)
        assert StockMovement.objects.get(reason=MovementReason.COUNT).on_hand_delta == -3
        assert_ledger_matches()

    def test_count_checks_the_on_hand_its_preview_showed(self):
        store, product, other = LocationFactory(), ProductFactory(sku="SOLD"), ProductFactory()
        receive(store, (product, 10), (other, 4))
        shown = {product.pk: 10, other.pk: 4}
        services.stock_sell(lines=[StockLine(product.pk, store.pk, 1)], cause=ORDER)  # after the preview

        with pytest.raises(StockChangedSinceCount) as error:
            services.stock_count(
                location=store,
                lines=[ProductQuantity(product.pk, 8), ProductQuantity(other.pk, 4)],
                expected_on_hand=shown,
            )

        assert error.value.details["lines"] == [{"sku": "SOLD", "location": store.code, "shown": 10, "on_hand": 9}]
        assert (stock_of(product, store).on_hand, stock_of(other, store).on_hand) == (9, 4)
        assert not StockDocument.objects.filter(kind="count").exists()

    def test_count_whose_preview_still_holds_is_recorded(self):
        store, product, never_held = LocationFactory(), ProductFactory(), ProductFactory()
        receive(store, (product, 10))

        services.stock_count(
            location=store,
            lines=[ProductQuantity(product.pk, 8), ProductQuantity(never_held.pk, 2)],
            expected_on_hand={product.pk: 10, never_held.pk: 0},
        )

        assert (stock_of(product, store).on_hand, stock_of(never_held, store).on_hand) == (8, 2)
        assert_ledger_matches()

    def test_count_to_zero_is_allowed(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 2))
        services.stock_count(location=store, lines=[ProductQuantity(product.pk, 0)])
        assert stock_of(product, store).on_hand == 0

    def test_count_below_reserved_is_refused(self):
        store, product = LocationFactory(), ProductFactory(sku="RESERVED")
        receive(store, (product, 5))
        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 4)], cause=ORDER)

        with pytest.raises(CountBelowReserved) as error:
            services.stock_count(location=store, lines=[ProductQuantity(product.pk, 3)])

        assert error.value.details["lines"][0] == {
            "sku": "RESERVED",
            "location": store.code,
            "counted": 3,
            "reserved": 4,
        }
        assert stock_of(product, store).on_hand == 5
        assert not StockDocument.objects.filter(kind="count").exists()

    def test_write_off_cannot_touch_reserved_units(self):
        store, product = LocationFactory(), ProductFactory()
        receive(store, (product, 5))
        services.stock_reserve(lines=[StockLine(product.pk, store.pk, 4)], cause=ORDER)

        with pytest.raises(InsufficientStock):
            services.stock_write_off(location=store, lines=[ProductQuantity(product.pk, 2)], note="damaged")
        services.stock_write_off(location=store, lines=[ProductQuantity(product.pk, 1)], note="damaged")

        assert stock_of(product, store).on_hand == 4
        assert StockMovement.objects.get(reason=MovementReason.WRITE_OFF).note == "damaged"
        assert_ledger_matches()


class TestTransfers:
    def test_full_transfer(self):
        warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
        receive(warehouse, (product, 10))

        transfer = services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 4)])
        assert transfer.number.startswith("TR-")
        assert stock_of(product, warehouse).reserved == 4

        services.transfer_ship(transfer=transfer)
        row = stock_of(product, warehouse)
        assert (row.on_hand, row.reserved) == (6, 0)

        transfer = services.transfer_receive(transfer=transfer)
        assert transfer.status == TransferStatus.RECEIVED
        assert stock_of(product, store).on_hand == 4
        assert not transfer.has_discrepancy
        assert_ledger_matches()

    def test_partial_receipt_records_the_discrepancy(self):
        warehouse, store = WarehouseFactory(), LocationFactory()
        shirts, socks = ProductFactory(), ProductFactory()
        receive(warehouse, (shirts, 10), (socks, 10))
        transfer = services.transfer_create(
            source=warehouse, destination=store, lines=[ProductQuantity(shirts.pk, 5), ProductQuantity(socks.pk, 3)]
        )
        services.transfer_ship(transfer=transfer)

        transfer = services.transfer_receive(transfer=transfer, received={shirts.pk: 4})

        assert stock_of(shirts, store).on_hand == 4
        assert not Stock.objects.filter(product=socks, location=store, on_hand__gt=0).exists()
        assert {line.product_id: line.discrepancy for line in transfer.lines.all()} == {shirts.pk: 1, socks.pk: 3}
        assert_ledger_matches()

    def test_cannot_receive_more_than_shipped(self):
        warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
        receive(warehouse, (product, 10))
        transfer = services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 2)])
        services.transfer_ship(transfer=transfer)
        with pytest.raises(InvalidQuantity):
            services.transfer_receive(transfer=transfer, received={product.pk: 3})
        transfer.refresh_from_db()
        assert transfer.status == TransferStatus.IN_TRANSIT

    def test_transfer_beyond_available_is_refused_and_leaves_nothing(self):
        warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
        receive(warehouse, (product, 1))
        with pytest.raises(InsufficientStock):
            services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 2)])
        assert not warehouse.transfers_out.exists()

    def test_cancel_releases_the_reservation(self):
        warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
        receive(warehouse, (product, 5))
        transfer = services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 5)])

        services.transfer_cancel(transfer=transfer)

        assert stock_of(product, warehouse).reserved == 0
        assert_ledger_matches()

    @pytest.mark.parametrize("action", ["ship", "cancel"])
    def test_status_rules(self, action):
        warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
        receive(warehouse, (product, 5))
        transfer = services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 1)])
        services.transfer_ship(transfer=transfer)

        with pytest.raises(InvalidTransferStatus):
            getattr(services, f"transfer_{action}")(transfer=transfer)
        services.transfer_receive(transfer=transfer)
        with pytest.raises(InvalidTransferStatus):
            services.transfer_receive(transfer=transfer)

    def test_same_source_and_destination_is_refused(self):
        store, product = LocationFactory(), ProductFactory()
        with pytest.raises(InvalidTransferStatus):
            services.transfer_create(source=store, destination=store, lines=[ProductQuantity(product.pk, 1)])


class TestProductUpsert:
    def test_creates_then_updates_by_sku(self):
        category = CategoryFactory(code="shirts")
        product, created = services.product_upsert(
            data=ProductData(sku="A-1", name="Shirt", price="1990.00", category_code="shirts", barcodes=(ean13(1),))
        )
        assert created and product.category == category

        product, created = services.product_upsert(
            data=ProductData(sku="A-1", name="Shirt, blue", price="1790.50", barcodes=(ean13(2), ean13(3)))
        )

        assert not created
        product.refresh_from_db()
        assert (product.name, str(product.price), product.category) == ("Shirt, blue", "1790.50", None)
        assert sorted(product.barcodes.values_list("code", flat=True)) == [ean13(2), ean13(3)]

    def test_barcode_of_another_product_is_refused(self):
        services.product_upsert(data=ProductData(sku="A-1", name="A", price="1", barcodes=(ean13(1),)))
        with pytest.raises(BarcodeTaken):
            services.product_upsert(data=ProductData(sku="B-1", name="B", price="1", barcodes=(ean13(1),)))

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            (ProductData(sku="A", name="A", price="1", barcodes=("4600000000001",)), InvalidBarcode),
            (ProductData(sku="A", name="A", price="1", category_code="nope"), UnknownCategory),
        ],
    )
    def test_bad_input_changes_nothing(self, data, error):
        with pytest.raises(error):
            services.product_upsert(data=data)
        assert not ProductFactory._meta.model.objects.exists()


@pytest.mark.parametrize("sku", ["", "  ", "A/B", "A B"])
def test_sku_must_be_usable_in_a_url(sku):
    from omni.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        services.product_upsert(data=ProductData(sku=sku, name="A", price="1"))
    assert "sku" in error.value.details["fields"]
