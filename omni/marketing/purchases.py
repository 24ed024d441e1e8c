"""What counts as a purchase for marketing, one place: a campaign's conversion and a cart's order.

A purchase is an order of the customer that was not cancelled and did not expire uncollected.
A campaign member converted when they placed one within the campaign's ``conversion_days`` from
the moment the campaign reached them: their message was sent, or, for a member of the control
group, the moment it would have been (``Recipient.decided_at``, set by the same step of sending
for both groups, so that both are measured over the same window of the same campaign).
"""

import datetime

from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, QuerySet

from orders.models import Order, OrderStatus

NOT_BOUGHT = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def purchases() -> QuerySet[Order]:
    return Order.objects.exclude(status__in=NOT_BOUGHT)


def bought_within(days: int) -> Exists:
    """For a query of recipients: the member placed a purchase within ``days`` of ``decided_at``."""
    window = datetime.timedelta(days=days)
    return Exists(
        purchases().filter(
            customer_id=OuterRef("customer_id"),
            created_at__gte=OuterRef("decided_at"),
            created_at__lt=ExpressionWrapper(OuterRef("decided_at") + window, output_field=DateTimeField()),
        )
    )
