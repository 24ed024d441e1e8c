"""stock.changed (coalesced), product.changed and transfer.received."""

import json
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.api.serializers import ProductSerializer
from inventory.api.transfer_serializers import TransferSerializer
from inventory.api.transfers import transfers_for_display
from inventory.models import Product, Stock
from inventory.services import (
    Cause,
    ProductData,
    ProductQuantity,
    StockLine,
    product_upsert,
    stock_receive,
    stock_reserve,
    transfer_create,
    transfer_receive,
    transfer_ship,
)
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.orders.factories import collect, customer, stock
from tests.webhooks.sources_support import sent_fixture  # noqa: F401 (the fixture "sent")

pytestmark = pytest.mark.django_db


def test_a_burst_of_reservations_sends_a_handful_and_ends_on_the_final_figures(
    sent, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from omni.webhooks.sources import inventory
    from omni.webhooks.stock_models import StockEventPending

    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: flushes are queued, one per debounce period
    queued = []
    monkeypatch.setattr(inventory.stock_events_flush_task, "apply_async", lambda **kw: queued.append(kw))
    inventory.cache.delete(inventory._FLUSH_QUEUED_KEY)
    shop, item = LocationFactory(code="MSK-1"), ProductFactory(sku="TEE-1")
    stock_receive(location=shop, lines=[ProductQuantity(item.pk, 1500)])

    for _burst in range(2):  # two seconds of a 1,000-reservation burst: a flush each
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(500):
                stock_reserve(lines=[StockLine(item.pk, shop.pk, 1)], cause=Cause("order", "W"))
        inventory.stock_events_flush()
        inventory.cache.delete(inventory._FLUSH_QUEUED_KEY)  # the debounce period is over

    events = sent.of("stock.changed")
    assert len(queued) <= 3 and len(events) <= 3  # the receipt's, then one per burst
    assert events[-1]["object_id"] == "TEE-1@MSK-1"
    assert {k: events[-1]["data"][k] for k in ("sku", "location", "on_hand", "reserved", "available")} == {
        "sku": "TEE-1",
        "location": "MSK-1",
        "on_hand": 1500,
        "reserved": 1000,
        "available": 500,
    }
    assert not StockEventPending.objects.exists()


def test_a_change_after_the_flush_read_is_sent_next_time(sent):
    from omni.webhooks.sources import inventory

    shop, item = LocationFactory(), ProductFactory()
    stock_receive(location=shop, lines=[ProductQuantity(item.pk, 5)])
    assert inventory.stock_events_flush() == 1
    stock_reserve(lines=[StockLine(item.pk, shop.pk, 2)], cause=Cause.none())
    assert inventory.stock_events_flush() == 1
    assert inventory.stock_events_flush() == 0
    assert [event["data"]["available"] for event in sent.of("stock.changed")] == [5, 3]


def test_without_a_broker_each_commit_flushes(sent, django_capture_on_commit_callbacks):
    shop, item = LocationFactory(), ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        stock_receive(location=shop, lines=[ProductQuantity(item.pk, 5)])
    with django_capture_on_commit_callbacks(execute=True):
        stock_reserve(lines=[StockLine(item.pk, shop.pk, 2)], cause=Cause.none())
    assert [event["data"]["available"] for event in sent.of("stock.changed")] == [5, 3]


def place_counting_queries(shop, item) -> int:
    person = customer()
    with CaptureQueriesContext(connection) as queries:
        collect(person, shop, (item, 1))
    return len(queries)


def test_no_extra_query_on_order_placement_when_nobody_subscribes(sent, monkeypatch):
    from inventory import hooks

    shop, item = LocationFactory(), ProductFactory()
    stock(shop, item, 10)
    place_counting_queries(shop, item)  # warm the caches (programme, settings)
    sent.wanted = False
    sent.events.clear()
    with_sources = place_counting_queries(shop, item)
    monkeypatch.setattr(hooks.stock_changed, "_callbacks", {})
    without = place_counting_queries(shop, item)
    assert with_sources == without
    assert sent.events == []


def test_product_changed_carries_the_api_representation(sent):
    product, _created = product_upsert(data=ProductData(sku="SKU-9", name="Cap", price=Decimal("5.00")))

    (event,) = sent.of("product.changed")
    expected = ProductSerializer(Product.objects.get(pk=product.pk)).data
    assert (event["object_type"], event["object_id"]) == ("product", "SKU-9")
    assert event["data"]["name"] == "Cap" and event["data"]["price"] == expected["price"] == "5.00"
    assert set(event["data"]) == set(expected)


def test_transfer_received_names_what_arrived(sent):
    warehouse, shop, item = WarehouseFactory(code="WH"), LocationFactory(code="SHOP"), ProductFactory(sku="X-1")
    stock_receive(location=warehouse, lines=[ProductQuantity(item.pk, 5)])
    transfer = transfer_create(source=warehouse, destination=shop, lines=[ProductQuantity(item.pk, 3)])
    transfer_ship(transfer=transfer)
    transfer_receive(transfer=transfer, received={item.pk: 2})

    (event,) = sent.of("transfer.received")
    assert event["object_id"] == transfer.number
    expected = TransferSerializer(transfers_for_display().get(pk=transfer.pk)).data
    assert event["data"] == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))  # as the API shows it
    assert (event["data"]["source"], event["data"]["destination"], event["data"]["status"]) == (
        "WH",
        "SHOP",
        "received",
    )
    assert event["data"]["lines"] == [{"sku": "X-1", "asked_quantity": None, "quantity": 3, "received_quantity": 2}]
    assert Stock.objects.get(product=item, location=shop).on_hand == 2
