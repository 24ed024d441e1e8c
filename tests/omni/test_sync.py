"""Incremental sync: ``updated_since`` and the cursor over (change time, id) on the API's lists."""

import datetime

import pytest
from django.utils import timezone

from customers.merge import customer_merge
from inventory.models import Product, Stock
from inventory.services import Cause, StockLine, stock_reserve
from loyalty import services as loyalty
from omni.core.api.sync import SyncPosition
from orders.services import order_cancel
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import LocationFactory, ProductFactory
from tests.orders.factories import collect, stock

pytestmark = [pytest.mark.django_db]

PRODUCTS = "/api/v1/products/"
T0 = datetime.datetime(2026, 5, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def no_safety_window(settings):
    settings.SYNC_SAFETY_WINDOW_SECONDS = 0


def stamp(model, pks, moment):
    """Set the change time as a queryset update does: auto_now is not involved."""
    model.objects.filter(pk__in=pks).update(updated_at=moment)


def pull(client, url, **params):
    """Every page from ``params`` on: the rows' SKUs in the order received, and the last cursor."""
    seen, answer = [], client.get(url, params).json()
    seen += [row["sku"] for row in answer["results"]]
    while answer["has_more"]:
        assert "updated_since" not in answer["next"] and f"cursor={answer['cursor']}" in answer["next"]
        answer = client.get(answer["next"]).json()  # keeps page_size
        seen += [row["sku"] for row in answer["results"]]
    return seen, answer["cursor"]


def test_same_millisecond_rows_each_come_once_across_pages(client_with_scopes):
    client = client_with_scopes("catalog:read")
    products = ProductFactory.create_batch(5)
    stamp(Product, [p.pk for p in products], T0)  # five rows written in the same instant

    seen, _cursor = pull(client, PRODUCTS, updated_since=T0.isoformat(), page_size=2)

    assert seen == sorted(p.sku for p in products)


def test_a_row_changed_at_the_cursors_instant_with_a_higher_id_is_not_skipped(client_with_scopes):
    client = client_with_scopes("catalog:read")
    first, second = ProductFactory.create_batch(2)
    stamp(Product, [first.pk], T0)
    stamp(Product, [second.pk], T0 - datetime.timedelta(days=1))
    answer = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()
    assert [row["sku"] for row in answer["results"]] == [first.sku]

    stamp(Product, [second.pk], T0)  # now at exactly the cursor's time, after it by id
    again = client.get(PRODUCTS, {"cursor": answer["cursor"]}).json()

    assert [row["sku"] for row in again["results"]] == [second.sku]


def test_updated_since_includes_its_instant_and_leaves_out_older_rows(client_with_scopes):
    client = client_with_scopes("catalog:read")
    old, at, new = ProductFactory.create_batch(3)
    stamp(Product, [old.pk], T0 - datetime.timedelta(microseconds=1))
    stamp(Product, [at.pk], T0)
    stamp(Product, [new.pk], T0 + datetime.timedelta(hours=1))

    answer = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()

    assert [row["sku"] for row in answer["results"]] == [at.sku, new.sku]
    assert answer["has_more"] is False and answer["next"] is None


def test_rows_changed_between_pages_come_again_after_and_none_is_lost(client_with_scopes):
    client = client_with_scopes("catalog:read")
    products = ProductFactory.create_batch(6)
    for n, product in enumerate(products):
        stamp(Product, [product.pk], T0 + datetime.timedelta(seconds=n))

    page = client.get(PRODUCTS, {"updated_since": T0.isoformat(), "page_size": 2}).json()
    seen = [row["sku"] for row in page["results"]]
    # Between pages: one already read and one not yet read are changed again.
    products[0].name, products[4].name = "changed after read", "changed before read"
    products[0].save()
    products[4].save()
    while page["has_more"]:
        page = client.get(PRODUCTS, {"cursor": page["cursor"], "page_size": 2}).json()
        seen += [row["sku"] for row in page["results"]]

    assert sorted(set(seen)) == sorted(p.sku for p in products)  # every row at least once
    assert seen.count(products[4].sku) == 1  # not yet read: comes once, in its new place
    assert seen[-2:] == [products[0].sku, products[4].sku]  # the changed rows come last, newest state
    assert len(seen) == len(products) + 1  # the one read before its change comes again, once


def test_the_safety_window_holds_back_the_newest_changes(client_with_scopes, settings):
    settings.SYNC_SAFETY_WINDOW_SECONDS = 5
    client = client_with_scopes("catalog:read")
    settled, fresh = ProductFactory.create_batch(2)
    stamp(Product, [settled.pk], timezone.now() - datetime.timedelta(seconds=10))

    answer = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()

    assert [row["sku"] for row in answer["results"]] == [settled.sku]
    assert fresh.sku not in [row["sku"] for row in answer["results"]]
    until = datetime.datetime.fromisoformat(answer["until"])
    assert timezone.now() - datetime.timedelta(seconds=6) < until < timezone.now() - datetime.timedelta(seconds=4)


def test_a_row_committed_after_a_read_with_an_older_change_time_still_comes(client_with_scopes, settings):
    """A long transaction wrote the row 3 s before the client's read and committed after it."""
    settings.SYNC_SAFETY_WINDOW_SECONDS = 5
    client = client_with_scopes("catalog:read")
    settled = ProductFactory()
    stamp(Product, [settled.pk], timezone.now() - datetime.timedelta(seconds=10))
    first = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()
    late = ProductFactory()
    stamp(Product, [late.pk], timezone.now() - datetime.timedelta(seconds=3))

    held = client.get(PRODUCTS, {"cursor": first["cursor"]}).json()
    settings.SYNC_SAFETY_WINDOW_SECONDS = 0  # as if the window had passed
    then = client.get(PRODUCTS, {"cursor": held["cursor"]}).json()

    assert [row["sku"] for row in first["results"]] == [settled.sku]
    assert held["results"] == []
    assert [row["sku"] for row in then["results"]] == [late.sku]


def test_deactivated_products_come_with_their_state(client_with_scopes):
    client = client_with_scopes("catalog:read")
    product = ProductFactory()
    Product.objects.filter(pk=product.pk).update(is_active=False, updated_at=timezone.now())

    answer = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()

    assert [(row["sku"], row["is_active"]) for row in answer["results"]] == [(product.sku, False)]


def test_merged_and_anonymised_customers_come_in_sync_but_not_in_pages(client_with_scopes):
    client = client_with_scopes("customers:read")
    survivor, merged = CustomerFactory(), CustomerFactory()
    customer_merge(survivor=survivor, merged=merged)

    changes = client.get("/api/v1/customers/", {"updated_since": T0.isoformat()}).json()["results"]
    pages = client.get("/api/v1/customers/").json()["results"]

    by_id = {row["id"]: row for row in changes}
    assert by_id[merged.pk]["merged_into"] == survivor.pk
    assert by_id[merged.pk]["merged_at"] is not None
    assert [row["id"] for row in pages] == [survivor.pk]


def test_blocked_cards_come_with_their_status(client_with_scopes):
    client = client_with_scopes("loyalty:read")
    account, _created = loyalty.account_open(customer=CustomerFactory())
    card = account.cards.get()
    before = client.get("/api/v1/loyalty/cards/", {"updated_since": T0.isoformat()}).json()

    loyalty.card_block(card=card, reason="lost")
    after = client.get("/api/v1/loyalty/cards/", {"cursor": before["cursor"]}).json()

    assert [(row["number"], row["status"]) for row in after["results"]] == [(card.number, "blocked")]


def test_a_reservation_moves_its_stock_row_in_the_availability_sync(client_with_scopes):
    client = client_with_scopes("catalog:read")
    shop, item = LocationFactory(), ProductFactory()
    stock(shop, item, 5)
    row = Stock.objects.get(product=item, location=shop)
    stamp(Stock, [row.pk], T0)
    before = client.get("/api/v1/availability/changes/", {"updated_since": T0.isoformat()}).json()
    assert [(r["sku"], r["available"]) for r in before["results"]] == [(item.sku, 5)]

    stock_reserve(lines=[StockLine(item.pk, shop.pk, 2)], cause=Cause("test", "1"))
    after = client.get("/api/v1/availability/changes/", {"cursor": before["cursor"]}).json()

    assert [(r["sku"], r["location"], r["available"]) for r in after["results"]] == [(item.sku, shop.code, 3)]


def test_a_cancelled_order_comes_again_with_its_status(client_with_scopes):
    client = client_with_scopes("orders:read")
    shop, item = LocationFactory(is_pickup_point=True), ProductFactory()
    stock(shop, item, 5)
    order = collect(CustomerFactory(), shop, (item, 1))
    before = client.get("/api/v1/orders/", {"updated_since": T0.isoformat()}).json()
    assert [row["number"] for row in before["results"]] == [order.number]

    order_cancel(order=order, reason="changed my mind")
    after = client.get("/api/v1/orders/", {"cursor": before["cursor"]}).json()

    assert [(row["number"], row["status"]) for row in after["results"]] == [(order.number, "cancelled")]


def test_points_entries_sync_by_when_they_were_written_not_their_date(client_with_scopes):
    client = client_with_scopes("loyalty:read")
    person = CustomerFactory()
    account, _created = loyalty.account_open(customer=person)
    url = f"/api/v1/loyalty/accounts/{person.pk}/entries/"
    first = client.get(url, {"updated_since": (timezone.now() - datetime.timedelta(hours=1)).isoformat()}).json()

    # Dated a day back (as a birthday bonus is dated midnight and written at night), written now.
    entry, _created = loyalty.points_bonus(
        account=account,
        points=100,
        bonus_type="campaign",
        cause=loyalty.Cause("campaign", "MAY"),
        now=timezone.now() - datetime.timedelta(days=1),
    )
    after = client.get(url, {"cursor": first["cursor"]}).json()

    assert [row["id"] for row in after["results"]] == [entry.pk]


def test_an_empty_answer_keeps_the_position(client_with_scopes):
    client = client_with_scopes("catalog:read")
    answer = client.get(PRODUCTS, {"updated_since": T0.isoformat()}).json()

    assert answer["results"] == [] and answer["has_more"] is False
    assert SyncPosition.decode(answer["cursor"]) == SyncPosition(changed_at=T0, pk=0)


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": SyncPosition(T0, -1).encode()},
        {"cursor": "MDAwMS0wMS0wMVQwMDowMDowMHwx"},  # "0001-01-01T00:00:00|1": naive and out of range
        {"updated_since": "yesterday"},
        {"updated_since": "0001-01-01T00:00:00Z"},
        {"updated_since": T0.isoformat(), "cursor": SyncPosition(T0, 1).encode()},
    ],
)
def test_bad_cursors_and_times_are_a_400_naming_the_parameter(client_with_scopes, params):
    client = client_with_scopes("catalog:read")

    response = client.get(PRODUCTS, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["details"]["fields"]) & {"cursor", "updated_since"}


def test_without_sync_parameters_the_list_pages_as_before(client_with_scopes):
    client = client_with_scopes("catalog:read")
    ProductFactory.create_batch(3)

    answer = client.get(PRODUCTS, {"page_size": 2}).json()

    assert set(answer) == {"count", "next", "previous", "results"}
    assert answer["count"] == 3 and len(answer["results"]) == 2


def test_returns_list_pages_and_syncs(client_with_scopes):
    client = client_with_scopes("orders:read")

    pages = client.get("/api/v1/returns/").json()
    changes = client.get("/api/v1/returns/", {"updated_since": T0.isoformat()}).json()

    assert pages["count"] == 0 and changes["results"] == []


def test_a_sync_page_costs_the_same_queries_whatever_its_size(client_with_scopes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_with_scopes("orders:read")
    shop, item = LocationFactory(is_pickup_point=True), ProductFactory()
    stock(shop, item, 20)

    def queries_for_sync() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/orders/", {"updated_since": T0.isoformat()}).status_code == 200
        return len(captured)

    collect(CustomerFactory(), shop, (item, 1))
    queries_for_sync()  # the key's first use is recorded once
    one = queries_for_sync()
    for _n in range(4):
        collect(CustomerFactory(), shop, (item, 1))

    assert queries_for_sync() == one


def test_the_schema_documents_both_answers_and_the_parameters(client_with_scopes):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/orders/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]

    assert {"updated_since", "cursor", "page", "page_size"} <= names
    assert [set(shape["required"]) for shape in component["anyOf"]] == [
        {"count", "results"},
        {"cursor", "next", "has_more", "until", "results"},
    ]
