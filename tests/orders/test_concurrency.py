"""Orders stay right when many requests race. PostgreSQL only: SQLite serialises writers.

Every thread closes its own connection. The server allows 100 connections shared with other test
runs, so races of 100 requests let at most ``MAX_CONNECTIONS`` of them hold a connection at once
(as a pool in front of the database would): all threads are released together by one barrier and
queue for a connection, so every request genuinely competes with the others for the same rows.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from inventory.errors import InsufficientStock
from inventory.models import MovementReason, Stock, StockMovement
from inventory.selectors import stock_discrepancies
from loyalty.selectors import points_discrepancies
from orders import services
from orders.errors import InvalidTransition, ReturnExceedsPurchase
from orders.models import Order, OrderReturn, OrderStatus
from orders.services import ReturnLineInput
from tests.orders.factories import cash, collect, customer, points_for, product, stock, store

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MAX_CONNECTIONS = 25


def race(count: int, action) -> list:
    """Run ``action(i)`` for ``count`` requests released at the same instant; return the outcomes."""
    barrier = threading.Barrier(count)
    slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def run(i):
        barrier.wait()
        with slots:
            try:
                return action(i)
            except Exception as exc:  # the outcome under test, refusals included
                return exc
            finally:
                connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_a_hundred_orders_for_the_last_ten_units():
    # given
    shop, shirt = store(), product("1000.00")
    stock(shop, shirt, 10)
    people = [customer() for _ in range(100)]
    for person in people[:20]:
        points_for(person, 100)

    # when: a hundred customers order one each (some spending points) at the same moment
    outcomes = race(100, lambda i: collect(people[i], shop, (shirt, 1), points=100 if i < 20 else 0).number)

    # then
    placed = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert len(placed) == 10, [o for o in outcomes if not isinstance(o, (str, InsufficientStock))]
    assert len(refused) == 90
    assert all(error.details["skus"] == [shirt.sku] for error in refused)
    assert Order.objects.count() == 10
    row = Stock.objects.get(location=shop, product=shirt)
    assert (row.on_hand, row.reserved) == (10, 10)
    assert StockMovement.objects.filter(reason=MovementReason.RESERVATION).count() == 10
    assert stock_discrepancies() == []
    assert points_discrepancies() == []


def test_cancel_and_handover_racing_cannot_both_apply():
    shop, shirt = store(), product("1000.00")
    stock(shop, shirt, 5)
    order = collect(customer(), shop, (shirt, 2))
    services.order_mark_ready(order=order)

    def act(i):
        if i % 2:
            return services.order_cancel(order=order).status
        return services.order_hand_over(order=order, payments=cash()).status

    outcomes = race(8, act)

    done = [o for o in outcomes if isinstance(o, str)]
    assert len(done) == 1, outcomes
    assert all(isinstance(o, InvalidTransition) for o in outcomes if not isinstance(o, str))
    order.refresh_from_db()
    row = Stock.objects.get(location=shop, product=shirt)
    if order.status == OrderStatus.CANCELLED:
        assert (row.on_hand, row.reserved) == (5, 0)
    else:
        assert (order.status, row.on_hand, row.reserved) == (OrderStatus.COLLECTED, 3, 0)
    assert stock_discrepancies() == []


def test_racing_returns_never_exceed_what_was_bought():
    shop, other, shirt = store(), store(), product("1000.00")
    stock(shop, shirt, 5)
    order = collect(customer(), shop, (shirt, 3))
    services.order_mark_ready(order=order)
    services.order_hand_over(order=order, payments=cash())

    outcomes = race(
        10,
        lambda i: (
            services.return_accept(
                order=order, location=other, lines=[ReturnLineInput(shirt.sku, 1)], reason="Race"
            ).number
        ),
    )

    assert sum(isinstance(o, str) for o in outcomes) == 3
    assert all(isinstance(o, ReturnExceedsPurchase) for o in outcomes if not isinstance(o, str)), outcomes
    order.refresh_from_db()
    assert OrderReturn.objects.count() == 3
    assert order.refunded == order.paid
    assert order.lines.get().returned_quantity == 3
    assert Stock.objects.get(location=other, product=shirt).on_hand == 3
    assert stock_discrepancies() == []


def test_pickups_at_a_short_store_racing_deliveries_from_it_end_in_orders_or_refusals():
    # given: a store that ships, short of socks, and a warehouse with plenty; the click-and-collect
    # orders must fetch the socks from the warehouse while deliveries lock the same rows
    from tests.orders.factories import deliver, warehouse

    depot = warehouse(code="b-depot", ships_orders=True)  # first: its rows sort before the store's
    shop = store(code="a-shop", ships_orders=True)
    shirt, socks = product("1000.00"), product("100.00")
    stock(shop, shirt, 40)
    stock(shop, socks, 1)
    stock(depot, shirt, 40)
    stock(depot, socks, 40)
    people = [customer() for _ in range(30)]

    # when
    def order(i):
        if i % 2:
            return deliver(people[i], (shirt, 1), (socks, 1)).number
        return collect(people[i], shop, (shirt, 1), (socks, 2)).number

    outcomes = race(30, order)

    # then: every one placed or refused for stock, none failed (a deadlock would be an error here)
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert all(isinstance(error, InsufficientStock) for error in errors), errors
    assert Order.objects.count() == 30 - len(errors)
    assert stock_discrepancies() == []
