"""A store manager asks the warehouse for goods in the admin; the warehouse ships or declines."""

import pytest

from inventory import services
from inventory.models import Transfer, TransferStatus
from inventory.services import ProductQuantity
from tests.inventory.admin_support import (
    HEAD_OFFICE,
    STORE_MANAGER,
    STORE_STAFF,
    admin_url,
    assert_ledger_matches,
    message_texts,
    stock_of,
)

pytestmark = pytest.mark.django_db


def ask(world, **quantities):
    return services.transfer_ask(
        source=world["wh"],
        destination=world["a"],
        lines=[ProductQuantity(world[name].pk, qty) for name, qty in quantities.items()],
    )


def line_field(transfer, name, world) -> str:
    return f"line_{transfer.lines.get(product=world[name]).pk}"


def test_a_manager_asks_the_warehouse_and_nothing_is_reserved(client, login, world):
    login(STORE_MANAGER, world["a"])
    page = client.get(admin_url("transfer", "ask"))
    assert page.context["form"].fields["destination"].initial == world["a"].pk
    assert admin_url("transfer", "ask") in client.get(admin_url("transfer", "changelist")).content.decode()

    response = client.post(
        admin_url("transfer", "ask"),
        {"source": world["wh"].pk, "destination": world["a"].pk, "lines": "SHARED 5\nONLY-B 2"},
    )

    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert (transfer.source, transfer.destination, transfer.status) == (world["wh"], world["a"], TransferStatus.ASKED)
    assert stock_of(world["shared"], world["wh"]).reserved == 0
    assert any("Nothing is reserved until" in text for text in message_texts(response))


def test_a_manager_asks_only_for_their_own_store(client, login, world):
    login(STORE_MANAGER, world["a"])

    response = client.post(
        admin_url("transfer", "ask"), {"source": world["wh"].pk, "destination": world["b"].pk, "lines": "SHARED 5"}
    )

    assert "destination" in response.context["form"].errors
    assert not Transfer.objects.exists()


def test_store_staff_cannot_ask(client, login, world):
    login(STORE_STAFF, world["a"])
    assert client.get(admin_url("transfer", "ask")).status_code == 403


def test_the_warehouse_ships_less_and_refuses_a_line(client, login, world):
    transfer = ask(world, shared=5, only_b=2)
    login(STORE_MANAGER, world["wh"])
    assert admin_url("transfer", "ship", transfer.pk) in (
        client.get(admin_url("transfer", "change", transfer.pk)).content.decode()
    )

    response = client.post(
        admin_url("transfer", "ship", transfer.pk),
        {line_field(transfer, "shared", world): "3", line_field(transfer, "only_b", world): "0", "_ship": "1"},
    )

    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert (stock_of(world["shared"], world["wh"]).on_hand, stock_of(world["only_b"], world["wh"]).on_hand) == (47, 50)
    assert client.get(admin_url("transfer", "receive", transfer.pk)).status_code == 403  # the store receives it
    assert_ledger_matches()


def test_the_store_receives_only_the_lines_shipped(client, login, world):
    transfer = ask(world, shared=5, only_b=2)
    services.transfer_ship_asked(transfer=transfer, sending={world["shared"].pk: 3, world["only_b"].pk: 0})
    login(STORE_MANAGER, world["a"])

    page = client.get(admin_url("transfer", "receive", transfer.pk))

    assert list(page.context["form"].fields) == [line_field(transfer, "shared", world)]
    client.post(admin_url("transfer", "receive", transfer.pk), {line_field(transfer, "shared", world): "3"})
    assert stock_of(world["shared"], world["a"]).on_hand == 4 + 3
    assert_ledger_matches()


def test_the_warehouse_reserves_now_and_ships_later(client, login, world):
    transfer = ask(world, shared=5)
    login(STORE_MANAGER, world["wh"])

    client.post(
        admin_url("transfer", "ship", transfer.pk), {line_field(transfer, "shared", world): "5", "_reserve": "1"}
    )

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert stock_of(world["shared"], world["wh"]).reserved == 5


def test_declining_needs_a_reason_and_moves_nothing(client, login, world):
    transfer = ask(world, shared=5)
    login(STORE_MANAGER, world["wh"])
    field = line_field(transfer, "shared", world)

    refused = client.post(admin_url("transfer", "ship", transfer.pk), {field: "5", "reason": "", "_decline": "1"})
    assert refused.status_code == 200
    assert "Say why the request is declined." in message_texts(refused)

    client.post(admin_url("transfer", "ship", transfer.pk), {field: "5", "reason": "Out of season", "_decline": "1"})

    transfer.refresh_from_db()
    assert (transfer.status, transfer.decline_reason) == (TransferStatus.DECLINED, "Out of season")
    assert stock_of(world["shared"], world["wh"]).reserved == 0
    login(STORE_MANAGER, world["a"])
    assert "Out of season" in client.get(admin_url("transfer", "change", transfer.pk)).content.decode()


def test_asking_for_more_than_the_warehouse_holds_is_refused_when_shipping(client, login, world):
    transfer = ask(world, shared=60)
    login(STORE_MANAGER, world["wh"])
    page = client.get(admin_url("transfer", "ship", transfer.pk))
    field = line_field(transfer, "shared", world)
    assert page.context["form"].fields[field].initial == 50  # what is available, not what was asked

    response = client.post(admin_url("transfer", "ship", transfer.pk), {field: "60", "_ship": "1"})

    assert response.status_code == 200
    assert "SHARED at wh-1: 60 requested, 50 available." in message_texts(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ASKED
    assert stock_of(world["shared"], world["wh"]).on_hand == 50


def test_the_destination_cannot_ship_its_own_request(client, login, world):
    transfer = ask(world, shared=5)
    login(STORE_MANAGER, world["a"])

    assert admin_url("transfer", "ship", transfer.pk) not in (
        client.get(admin_url("transfer", "change", transfer.pk)).content.decode()
    )
    response = client.post(admin_url("transfer", "ship", transfer.pk), {"_ship": "1"})

    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ASKED


def test_the_list_action_ships_a_request_as_asked(client, login, world):
    transfer = ask(world, shared=5)
    login(HEAD_OFFICE)

    response = client.post(
        admin_url("transfer", "changelist"),
        {"action": "ship_selected", "index": 0, "_selected_action": [transfer.pk]},
        follow=True,
    )

    assert f"Transfer {transfer.number} is shipped." in message_texts(response)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert stock_of(world["shared"], world["wh"]).on_hand == 45
    assert_ledger_matches()


def test_a_shipped_request_has_no_ship_page(client, login, world):
    transfer = services.transfer_ship_asked(transfer=ask(world, shared=1))
    login(HEAD_OFFICE)

    response = client.get(admin_url("transfer", "ship", transfer.pk), follow=True)

    assert any("only a request can be shipped" in text for text in message_texts(response))
