"""generate_load_data with tiny N: the shape is there and what it writes is consistent."""

import datetime
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Interaction, InteractionKind
from customers.timeline_events import event_summary
from inventory.selectors import stock_discrepancies
from loyalty.models import Account, Allocation, EntryKind, OrderPoints, PointsEntry
from loyalty.selectors import points_discrepancies
from loyalty.services import programme_current
from omni.reports import selectors
from omni.reports.filters import ReportFilters, default_period
from orders import states
from orders.models import (
    COMPLETED_STATUSES,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Payment,
    PaymentMethod,
    Refund,
    ReturnLine,
    StatusChange,
)

pytestmark = pytest.mark.django_db


def generate(**options):
    err = StringIO()
    call_command(
        "generate_load_data",
        customers=options.get("customers", 60),
        orders=options.get("orders", 400),
        products=30,
        stores=3,
        days=options.get("days", 60),
        stdout=StringIO(),
        stderr=err,
    )
    return err.getvalue()


def test_generates_a_consistent_shop_with_a_progress_bar():
    progress = generate()

    assert "orders" in progress and "100 %" in progress
    # the progress line counts the rows of the tables written with the orders
    assert "status history" in progress and "interactions" in progress and "points ledger" in progress
    assert Order.objects.count() == 400
    assert set(Order.objects.values_list("channel", flat=True)) >= {"store", "site", "app"}
    assert set(Order.objects.values_list("fulfilment", flat=True)) == {"in_store", "click_and_collect", "delivery"}
    assert OrderReturn.objects.exists() and Account.objects.exists() and PointsEntry.objects.exists()
    # the stock ledger sums to the stock rows
    assert stock_discrepancies() == []
    # every order's money comes from its lines and the points spent; refunds within what was paid
    for order in Order.objects.prefetch_related("lines", "payments"):
        lines = order.lines.all()
        kept = sum(line.unit_price * (line.quantity - line.refused_quantity) for line in lines)
        assert order.subtotal == kept
        assert order.total == order.subtotal - order.discount - order.points_value
        assert order.points_redeemed == sum(line.points for line in lines)
        assert order.points_value == sum(line.points_value for line in lines)
        for line in lines:
            assert line.total == line.amount - line.points_value
        # the lines show what was kept: they sum to the order
        assert order.subtotal == sum(line.subtotal for line in lines)
        assert order.total == sum(line.total for line in lines)
        assert order.refunded <= order.paid
        money_paid = sum(p.amount for p in order.payments.all() if p.method != PaymentMethod.POINTS)
        assert money_paid == order.paid
        if order.status in COMPLETED_STATUSES:
            assert order.paid == order.total and order.completed_at is not None
    returned = OrderLine.objects.aggregate(n=Sum("returned_quantity"))["n"]
    assert returned == ReturnLine.objects.aggregate(n=Sum("quantity"))["n"]
    assert Refund.objects.aggregate(s=Sum("amount"))["s"] == Order.objects.aggregate(s=Sum("refunded"))["s"]
    assert not OrderLine.objects.filter(refused_quantity__gt=F("quantity") - F("returned_quantity")).exists()
    # points: the balances are the sum of the ledger
    assert points_discrepancies() == []


def test_runs_twice_and_the_dashboard_reads_it():
    generate(orders=100)
    generate(orders=100)

    assert Order.objects.count() == 200
    assert stock_discrepancies() == []
    assert points_discrepancies() == []
    # the load bypasses the services: the command sums the report summaries anew itself
    date_from, date_to = default_period()
    sections = selectors.dashboard(ReportFilters(date_from=date_from, date_to=date_to))
    revenue = sections["sales"]["figures"][0]
    assert revenue.value > 0


# --- The whole shape on a small shop: 50 customers, 200 orders -----------------------------


@pytest.fixture
def shop():
    generate(customers=50, orders=200, days=120)


def legal(fulfilment: str, status_from: str, status_to: str) -> bool:
    return any(
        moves.get(status_from) == status_to
        for (kind, _action), moves in states.TRANSITIONS.items()
        if kind == fulfilment
    )


@pytest.mark.usefixtures("shop")
def test_each_order_has_a_legal_status_history_ending_in_its_status():
    history = defaultdict(list)
    for change in StatusChange.objects.order_by("created_at", "id"):
        history[change.order_id].append(change)
    orders = list(Order.objects.all())
    assert {order.status for order in orders} >= {
        OrderStatus.SOLD,
        OrderStatus.COLLECTED,
        OrderStatus.DELIVERED,
        OrderStatus.CANCELLED,
    }
    assert StatusChange.objects.filter(status_to=OrderStatus.AWAITING_TRANSFER).exists()
    for order in orders:
        steps = history[order.pk]
        assert steps, order.number
        first, last = steps[0], steps[-1]
        assert (first.status_from, first.status_to) == ("", states.INITIAL[order.fulfilment])
        assert first.created_at == order.created_at
        for before, after in zip(steps, steps[1:], strict=False):
            assert after.status_from == before.status_to, order.number
            assert legal(order.fulfilment, after.status_from, after.status_to), (order.number, after)
            assert after.created_at >= before.created_at
        assert last.status_to == order.status
        # the order's dates are those of its steps
        at = {step.status_to: step.created_at for step in steps}
        assert order.ready_at == at.get(OrderStatus.READY_FOR_PICKUP)
        assert order.packed_at == at.get(OrderStatus.PACKED)
        assert order.shipped_at == at.get(OrderStatus.SHIPPED)
        assert order.cancelled_at == at.get(OrderStatus.CANCELLED)
        assert order.expired_at == at.get(OrderStatus.EXPIRED)
        if order.status in COMPLETED_STATUSES:
            assert order.completed_at == last.created_at
        else:
            assert order.completed_at is None
        if order.expired_at is not None:
            assert order.expired_at >= order.pickup_until
        for returned in order.returns.all():
            assert returned.created_at > order.completed_at


@pytest.mark.usefixtures("shop")
def test_the_timeline_has_the_services_entries_for_orders_and_returns():
    entries = defaultdict(list)
    for entry in Interaction.objects.filter(subject_type="order"):
        entries[entry.subject_id].append(entry)
    completed = Order.objects.filter(customer__isnull=False, status__in=COMPLETED_STATUSES).prefetch_related("lines")
    assert completed.count() > 20
    for order in completed:
        done = [
            e for e in entries[order.number] if e.kind == InteractionKind.ORDER and e.occurred_at == order.completed_at
        ]
        assert len(done) == 1, order.number
        items = sum(line.quantity - line.refused_quantity for line in order.lines.all())
        assert (done[0].event, done[0].params) == (
            "order.completed",
            {
                "number": order.number,
                "status": order.status,
                "items": items,
                "total": str(order.total + order.points_value),
            },
        )
        assert done[0].summary == event_summary(done[0].event, done[0].params)
        assert done[0].customer_id == order.customer_id and done[0].location_id == order.location_id
        assert done[0].channel == order.channel and done[0].direction == "inbound"
    for order in Order.objects.exclude(fulfilment="in_store").prefetch_related("lines"):
        placed = [e for e in entries[order.number] if e.occurred_at == order.created_at]
        total = sum(line.total + line.refused_total for line in order.lines.all())  # as ordered
        assert [(e.event, e.params) for e in placed] == [
            ("order.placed", {"number": order.number, "total": str(total)})
        ]
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED)
    for order in cancelled:
        assert [(e.event, e.params) for e in entries[order.number] if e.occurred_at == order.cancelled_at] == [
            ("order.cancelled", {"number": order.number})
        ]
    returns = OrderReturn.objects.filter(order__customer__isnull=False).select_related("order")
    assert returns.exists()
    for order_return in returns:
        found = [e for e in entries[order_return.order.number] if e.kind == InteractionKind.RETURN]
        assert len(found) == 1
        assert (found[0].event, found[0].params) == (
            "return.accepted",
            {
                "number": order_return.number,
                "order": order_return.order.number,
                "items": 1,
                "refund": str(order_return.refund_amount),
            },
        )
        assert found[0].occurred_at == order_return.created_at and found[0].location_id == order_return.location_id
    # anonymous sales in a store have no timeline
    anonymous = Order.objects.filter(customer__isnull=True).values_list("number", flat=True)
    assert anonymous and not any(entries[number] for number in anonymous)


@pytest.mark.usefixtures("shop")
def test_some_orders_pay_with_points_spent_first_in_first_out():
    redeemed = list(Order.objects.filter(points_redeemed__gt=0).prefetch_related("payments"))
    assert len(redeemed) >= 5
    for order in redeemed:
        entry = PointsEntry.objects.get(key=f"redeem:{order.number}")
        assert entry.kind == EntryKind.REDEEM and -entry.points == order.points_redeemed
        assert entry.created_at == order.created_at
        assert entry.amount == order.points_value
        order_points = OrderPoints.objects.get(reference=order.number)
        assert order_points.redemption_id == entry.pk and order_points.points_redeemed == order.points_redeemed
        points_payment = [p for p in order.payments.all() if p.method == PaymentMethod.POINTS]
        assert [p.amount for p in points_payment] == [order.points_value]
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert points_payment[0].refunded == order.points_value
            assert order_points.points_redeemed_returned == order.points_redeemed

    # Replay every account's ledger in time order: each redemption took exactly the first-in
    # first-out lots available at its moment, and no lot is ever overdrawn.
    allocations = defaultdict(list)
    for allocation in Allocation.objects.order_by("id"):
        allocations[allocation.consumer_id].append((allocation.lot_id, allocation.points))
    by_account = defaultdict(list)
    for entry in PointsEntry.objects.order_by("created_at", "id"):
        by_account[entry.account_id].append(entry)
    kinds = set()
    for entries in by_account.values():
        lots, left = {}, {}
        for entry in entries:
            kinds.add(entry.kind)
            if entry.points > 0:
                lots[entry.pk], left[entry.pk] = entry, entry.points
                continue
            taken = allocations[entry.pk]
            assert sum(points for _lot, points in taken) == -entry.points
            if entry.kind == EntryKind.REDEEM:
                now = entry.created_at
                open_lots = sorted(
                    (lot for pk, lot in lots.items() if left[pk] > 0 and lot.spendable_from <= now < lot.expires_at),
                    key=lambda lot: (lot.spendable_from, lot.expires_at, lot.pk),
                )
                expected, need = [], -entry.points
                for lot in open_lots:
                    if need == 0:
                        break
                    take = min(left[lot.pk], need)
                    expected.append((lot.pk, take))
                    need -= take
                assert taken == expected
            if entry.kind == EntryKind.EXPIRY:
                assert all(lots[pk].expires_at <= entry.created_at for pk, _points in taken)
            for pk, points in taken:
                left[pk] -= points
                assert left[pk] >= 0
        for pk, lot in lots.items():
            assert lot.remaining == left[pk]
    assert {EntryKind.EARN, EntryKind.REDEEM, EntryKind.REVERSAL} <= kinds


@pytest.mark.usefixtures("shop")
def test_the_ledger_checkers_find_nothing_wrong():
    out = StringIO()
    call_command("check_points", stdout=out)
    call_command("check_stock", stdout=out)
    assert "match its ledger" in out.getvalue() and "Stock matches the ledger" in out.getvalue()


def test_expired_points_are_expired_nightly_and_returns_take_back_points():
    generate(customers=30, orders=600, days=800)

    expiries = PointsEntry.objects.filter(kind=EntryKind.EXPIRY)
    assert expiries.exists()
    for entry in expiries:
        run = timezone.localtime(entry.created_at)
        assert entry.cause_type == "expiry" and entry.cause_id == run.date().isoformat()
        assert run.time() == datetime.time(0, 20)
    # what the nightly batch would have expired by last night is expired
    last_night = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 20)))
    assert not PointsEntry.objects.filter(remaining__gt=0, spendable_from__lte=last_night, expires_at__lte=last_night)
    reversals = PointsEntry.objects.filter(kind=EntryKind.REVERSAL, points__lt=0, cause_type="return")
    assert reversals.exists()
    assert points_discrepancies() == []


def test_members_join_with_the_welcome_bonus_and_spend_it():
    programme = programme_current()
    programme.welcome_bonus = 300
    programme.save()

    generate(customers=40, orders=300)

    bonuses = PointsEntry.objects.filter(kind=EntryKind.BONUS, bonus_type="welcome")
    assert bonuses.count() == Account.objects.count() > 0
    assert Allocation.objects.filter(lot__in=bonuses, consumer__kind=EntryKind.REDEEM).exists()
    joined = Interaction.objects.filter(kind=InteractionKind.POINTS_CHANGE, subject_type="loyalty_account")
    assert joined.count() == Account.objects.count()
    assert set(joined.values_list("summary", flat=True)) == {
        _("Joined the loyalty programme with a welcome bonus of %(points)d points.") % {"points": 300}
    }
    assert points_discrepancies() == []


class Rollback(Exception):
    pass


def snapshot():
    return (
        list(Order.objects.order_by("id").values_list("number", "status", "total", "points_redeemed", "created_at")),
        list(
            StatusChange.objects.order_by("created_at", "order_id", "id").values_list(
                "order__number", "status_from", "status_to", "created_at"
            )
        ),
        list(Interaction.objects.order_by("occurred_at", "subject_id", "id").values_list("subject_id", "summary")),
        list(PointsEntry.objects.order_by("id").values_list("id", "kind", "points", "remaining", "created_at")),
        list(Payment.objects.order_by("id").values_list("order__number", "method", "amount", "refunded")),
    )


def test_the_same_seed_gives_the_same_data():
    runs = []
    for _run in range(2):
        try:
            with transaction.atomic():
                generate(customers=40, orders=150)
                runs.append(snapshot())
                raise Rollback
        except Rollback:
            pass
    assert runs[0] == runs[1]
    assert runs[0][0] and runs[0][1] and runs[0][2] and runs[0][3]
