"""A whole order's life reaches a local receiver as signed events, in order."""

import pytest

from omni.webhooks.models import Delivery, DeliveryStatus
from orders import services
from orders.models import Refund, RefundStatus
from orders.services import PaymentInput, ReturnLineInput
from tests.orders.factories import collect, customer, product, stock, store

pytestmark = pytest.mark.django_db

ORDER_EVENTS = [
    "order.created",
    "order.status_changed",
    "order.ready_for_pickup",
    "order.handed_over",
    "return.accepted",
    "refund.completed",
]


def test_placed_ready_handed_over_with_a_refusal_returned_refunded(
    subscribe, receiver, django_capture_on_commit_callbacks
):
    subscribe(*ORDER_EVENTS)
    shop, shirt, socks = store(code="msk"), product("1200.00"), product("300.00")
    stock(shop, shirt, 5)
    stock(shop, socks, 5)
    with django_capture_on_commit_callbacks(execute=True):
        order = collect(customer(), shop, (shirt, 1), (socks, 2), payments=[PaymentInput(method="card_online")])
    with django_capture_on_commit_callbacks(execute=True):
        services.order_mark_ready(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_hand_over(order=order, refused={socks.sku: 1})
    with django_capture_on_commit_callbacks(execute=True):
        services.return_accept(
            order=order, location=shop, lines=[ReturnLineInput(sku=shirt.sku, quantity=1)], reason="Too small"
        )
    for refund in Refund.objects.filter(order=order, status=RefundStatus.PENDING).order_by("id"):
        with django_capture_on_commit_callbacks(execute=True):
            services.refund_complete(refund=refund, transaction_id=f"rf-{refund.pk}")

    assert receiver.bad_signatures == 0
    refunds = Refund.objects.filter(order=order).count()
    assert refunds == 2  # the refused socks' prepayment, and the returned shirt
    assert receiver.types == [
        "order.created",
        "order.status_changed",
        "order.ready_for_pickup",
        "order.status_changed",
        "order.handed_over",
        "return.accepted",
        *["refund.completed"] * refunds,
    ]
    created, ready_change, _ready, collected, handed_over = receiver.received[:5]
    assert created["data"]["order"]["number"] == order.number
    assert created["data"]["order"]["status"] == "placed"
    assert (ready_change["data"]["status_from"], ready_change["data"]["status_to"]) == ("placed", "ready_for_pickup")
    assert (collected["data"]["status_from"], collected["data"]["status_to"]) == ("ready_for_pickup", "collected")
    assert handed_over["data"]["refused"] == [{"sku": socks.sku, "quantity": 1}]
    assert handed_over["data"]["order"]["status"] == "collected"
    assert receiver.received[-1]["data"]["order"] == order.number
    assert not Delivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()


def test_nothing_is_written_without_a_subscription(django_capture_on_commit_callbacks):
    shop, shirt = store(), product()
    stock(shop, shirt, 1)
    collect(customer(), shop, (shirt, 1))
    assert not Delivery.objects.exists()


def test_order_created_carries_the_order_as_the_api_answered_it(
    subscribe, receiver, client_with_scopes, django_capture_on_commit_callbacks
):
    # The event and the response are rendered once, from the rows the placing wrote.
    subscribe("order.created")
    shop, shirt = store(code="msk"), product("1200.00")
    stock(shop, shirt, 5)
    writer = client_with_scopes("orders:read", "orders:write")
    body = {
        "channel": "site",
        "fulfilment": "click_and_collect",
        "customer": customer().pk,
        "pickup_location": shop.code,
        "lines": [{"sku": shirt.sku, "quantity": 2}],
        "payments": [{"method": "card_online"}],
    }

    with django_capture_on_commit_callbacks(execute=True):
        placed = writer.post("/api/v1/orders/", body, format="json")

    assert placed.status_code == 201, placed.content
    answered = placed.json()
    assert [event["type"] for event in receiver.received] == ["order.created"]
    order_data = receiver.received[0]["data"]["order"]
    assert order_data == {key: value for key, value in answered.items() if key not in {"history", "refunds", "returns"}}
    assert answered["history"][0]["status_to"] == "placed" and answered["lines"][0]["quantity"] == 2
