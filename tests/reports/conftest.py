"""A small shop whose every report figure is computed by hand in ``test_selectors.py``.

Orders are written with the ORM (the services stamp the current time, and the reports need orders
completed on chosen days); each is consistent: totals from the lines, refunds within what was paid,
a return for each returned unit.

March 2026 is the period; 29 January – 28 February the previous one.

| order | channel | fulfilment | status | customer | store | completed | lines (qty/refused/returned) | paid/refunded |
|---|---|---|---|---|---|---|---|---|
| O1 | store | in store | sold | c1 | A | 03-05 | p1 2 | 200 / 0 |
| O2 | site | c&c | collected | c1 | A | 03-11 | p2 4 / 0 / 1 | 200 / 50 |
| O3 | app | delivery | delivered | c2 | W | 03-20 | p1 1; p2 2 / 1 / 0 | 150 / 0 |
| O4 | site | c&c | expired | c3 | B | — | p1 1 | 0 |
| O5 | site | c&c (transfer) | collected | c3 | B | 03-16 | p1 1 | 100 / 0 |
| O6 | store | in store | sold | c2 | B | 02-10 | p2 2 | 100 / 0 |
| O7 | store | in store | sold | c4 | A | 2025-06-01 | p1 1 | 100 / 0 |
| O8 | site | c&c | cancelled after ready | c3 | B | — | p2 1 | 0 |
| O9 | store | in store | sold | — | A | 03-25 | p2 1 | 50 / 0 |

p1 costs 100 (category X), p2 50 (category Y). O1 and O9 were sold by the cashier "anna".
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from inventory.models import Stock, Transfer, TransferLine, TransferStatus
from loyalty.models import Account
from omni.reports.filters import ReportFilters
from omni.reports.summaries import summaries_rebuild
from orders.models import (
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Refund,
    RefundMethod,
    ReturnCondition,
    ReturnLine,
)
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import (
    CategoryFactory,
    EmployeeFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    WarehouseFactory,
)

MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


def at(year, month, day, hour=12, minute=0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


def march(**kwargs) -> ReportFilters:
    return ReportFilters(date_from=MARCH[0], date_to=MARCH[1], **{"churn_days": 180, **kwargs})


def make_order(number, *, channel, fulfilment, status, location, lines, customer=None, created, paid="0", **fields):
    """An order with its lines; the order's money is that of the units not refused."""
    subtotal = sum((product.price * (qty - refused) for product, qty, refused, _returned in lines), Decimal("0"))
    order = Order.objects.create(
        number=number,
        channel=channel,
        fulfilment=fulfilment,
        status=status,
        customer=customer,
        location=location,
        subtotal=subtotal,
        total=subtotal,
        paid=Decimal(paid),
        **fields,
    )
    Order.objects.filter(pk=order.pk).update(created_at=created)
    for product, qty, refused, returned in lines:
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            name=product.name,
            unit_price=product.price,
            quantity=qty,
            subtotal=product.price * qty,
            amount=product.price * qty,
            total=product.price * qty,
            refused_quantity=refused,
            returned_quantity=returned,
        )
    order.refresh_from_db()
    return order


@pytest.fixture(autouse=True)
def no_dashboard_cache(settings):
    """Each test computes the dashboard from its own data (``test_dashboard`` tests the cache)."""
    settings.REPORTS_CACHE_SECONDS = 0


@pytest.fixture
def shop(db):
    store_a = LocationFactory(code="a", name="Store A", city="Moscow")
    store_b = LocationFactory(code="b", name="Store B", city="Kazan")
    warehouse = WarehouseFactory(code="w", name="Warehouse", city="Moscow")
    p1 = ProductFactory(sku="P1", name="Shirt", price=Decimal("100.00"), category=CategoryFactory(code="x", name="X"))
    p2 = ProductFactory(sku="P2", name="Socks", price=Decimal("50.00"), category=CategoryFactory(code="y", name="Y"))
    c1, c2, c3, c4 = (CustomerFactory() for _ in range(4))
    anna = UserFactory(username="anna")
    Account.objects.create(customer=c1, opened_at=at(2026, 1, 1))

    o1 = make_order(
        "S-000001",
        channel="store",
        fulfilment=Fulfilment.IN_STORE,
        status=OrderStatus.SOLD,
        customer=c1,
        location=store_a,
        lines=[(p1, 2, 0, 0)],
        created=at(2026, 3, 5),
        completed_at=at(2026, 3, 5),
        paid="200",
        created_by=anna,
    )
    o2 = make_order(
        "W-000002",
        channel="site",
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        status=OrderStatus.COLLECTED,
        customer=c1,
        location=store_a,
        lines=[(p2, 4, 0, 1)],
        created=at(2026, 3, 9, 10),
        ready_at=at(2026, 3, 10, 10),
        completed_at=at(2026, 3, 11),
        paid="200",
        refunded="50",
    )
    order_return = OrderReturn.objects.create(
        number="R-000001",
        order=o2,
        location=store_a,
        reason="size",
        refund_method=RefundMethod.ORIGINAL,
        amount=Decimal("50"),
        paid_amount=Decimal("50"),
        refund_amount=Decimal("50"),
    )
    OrderReturn.objects.filter(pk=order_return.pk).update(created_at=at(2026, 3, 12))
    ReturnLine.objects.create(
        order_return=order_return,
        order_line=o2.lines.get(),
        quantity=1,
        condition=ReturnCondition.RESELLABLE,
        amount=Decimal("50"),
        paid_amount=Decimal("50"),
    )
    Refund.objects.create(order=o2, order_return=order_return, method="card_online", amount=Decimal("50"))
    o3 = make_order(
        "A-000003",
        channel="app",
        fulfilment=Fulfilment.DELIVERY,
        status=OrderStatus.DELIVERED,
        customer=c2,
        location=warehouse,
        lines=[(p1, 1, 0, 0), (p2, 2, 1, 0)],
        created=at(2026, 3, 18),
        completed_at=at(2026, 3, 20),
        paid="150",
    )
    make_order(
        "W-000004",
        channel="site",
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        status=OrderStatus.EXPIRED,
        customer=c3,
        location=store_b,
        lines=[(p1, 1, 0, 0)],
        created=at(2026, 3, 12, 0),
        ready_at=at(2026, 3, 12, 12),
        expired_at=at(2026, 3, 15),
    )
    o5 = make_order(
        "W-000005",
        channel="site",
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        status=OrderStatus.COLLECTED,
        customer=c3,
        location=store_b,
        lines=[(p1, 1, 0, 0)],
        created=at(2026, 3, 14, 0),
        ready_at=at(2026, 3, 14, 6),
        completed_at=at(2026, 3, 16),
        paid="100",
    )
    delivered = Transfer.objects.create(
        number="TR-1", source=warehouse, destination=store_b, status=TransferStatus.RECEIVED
    )
    OrderAllocation.objects.create(line=o5.lines.get(), location=store_b, quantity=1, transfer=delivered, sold=1)
    make_order(
        "S-000006",
        channel="store",
        fulfilment=Fulfilment.IN_STORE,
        status=OrderStatus.SOLD,
        customer=c2,
        location=store_b,
        lines=[(p2, 2, 0, 0)],
        created=at(2026, 2, 10),
        completed_at=at(2026, 2, 10),
        paid="100",
    )
    make_order(
        "S-000007",
        channel="store",
        fulfilment=Fulfilment.IN_STORE,
        status=OrderStatus.SOLD,
        customer=c4,
        location=store_a,
        lines=[(p1, 1, 0, 0)],
        created=at(2025, 6, 1),
        completed_at=at(2025, 6, 1),
        paid="100",
    )
    make_order(
        "W-000008",
        channel="site",
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        status=OrderStatus.CANCELLED,
        customer=c3,
        location=store_b,
        lines=[(p2, 1, 0, 0)],
        created=at(2026, 3, 19, 20),
        ready_at=at(2026, 3, 20, 8),
        cancelled_at=at(2026, 3, 21),
    )
    make_order(
        "S-000009",
        channel="store",
        fulfilment=Fulfilment.IN_STORE,
        status=OrderStatus.SOLD,
        location=store_a,
        lines=[(p2, 1, 0, 0)],
        created=at(2026, 3, 25),
        completed_at=at(2026, 3, 25),
        paid="50",
        created_by=anna,
    )

    Stock.objects.create(product=p1, location=store_a, on_hand=10, reserved=2)
    Stock.objects.create(product=p2, location=store_a, on_hand=1, reserved=0, min_quantity=5)
    Stock.objects.create(product=p1, location=store_b, on_hand=3, reserved=0, min_quantity=1)
    moving = Transfer.objects.create(
        number="TR-2",
        source=warehouse,
        destination=store_b,
        status=TransferStatus.IN_TRANSIT,
        shipped_at=at(2026, 3, 30),
    )
    TransferLine.objects.create(transfer=moving, product=p2, quantity=3)
    # The rows above were written directly, some dates by queryset updates that no signal sees:
    # sum the report summaries anew, as after any load that bypasses the services.
    summaries_rebuild()

    return SimpleNamespace(
        store_a=store_a,
        store_b=store_b,
        warehouse=warehouse,
        p1=p1,
        p2=p2,
        customers=(c1, c2, c3, c4),
        anna=anna,
        o1=o1,
        o2=o2,
        o3=o3,
    )


@pytest.fixture
def manager_of(db):
    """``manager_of(store)``: a store manager who works at that store only."""

    def make(*stores, role="Store manager", username=None):
        employee = EmployeeFactory(locations=list(stores), **({"user__username": username} if username else {}))
        employee.user.groups.add(Group.objects.get(name=role))
        return employee.user

    return make
