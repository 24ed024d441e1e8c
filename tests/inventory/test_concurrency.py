"""Stock stays right when many requests race. PostgreSQL only: SQLite serialises writers."""

import pytest

from inventory import services
from inventory.errors import InsufficientStock
from inventory.models import MovementReason, Stock, StockMovement
from inventory.selectors import stock_discrepancies
from inventory.services import Cause, ProductQuantity, StockLine
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_buyers_for_the_last_ten_units():
    # given
    store, product = LocationFactory(), ProductFactory()
    services.stock_receive(location=store, lines=[ProductQuantity(product.pk, 10)])

    # when
    outcomes = race(
        50,
        lambda i: services.stock_reserve(lines=[StockLine(product.pk, store.pk, 1)], cause=Cause("order", f"W-{i}")),
    )

    # then
    refusals = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert outcomes.count(None) == 10
    assert len(refusals) == 40
    assert all(r.details["skus"] == [product.sku] for r in refusals)
    stock = Stock.objects.get(product=product, location=store)
    assert (stock.on_hand, stock.reserved) == (10, 10)
    assert StockMovement.objects.filter(reason=MovementReason.RESERVATION).count() == 10
    assert stock_discrepancies() == []


def test_opposite_line_orders_never_deadlock():
    # given: two products, and requests that name them in opposite orders
    store = LocationFactory()
    first, second = ProductFactory(), ProductFactory()
    services.stock_receive(location=store, lines=[ProductQuantity(first.pk, 1000), ProductQuantity(second.pk, 1000)])

    def reserve(i):
        lines = [StockLine(first.pk, store.pk, 1), StockLine(second.pk, store.pk, 1)]
        return services.stock_reserve(lines=lines if i % 2 else lines[::-1], cause=Cause("order", f"W-{i}"))

    # when
    outcomes = race(40, reserve)

    # then: every request succeeded; none was killed as a deadlock victim
    assert outcomes == [None] * 40
    assert sorted(Stock.objects.values_list("reserved", flat=True)) == [40, 40]
    assert stock_discrepancies() == []


def test_mixed_operations_keep_the_ledger_equal_to_the_figures():
    # given
    warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
    services.stock_receive(location=warehouse, lines=[ProductQuantity(product.pk, 30)])

    def act(i):
        line = StockLine(product.pk, warehouse.pk, 1)
        match i % 4:
            case 0:
                services.stock_receive(location=warehouse, lines=[ProductQuantity(product.pk, 1)])
            case 1:
                services.stock_sell(lines=[line], cause=Cause("sale", f"S-{i}"))
            case 2:
                services.stock_reserve(lines=[line], cause=Cause("order", f"W-{i}"))
            case 3:
                services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 1)])

    # when
    outcomes = race(40, act)

    # then
    assert [o for o in outcomes if o is not None] == []
    stock = Stock.objects.get(product=product, location=warehouse)
    assert (stock.on_hand, stock.reserved) == (30 + 10 - 10, 20)
    assert stock_discrepancies() == []


def test_racing_retries_of_one_receipt_record_it_once():
    store, product = LocationFactory(), ProductFactory()

    outcomes = race(
        10, lambda i: services.stock_receive(location=store, lines=[ProductQuantity(product.pk, 5)], number="ERP-1")
    )

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(created for _document, created in outcomes) == 1
    assert len({document.pk for document, _created in outcomes}) == 1
    assert Stock.objects.get(product=product, location=store).on_hand == 5


def test_shipping_one_transfer_twice_at_once_ships_it_once():
    warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
    services.stock_receive(location=warehouse, lines=[ProductQuantity(product.pk, 5)])
    transfer = services.transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 5)])

    outcomes = race(8, lambda i: services.transfer_ship(transfer=transfer))

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert Stock.objects.get(product=product, location=warehouse).on_hand == 0
    assert stock_discrepancies() == []


def test_two_products_racing_for_one_new_barcode():
    from inventory.errors import BarcodeTaken
    from inventory.models import Barcode
    from inventory.services import ProductData
    from tests.inventory.factories import ean13

    def upsert(i):
        return services.product_upsert(data=ProductData(sku=f"RACE-{i}", name="Racer", price="1", barcodes=(ean13(7),)))

    outcomes = race(6, upsert)

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, BarcodeTaken) for o in outcomes if isinstance(o, Exception)), outcomes
    assert Barcode.objects.filter(code=ean13(7)).count() == 1


def test_shipping_one_request_twice_at_once_ships_it_once():
    warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
    services.stock_receive(location=warehouse, lines=[ProductQuantity(product.pk, 5)])
    request = services.transfer_ask(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 4)])

    outcomes = race(6, lambda i: services.transfer_ship_asked(transfer=request))

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert (Stock.objects.get(product=product, location=warehouse).on_hand, StockMovement.objects.count()) == (1, 3)
    assert stock_discrepancies() == []
