"""Reads of orders and returns that several callers (API, admin, tasks) need.

The ``*_for_display`` selectors fetch what a list or a page shows for all its rows at once, so a
page costs the same number of queries whatever its length.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from customers.identities import identity_label
from customers.models import Customer, Identity, IdentityKind
from customers.selectors import customer_search, open_cases
from inventory.models import Product
from inventory.selectors import filter_for_user_locations, products_by_code
from loyalty import selectors as loyalty_selectors
from omni.core.validators import is_identifier_text
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


DESK_SECTIONS = ("to_prepare", "awaiting_transfer", "awaiting_decision", "ready", "expiring", "with_courier")


def desk_orders(location_ids, *, query: str = "", now: datetime.datetime | None = None) -> dict[str, list[Order]]:
    """Orders of these stores at the pickup desk: click-and-collect to prepare, awaiting a transfer,
    awaiting a decision on goods that could not be found, ready, expiring within the reminder
    period; and deliveries out with the courier (recorded when the courier is back). ``query``
    narrows every section (``desk_search``). Three queries (orders, lines, customers' phones) for
    any length; ``order.customer.phones`` lists the customer's phones."""
    now = now or timezone.now()
    soon = now + datetime.timedelta(days=settings.ORDERS_PICKUP_REMINDER_DAYS)
    collect = Q(fulfilment=Fulfilment.CLICK_AND_COLLECT) & Q(
        status__in=[
            OrderStatus.PLACED,
            OrderStatus.AWAITING_TRANSFER,
            OrderStatus.AWAITING_DECISION,
            OrderStatus.READY_FOR_PICKUP,
        ]
    )
    orders = Order.objects.filter(collect | Q(fulfilment=Fulfilment.DELIVERY, status=OrderStatus.SHIPPED))
    if location_ids is not None:
        orders = orders.filter(location_id__in=location_ids)
    if query.strip():
        orders = orders.filter(desk_search(query))
    orders = orders.select_related("customer", "location").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")), _customer_phones()
    )
    sections = {key: [] for key in DESK_SECTIONS}
    for order in orders.order_by("id"):
        sections[_desk_section(order, soon)].append(order)
    far = now + datetime.timedelta(days=36500)
    for key in ("awaiting_decision", "ready", "expiring"):
        sections[key].sort(key=lambda order: order.pickup_until or far)
    sections["with_courier"].sort(key=lambda order: order.shipped_at or far)
    return sections


def _customer_phones() -> Prefetch:
    from customers.models import IdentityKind

    return Prefetch(
        "customer__identities",
        queryset=Identity.objects.filter(kind=IdentityKind.PHONE).order_by("id"),
        to_attr="phones",
    )


def _desk_section(order: Order, soon: datetime.datetime) -> str:
    if order.fulfilment == Fulfilment.DELIVERY:
        return "with_courier"
    if order.status == OrderStatus.READY_FOR_PICKUP:
        return "expiring" if order.pickup_until and order.pickup_until <= soon else "ready"
    return {
        OrderStatus.PLACED: "to_prepare",
        OrderStatus.AWAITING_TRANSFER: "awaiting_transfer",
        OrderStatus.AWAITING_DECISION: "awaiting_decision",
    }[order.status]


# Digits typed at the desk that are enough to look for the end of a phone or a card number.
MIN_TAIL_DIGITS = 4


def desk_search(query: str) -> Q:
    """Orders found by what a cashier types: (part of) the order number, the customer's phone,
    card or name, the last 4+ digits of a phone or card, or the contact name or phone."""
    text = query.strip()[:100]
    if not text:
        return Q()
    condition = Q(number__icontains=text) | Q(contact_name__icontains=text) | Q(contact_phone__icontains=text)
    condition |= Q(customer__in=_customers(text))
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= MIN_TAIL_DIGITS and not any(ch.isalpha() for ch in text):
        condition |= Q(contact_phone__endswith=digits)  # a guest's contact phone, typed at checkout
    return condition


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


def _customers(text: str):
    """Customers by any identity, a name, or the last 4+ digits of a phone or card (an index answers
    the last: ``customers.selectors.customer_search``)."""
    return Customer.objects.filter(customer_search(text)).values("pk")


# --- What every store desk shows --------------------------------------------------------------


def product_by_code(code: str) -> Product | None:
    """The active product a scanned or typed code names: its SKU or a barcode, exactly, else its
    SKU in any letter case (cashiers type ``bag-0307-l`` for ``BAG-0307-L``)."""
    code = code.strip()
    product = products_by_code([code]).get(code)
    if product is None and code and is_identifier_text(code):
        product = Product.objects.filter(sku__iexact=code).order_by("pk").first()
    return product if product is not None and product.is_active else None


def desk_products(query: str, location_ids, *, limit: int = 12) -> list[Product]:
    """Active products a desk search names (name words, the start of a SKU, or a code), each with
    ``available_here``: what the given locations (None: every location) have available."""
    text = query.strip()
    if len(text) < 2 or not is_identifier_text(text):
        return []
    condition = Q(sku__istartswith=text) | Q(barcodes__code=text)
    words = text.split()
    if words:
        name = Q()
        for word in words[:4]:
            name &= Q(name__icontains=word)
        condition |= name
    here = Q() if location_ids is None else Q(stock__location_id__in=list(location_ids))
    available = Sum(F("stock__on_hand") - F("stock__reserved"), filter=here, default=0)
    return list(
        Product.objects.filter(condition, is_active=True)
        .distinct()
        .annotate(available_here=available)
        .order_by("name", "sku")[:limit]
    )


def desk_customers(query: str, *, limit: int = 8) -> list[Customer]:
    """Customers a desk search names (any identity, a name, or the last digits of a phone or card)."""
    text = query.strip()
    if len(text) < 2:
        return []
    return list(
        Customer.objects.active()
        .filter(customer_search(text))
        .prefetch_related("identities")
        .order_by("last_name", "first_name", "pk")[:limit]
    )


@dataclass(frozen=True)
class CustomerPanel:
    """Who is at the counter: what every desk shows beside its work."""

    customer: Customer
    phone: str
    email: str
    card: str
    tier: str
    points_available: int
    points_pending: int
    next_expiry_points: int
    next_expiry_date: datetime.date | None
    open_orders: list[Order]
    open_cases: int


def customer_panel(customer: Customer | None) -> CustomerPanel | None:
    if customer is None:
        return None
    identities = {identity.kind: identity.value for identity in customer.identities.order_by("-pk")}
    account = loyalty_selectors.account_of(customer)
    balance = loyalty_selectors.balance(account) if account is not None else loyalty_selectors.Balance()
    card = loyalty_selectors.primary_card(account) if account is not None else None
    open_orders = list(
        Order.objects.filter(customer=customer)
        .exclude(status__in=(*COMPLETED_STATUSES, OrderStatus.CANCELLED, OrderStatus.EXPIRED))
        .select_related("location")
        .order_by("-created_at", "-pk")[:5]
    )
    return CustomerPanel(
        customer=customer,
        phone=identity_label(IdentityKind.PHONE, identities.get(IdentityKind.PHONE, "")),
        email=identities.get(IdentityKind.EMAIL, ""),
        card=card.number if card is not None else identities.get(IdentityKind.CARD, ""),
        tier=account.tier.name if account is not None and account.tier_id else "",
        points_available=balance.available,
        points_pending=balance.pending,
        next_expiry_points=balance.next_expiry_points,
        next_expiry_date=balance.next_expiry_date,
        open_orders=open_orders,
        open_cases=open_cases(customer).count(),
    )
