"""Segment conditions about purchases (registered in ``OrdersConfig.ready``).

A purchase is a completed order (collected, delivered or sold in a store); its date is when it was
completed; what was spent on it is what was paid in money less what was refunded. Each condition
is one subquery, whatever the number of customers.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, Max, OuterRef, Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.segments import register_segment_condition
from inventory.models import Category
from inventory.selectors import category_subtree_ids
from omni.core.channels import SALES_CHANNEL_CHOICES
from orders.models import COMPLETED_STATUSES, Order, OrderLine


def _purchases(date_from=None, date_to=None):
    orders = Order.objects.filter(status__in=COMPLETED_STATUSES, customer__isnull=False)
    if date_from:
        orders = orders.filter(completed_at__date__gte=date_from)
    if date_to:
        orders = orders.filter(completed_at__date__lte=date_to)
    return orders


def parse_amount(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(gettext("Enter an amount, for example 5000 or 4999.90."))
    if not amount.is_finite() or amount < 0:
        raise ValueError(gettext("Enter an amount of zero or more."))
    return amount


def parse_count(value: str) -> int:
    try:
        count = int(value.strip())
    except ValueError:
        raise ValueError(gettext("Enter a whole number."))
    if count < 0:
        raise ValueError(gettext("Enter a whole number of zero or more."))
    return count


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(gettext("Enter a date as YYYY-MM-DD."))


def parse_category(value: str) -> Category:
    category = Category.objects.filter(code=value.strip()).first()
    if category is None:
        raise ValueError(gettext("No category has the code %(code)s.") % {"code": value})
    return category


def _total_spent_at_least(value, date_from, date_to) -> Q:
    spent = ExpressionWrapper(F("paid") - F("refunded"), output_field=DecimalField(max_digits=14, decimal_places=2))
    customers = (
        _purchases(date_from, date_to)
        .values("customer_id")
        .annotate(spent=Sum(spent))
        .filter(spent__gte=parse_amount(value))
        .values("customer_id")
    )
    return Q(pk__in=customers)


def _orders_at_least(value, date_from, date_to) -> Q:
    minimum = parse_count(value)
    if minimum == 0:
        return Q()
    customers = (
        _purchases(date_from, date_to)
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=minimum)
        .values("customer_id")
    )
    return Q(pk__in=customers)


def _last_purchase(value, *, before: bool) -> Q:
    day = parse_date(value)
    last = _purchases().values("customer_id").annotate(last=Max("completed_at__date"))
    last = last.filter(last__lt=day) if before else last.filter(last__gt=day)
    return Q(pk__in=last.values("customer_id"))


def _last_purchase_before(value, date_from, date_to) -> Q:
    return _last_purchase(value, before=True)


def _last_purchase_after(value, date_from, date_to) -> Q:
    return _last_purchase(value, before=False)


def _bought_through(value, date_from, date_to) -> Q:
    return Q(Exists(_purchases(date_from, date_to).filter(customer=OuterRef("pk"), channel=value)))


def _bought_in_category(value, date_from, date_to) -> Q:
    lines = OrderLine.objects.filter(
        order__in=_purchases(date_from, date_to),
        order__customer=OuterRef("pk"),
        product__category_id__in=category_subtree_ids(parse_category(value)),
    )
    return Q(Exists(lines))


def register_conditions() -> None:
    register_segment_condition(
        "orders.total_spent_at_least",
        _("spent in the period at least"),
        _total_spent_at_least,
        uses_dates=True,
        validate=parse_amount,
        help_text=_("An amount: money paid for completed orders less refunds; the period is optional."),
    )
    register_segment_condition(
        "orders.orders_at_least",
        _("number of purchases in the period at least"),
        _orders_at_least,
        uses_dates=True,
        validate=parse_count,
        help_text=_("A whole number of completed orders; the period is optional."),
    )
    register_segment_condition(
        "orders.last_purchase_before",
        _("last purchase before a date"),
        _last_purchase_before,
        validate=parse_date,
        help_text=_("A date as YYYY-MM-DD: customers whose last purchase was earlier (and who bought at all)."),
    )
    register_segment_condition(
        "orders.last_purchase_after",
        _("last purchase after a date"),
        _last_purchase_after,
        validate=parse_date,
        help_text=_("A date as YYYY-MM-DD: customers who bought after it."),
    )
    register_segment_condition(
        "orders.bought_through",
        _("bought through a channel (in the period)"),
        _bought_through,
        uses_dates=True,
        choices=lambda: list(SALES_CHANNEL_CHOICES),
        help_text=_("One of: site, app, store, call_centre, messenger, social, marketplace."),
    )
    register_segment_condition(
        "orders.bought_in_category",
        _("bought in a category (in the period)"),
        _bought_in_category,
        uses_dates=True,
        validate=parse_category,
        help_text=_("A category code; goods of every category below it count too."),
    )
