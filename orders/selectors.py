"""Reads of orders and returns that several callers (API, admin, tasks) need.

The ``*_for_display`` selectors fetch what a list or a page shows for all its rows at once, so a
page costs the same number of queries whatever its length.
"""

import datetime
import re

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from customers.selectors import customer_search
from inventory.selectors import filter_for_user_locations
from orders.models import (
    COMPLETED_STATUSES,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Payment,
    Refund,
    ReturnLine,
    StatusChange,
)


def orders_for_display(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Orders with their customer, location, lines and payments: four queries for any page."""
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.select_related("customer", "location").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("payments", queryset=Payment.objects.order_by("id")),
    )


def order_for_display(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """One order with everything its page shows: history, allocations, refunds and returns too."""
    return orders_for_display(queryset).prefetch_related(
        Prefetch("history", queryset=StatusChange.objects.order_by("created_at", "id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("id")),
        Prefetch(
            "lines__allocations",
            queryset=OrderAllocation.objects.select_related("location", "transfer").order_by("id"),
        ),
        Prefetch("returns", queryset=OrderReturn.objects.select_related("location").order_by("created_at", "id")),
    )


def returns_for_display(queryset: QuerySet[OrderReturn] | None = None) -> QuerySet[OrderReturn]:
    queryset = OrderReturn.objects.all() if queryset is None else queryset
    return queryset.select_related("order", "location").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("id")),
    )


def orders_for_user(user, queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """The orders a staff member may see: store staff those of their own locations."""
    return filter_for_user_locations(Order.objects.all() if queryset is None else queryset, user, ["location"])


def returns_for_user(user, queryset: QuerySet[OrderReturn] | None = None) -> QuerySet[OrderReturn]:
    """Returns a staff member may see: those received at, or of orders of, their locations."""
    queryset = OrderReturn.objects.all() if queryset is None else queryset
    return filter_for_user_locations(queryset, user, ["location", "order__location"]).distinct()


def refunds_for_user(user, queryset: QuerySet[Refund] | None = None) -> QuerySet[Refund]:
    """Refunds a staff member may see: those of orders of, or returns received at, their locations."""
    queryset = Refund.objects.all() if queryset is None else queryset
    return filter_for_user_locations(queryset, user, ["order__location", "order_return__location"]).distinct()


def refunds_for_display(queryset: QuerySet[Refund] | None = None) -> QuerySet[Refund]:
    """Refunds with their order and return: one query for any page."""
    queryset = Refund.objects.all() if queryset is None else queryset
    return queryset.select_related("order", "order_return")


# --- The click-and-collect desk -------------------------------------------------------------


def desk_orders(location_ids, *, now: datetime.datetime | None = None) -> dict[str, QuerySet[Order]]:
    """Click-and-collect orders of these stores: to prepare, awaiting a transfer, awaiting a
    decision on goods that could not be found, ready, and expiring within the reminder period."""
    now = now or timezone.now()
    orders = orders_for_display(Order.objects.filter(fulfilment=Fulfilment.CLICK_AND_COLLECT))
    if location_ids is not None:
        orders = orders.filter(location_id__in=location_ids)
    soon = now + datetime.timedelta(days=settings.ORDERS_PICKUP_REMINDER_DAYS)
    ready = orders.filter(status=OrderStatus.READY_FOR_PICKUP)
    return {
        "to_prepare": orders.filter(status=OrderStatus.PLACED).order_by("created_at", "id"),
        "awaiting_transfer": orders.filter(status=OrderStatus.AWAITING_TRANSFER).order_by("created_at", "id"),
        "awaiting_decision": orders.filter(status=OrderStatus.AWAITING_DECISION).order_by("pickup_until", "id"),
        "ready": ready.filter(pickup_until__gt=soon).order_by("pickup_until", "id"),
        "expiring": ready.filter(pickup_until__lte=soon).order_by("pickup_until", "id"),
    }


def orders_to_expire(now: datetime.datetime) -> QuerySet[Order]:
    """Orders kept at the store past their date: ready for pickup, or awaiting a decision on goods
    that could not be found."""
    return Order.objects.filter(
        status__in=[OrderStatus.READY_FOR_PICKUP, OrderStatus.AWAITING_DECISION], pickup_until__lte=now
    ).order_by("pickup_until")


def orders_to_remind(now: datetime.datetime) -> QuerySet[Order]:
    soon = now + datetime.timedelta(days=settings.ORDERS_PICKUP_REMINDER_DAYS)
    return Order.objects.filter(
        status=OrderStatus.READY_FOR_PICKUP, reminded_at__isnull=True, pickup_until__lte=soon, pickup_until__gt=now
    ).order_by("pickup_until")


def returnable_orders(query: str) -> QuerySet[Order]:
    """Completed orders found by their number (or its last digits, as on a receipt), or by their
    customer's phone, card or name, or the last 4+ digits of the phone or card (the return desk:
    any order of any channel can be returned at any store)."""
    text = query.strip()
    orders = Order.objects.filter(status__in=COMPLETED_STATUSES)
    if not text:
        return orders.none()
    condition = Q(number__iexact=text)
    if text.isdigit() and len(text) >= 3:
        condition |= Q(number__endswith=text)
    condition |= Q(customer__in=_customers(text))
    return orders_for_display(orders.filter(condition)).order_by("-completed_at", "-id")


# What a cashier types for the end of a phone or a card: "100-00-02", "0002".
_TAIL_OF_DIGITS = re.compile(r"^[\d\s()+-]+$")


def _customers(text: str):
    from customers.models import Customer, Identity, IdentityKind

    condition = customer_search(text)
    digits = re.sub(r"\D", "", text)
    if _TAIL_OF_DIGITS.match(text) and 4 <= len(digits) < 10:
        tails = Identity.objects.filter(kind__in=[IdentityKind.PHONE, IdentityKind.CARD], value__endswith=digits)
        condition |= Q(pk__in=tails.values("customer_id"))
    return Customer.objects.filter(condition).values("pk")
