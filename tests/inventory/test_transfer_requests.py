"""A store asks a warehouse for goods: nothing moves until the warehouse ships the request."""

import pytest

from inventory import services
from inventory.errors import InsufficientStock, InvalidQuantity, InvalidTransferStatus
from inventory.models import Stock, StockMovement, TransferStatus
from inventory.selectors import stock_discrepancies
from inventory.services import ProductQuantity
from omni.core.errors import InvalidInput
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def figures(product, location) -> tuple[int, int]:
    stock = Stock.objects.filter(product=product, location=location).first()
    return (stock.on_hand, stock.reserved) if stock else (0, 0)


@pytest.fixture
def shelves():
    warehouse, store = WarehouseFactory(code="wh"), LocationFactory(code="store")
    boots, socks = ProductFactory(sku="BOOTS"), ProductFactory(sku="SOCKS")
    services.stock_receive(location=warehouse, lines=[ProductQuantity(boots.pk, 10), ProductQuantity(socks.pk, 3)])
    return {"wh": warehouse, "store": store, "boots": boots, "socks": socks}


def ask(shelves, boots=4, socks=5):
    return services.transfer_ask(
        source=shelves["wh"],
        destination=shelves["store"],
        lines=[ProductQuantity(shelves["boots"].pk, boots), ProductQuantity(shelves["socks"].pk, socks)],
        note="for the weekend",
    )


def test_asking_moves_and_reserves_nothing(shelves):
    movements = StockMovement.objects.count()

    transfer = ask(shelves)

    assert transfer.status == TransferStatus.ASKED
    assert sorted(transfer.lines.values_list("quantity", "asked_quantity")) == [(4, 4), (5, 5)]
    assert StockMovement.objects.count() == movements
    assert figures(shelves["boots"], shelves["wh"]) == (10, 0)


def test_asking_more_than_the_source_holds_is_allowed_until_it_ships(shelves):
    transfer = ask(shelves, socks=5)  # the warehouse holds 3 socks

    with pytest.raises(InsufficientStock):
        services.transfer_ship_asked(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ASKED
    assert figures(shelves["socks"], shelves["wh"]) == (3, 0)
    assert sorted(transfer.lines.values_list("quantity", flat=True)) == [4, 5]


def test_shipping_less_and_refusing_a_line(shelves):
    transfer = ask(shelves)
    boots, socks = shelves["boots"].pk, shelves["socks"].pk

    services.transfer_ship_asked(transfer=transfer, sending={boots: 3, socks: 0})

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert dict(transfer.lines.values_list("product_id", "quantity")) == {boots: 3, socks: 0}
    assert figures(shelves["boots"], shelves["wh"]) == (7, 0)
    assert figures(shelves["socks"], shelves["wh"]) == (3, 0)

    services.transfer_receive(transfer=transfer)

    assert figures(shelves["boots"], shelves["store"]) == (3, 0)
    assert figures(shelves["socks"], shelves["store"]) == (0, 0)
    transfer.refresh_from_db()
    assert not transfer.has_discrepancy
    assert stock_discrepancies() == []


def test_accepting_reserves_then_the_usual_flow_ships(shelves):
    transfer = services.transfer_accept(transfer=ask(shelves, socks=2))

    assert transfer.status == TransferStatus.REQUESTED
    assert figures(shelves["socks"], shelves["wh"]) == (3, 2)
    services.transfer_ship(transfer=transfer)
    assert figures(shelves["socks"], shelves["wh"]) == (1, 0)
    assert stock_discrepancies() == []


@pytest.mark.parametrize(
    "sending",
    [
        {"boots": 5},  # more than asked for
        {"boots": 0, "socks": 0},  # nothing: that is declining
        {"boots": -1},
        {"other": 1},  # not on the transfer
    ],
)
def test_bad_quantities_are_refused_and_change_nothing(shelves, sending):
    transfer = ask(shelves)
    other = ProductFactory()
    ids = {"boots": shelves["boots"].pk, "socks": shelves["socks"].pk, "other": other.pk}

    with pytest.raises(InvalidQuantity):
        services.transfer_ship_asked(transfer=transfer, sending={ids[name]: qty for name, qty in sending.items()})

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ASKED
    assert figures(shelves["boots"], shelves["wh"]) == (10, 0)


def test_declining_needs_a_reason_and_moves_nothing(shelves):
    transfer = ask(shelves)

    with pytest.raises(InvalidInput):
        services.transfer_decline(transfer=transfer, reason="  ")
    services.transfer_decline(transfer=transfer, reason="Season's end: no boots left to send")

    transfer.refresh_from_db()
    assert (transfer.status, transfer.decline_reason) == (
        TransferStatus.DECLINED,
        "Season's end: no boots left to send",
    )
    assert transfer.declined_at is not None
    assert figures(shelves["boots"], shelves["wh"]) == (10, 0)
    with pytest.raises(InvalidTransferStatus):
        services.transfer_ship_asked(transfer=transfer)


def test_the_destination_withdraws_its_request(shelves):
    transfer = ask(shelves)

    services.transfer_cancel(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    assert figures(shelves["boots"], shelves["wh"]) == (10, 0)
    with pytest.raises(InvalidTransferStatus):
        services.transfer_decline(transfer=transfer, reason="too late")


def test_a_request_cannot_be_shipped_as_an_ordinary_transfer(shelves):
    with pytest.raises(InvalidTransferStatus):
        services.transfer_ship(transfer=ask(shelves))


def test_a_request_needs_two_locations_and_lines(shelves):
    with pytest.raises(InvalidTransferStatus):
        services.transfer_ask(
            source=shelves["store"], destination=shelves["store"], lines=[ProductQuantity(shelves["boots"].pk, 1)]
        )
    with pytest.raises(InvalidQuantity):
        services.transfer_ask(source=shelves["wh"], destination=shelves["store"], lines=[])
