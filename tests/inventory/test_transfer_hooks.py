"""``reserve_on_receipt`` and the transfer-received hook (used by click-and-collect orders)."""

import pytest

from inventory import hooks
from inventory.models import MovementReason, Stock, StockMovement
from inventory.selectors import stock_discrepancies
from inventory.services import Cause, ProductQuantity, stock_receive, transfer_create, transfer_receive, transfer_ship
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moving():
    warehouse, store, product = WarehouseFactory(), LocationFactory(), ProductFactory()
    stock_receive(location=warehouse, lines=[ProductQuantity(product.pk, 10)])
    return warehouse, store, product


def test_what_arrives_is_reserved_for_the_cause(moving):
    warehouse, store, product = moving
    transfer = transfer_create(
        source=warehouse,
        destination=store,
        lines=[ProductQuantity(product.pk, 3)],
        cause=Cause("order", "W-000042"),
        reserve_on_receipt=True,
    )
    transfer_ship(transfer=transfer)

    transfer_receive(transfer=transfer, received={product.pk: 2})

    row = Stock.objects.get(location=store, product=product)
    assert (row.on_hand, row.reserved) == (2, 2)
    reservation = StockMovement.objects.get(location=store, reason=MovementReason.RESERVATION)
    assert (reservation.cause_type, reservation.cause_id, reservation.reserved_delta) == ("order", "W-000042", 2)
    assert stock_discrepancies() == []


def test_without_the_flag_nothing_is_reserved(moving):
    warehouse, store, product = moving
    transfer = transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 3)])
    assert transfer.reserve_on_receipt is False
    transfer_ship(transfer=transfer)
    transfer_receive(transfer=transfer)
    row = Stock.objects.get(location=store, product=product)
    assert (row.on_hand, row.reserved) == (3, 0)


def test_the_flag_needs_a_cause(moving):
    warehouse, store, product = moving
    transfer = transfer_create(
        source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 1)], reserve_on_receipt=True
    )
    assert transfer.reserve_on_receipt is False


def test_callbacks_are_called_in_the_receipt_transaction(moving, monkeypatch):
    warehouse, store, product = moving
    monkeypatch.setattr(hooks.transfer_received, "_callbacks", dict(hooks.transfer_received._callbacks))
    heard = []

    def listener(*, transfer, received):
        heard.append((transfer.number, transfer.status, received))

    hooks.register_transfer_received(listener)
    hooks.register_transfer_received(listener)  # registering again replaces it
    transfer = transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 4)])
    transfer_ship(transfer=transfer)

    transfer_receive(transfer=transfer, received={product.pk: 3})

    assert heard == [(transfer.number, "received", {product.pk: 3})]


def test_a_failing_callback_refuses_the_receipt(moving, monkeypatch):
    warehouse, store, product = moving
    monkeypatch.setattr(hooks.transfer_received, "_callbacks", {})

    def broken(*, transfer, received):
        raise RuntimeError("no")

    hooks.register_transfer_received(broken)
    transfer = transfer_create(source=warehouse, destination=store, lines=[ProductQuantity(product.pk, 1)])
    transfer_ship(transfer=transfer)

    with pytest.raises(RuntimeError):
        transfer_receive(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == "in_transit"
    assert not Stock.objects.filter(location=store, product=product, on_hand__gt=0).exists()
