"""What placing an order costs in SQL: the statements of ``POST /api/v1/orders/`` for a
three-line click-and-collect order with points and an Idempotency-Key, counted over the test
client in a transaction of its own (as in production, not inside the test's), up to its commit
(what follows in the test is the notice's delivery, a Celery task run eagerly), with the
statements named so that a change of the budget says which one it is."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Message
from inventory.models import Stock, StockMovement
from inventory.selectors import stock_discrepancies
from loyalty.selectors import points_discrepancies
from omni.core.services import sequence_name
from omni.webhooks.outbox import event_type_wanted
from orders.models import NUMBER_PREFIXES, Order
from tests.orders.factories import customer, points_for, product, stock, store

ORDERS = "/api/v1/orders/"

# Each statement of the request, in order. SQLite takes the stock rows with the ORM: a SELECT
# of the rows, then one UPDATE each, where PostgreSQL has one conditional UPDATE.
STATEMENTS = [  # no authentication query: the key was checked moments before (API_KEY_CACHE_SECONDS)
    "select inventory_location",  # the pickup store named (the view)
    "begin",  # the request's transaction
    "insert omni_idempotencykey",  # the key claimed
    "select inventory_product",  # prices from the catalogue
    "select customers_customer+number",  # the customer found by id and locked, the order's number drawn
    "select loyalty_account, loyalty_programme",  # the account locked, the active programme read with it
    "select loyalty_pointsentry",  # its lots
    # the redemption, its allocations, the order's points and the lots' rest
    "insert loyalty_pointsentry+insert loyalty_allocation+insert loyalty_orderpoints+update loyalty_pointsentry",
    # the order once, with its number and totals, its lines, payments and first status, the
    # timeline entry and the notice (routed, written once for its dedupe key, and audited)
    "insert orders_order+insert orders_orderline+insert orders_payment+insert orders_statuschange"
    "+insert customers_interaction+notice",
    "savepoint",  # rolled back when the store is short, to free its rows' locks; else released by the commit
    "reserve+insert inventory_stockmovement+insert orders_orderallocation",  # the stock rows, as late as possible
    "update omni_idempotencykey",  # the response stored
    "commit",
]


# The notice through the ORM: the customer locked again, the dedupe key looked up, the address.
NOTICE_ON_SQLITE = [
    "select customers_customer",
    "select customers_message",
    "select customers_identity",
    "insert customers_message",
    "insert omni_auditevent",
]


def statement_name(sql: str) -> str:
    sql = sql.strip()
    if sql.startswith("WITH wanted"):  # with the ledger and the allocations, when reserved
        return "+".join(["reserve", *(f"insert {table}" for table in re.findall(r'INSERT INTO "(\w+)"', sql))])
    if re.match(r"WITH route\d+ AS", sql):
        return "notice"
    if sql.startswith("WITH w0 AS"):  # rows written together (omni.core.db.rows_write_together)
        notice = re.search(r" route\d+ AS \(", sql)  # a notice's CTEs (customers.messaging), last
        rows = re.findall(r'(INSERT INTO|UPDATE) "(\w+)"', sql[: notice.start()] if notice else sql)
        return "+".join(
            [*(f"{verb.split()[0].lower()} {table}" for verb, table in rows), *(["notice"] if notice else [])]
        )
    if 'FROM "loyalty_account"' in sql and 'FROM "loyalty_programme"' in sql:
        return "select loyalty_account, loyalty_programme"
    if "nextval" in sql and 'FROM "customers_customer"' in sql:
        return "select customers_customer+number"
    if "nextval" in sql or "omni_numbersequence" in sql:
        return "number"
    if re.match(r"UPDATE \"inventory_stock\"", sql) or re.match(r"SELECT .* FROM \"inventory_stock\"", sql):
        return "reserve"
    verb = sql.split()[0].lower()
    if verb in ("begin", "commit", "savepoint", "release", "rollback"):
        return verb
    table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return f"{verb} {table.group(1) if table else '?'}"


def expected_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return STATEMENTS
    statements = []
    for name in STATEMENTS:  # elsewhere the rows written together are a statement each
        if name == "select loyalty_account, loyalty_programme":  # read after the account
            statements += ["select loyalty_account", "select loyalty_programme"]
        elif name == "select customers_customer+number":  # found, then locked; the number from its table
            statements += ["select customers_customer", "select customers_customer", "number"]
        else:  # the notice through the ORM at once, before the order's rows
            parts = name.split("+")
            statements += [*(NOTICE_ON_SQLITE if "notice" in parts else []), *(p for p in parts if p != "notice")]
    at = statements.index("reserve")  # the rows read, then updated one by one
    return [*statements[:at], "reserve", "reserve", "reserve", "reserve", *statements[at + 1 :]]


@pytest.mark.django_db(transaction=True)
def test_placing_an_order_costs_its_statements_and_one_savepoint(client_with_scopes, programme):
    # given
    writer = client_with_scopes("orders:read", "orders:write")
    writer.get(ORDERS)  # the key checked, and its last use recorded (once a minute), as in a running server
    ContentType.objects.get_for_model(Message)  # cached for the process, as in a running server
    shop = store(code="msk-1", name="Tverskaya", address="Tverskaya 1", opening_hours="10:00-22:00")
    items = [product("1500.00"), product("300.00"), product("700.00")]
    for item in items:
        stock(shop, item, 10)
    person = customer()
    points_for(person, 500)
    body = {
        "channel": "site",
        "fulfilment": "click_and_collect",
        "customer": person.pk,
        "pickup_location": shop.code,
        "lines": [{"sku": item.sku, "quantity": 2} for item in items],
        "points": 200,
    }

    event_type_wanted("order.placed")  # none are: known for a few seconds per process, as when serving

    # when
    with CaptureQueriesContext(connection) as captured:
        response = writer.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="cost-1")

    # then
    assert response.status_code == 201, response.content
    names = [statement_name(query["sql"]) for query in captured.captured_queries]
    names = names[: names.index("commit") + 1]  # then the notice's delivery: a Celery task, run eagerly here
    assert names == expected_statements(connection.vendor)
    assert names.count("savepoint") == 1  # the reservation's, whose rollback frees the store's rows
    assert response.json()["lines"][0]["quantity"] == 2
    assert sorted(Stock.objects.values_list("reserved", flat=True)) == [2, 2, 2]
    assert StockMovement.objects.filter(reason="reservation").count() == 3
    assert stock_discrepancies() == [] and points_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_the_response_is_the_order_as_read_back(client_with_scopes, programme):
    # given
    writer = client_with_scopes("orders:read", "orders:write")
    shop = store(code="msk-1", name="Tverskaya", address="Tverskaya 1", opening_hours="10:00-22:00")
    items = [product("1500.00"), product("300.00")]
    for item in items:
        stock(shop, item, 10)
    person = customer()
    points_for(person, 500)
    body = {
        "channel": "site",
        "fulfilment": "click_and_collect",
        "customer": person.pk,
        "pickup_location": shop.code,
        "lines": [{"sku": item.sku, "quantity": 1} for item in items],
        "points": 100,
        "payments": [{"method": "card_online"}],
    }

    # when
    placed = writer.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="as-written")

    # then
    assert placed.status_code == 201, placed.content
    read = writer.get(f"{ORDERS}{Order.objects.get().number}/")
    assert placed.json() == read.json()


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_channel_s_order_numbers_have_their_sequence():
    # Placing draws a number with a bare nextval: a channel without its sequence would fail.
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S'")
        sequences = {row[0] for row in cursor.fetchall()}
    assert {sequence_name(f"order:{prefix}") for prefix in NUMBER_PREFIXES.values()} <= sequences


def order_placer(writer):
    """Places three-line click-and-collect orders with points, each of the same shape."""
    shop = store(code="msk-1", name="Tverskaya", address="Tverskaya 1", opening_hours="10:00-22:00")
    items = [product("1500.00"), product("300.00"), product("700.00")]
    for item in items:
        stock(shop, item, 10)

    def place(person, key):
        body = {
            "channel": "site",
            "fulfilment": "click_and_collect",
            "customer": person.pk,
            "pickup_location": shop.code,
            "lines": [{"sku": item.sku, "quantity": 1} for item in items],
            "points": 100,
        }
        assert writer.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201

    return place


def prepared_statements() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_next_order_runs_the_statements_the_first_one_prepared(client_with_scopes, programme):
    # given an order placed on this connection
    place = order_placer(client_with_scopes("orders:read", "orders:write"))
    first, second = customer(), customer()
    for person in (first, second):
        points_for(person, 500)
    place(first, "first")
    before = prepared_statements()

    # when another customer's order of the same shape follows
    place(second, "second")

    # then PostgreSQL planned none of Omni's own statements again: the same texts ran once more
    after = prepared_statements()
    assert after.keys() == before.keys()
    ran_again = sorted(statement_name(sql) for sql in after if after[sql] == before[sql] + 1)
    assert ran_again == [
        "insert loyalty_pointsentry+insert loyalty_allocation+insert loyalty_orderpoints+update loyalty_pointsentry",
        "insert omni_idempotencykey",
        "insert orders_order+insert orders_orderline+insert orders_payment+insert orders_statuschange"
        "+insert customers_interaction+notice",
        "reserve+insert inventory_stockmovement+insert orders_orderallocation",
        "select customers_customer+number",
        "select inventory_location",
        "select inventory_product",
        "select loyalty_account, loyalty_programme",
        "select loyalty_pointsentry",
        "update omni_idempotencykey",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_behind_a_transaction_pooler_nothing_is_prepared(client_with_scopes, programme, settings):
    # given PgBouncer in transaction mode, where a prepared statement stays in one server session
    settings.DB_TRANSACTION_POOLER = True
    place = order_placer(client_with_scopes("orders:read", "orders:write"))
    person = customer()
    points_for(person, 500)
    before = prepared_statements()

    # when
    place(person, "pooled")

    # then no statement was prepared, nor run as prepared
    assert prepared_statements() == before
