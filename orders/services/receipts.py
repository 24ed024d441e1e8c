"""The receipt of a sale in the store, sent to the customer through the customers' outbox.

This is the customer's copy, not a fiscal receipt (those come from a fiscal data operator later).
"""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.messaging.services import message_send
from customers.models import Message, MessagePurpose
from loyalty.models import PointsEntry
from omni.core.actors import SYSTEM, Actor
from orders.errors import CustomerRequired
from orders.models import Order, PaymentMethod
from orders.services.notices import money_text


def receipt_text(order: Order) -> str:
    """The receipt as plain text: lines, totals, payments and the points earned."""
    rows = [_("Receipt %(number)s") % {"number": order.number}]
    if order.location is not None:
        rows.append(order.location.name)
    rows.append("")
    for line in order.lines.order_by("id"):
        rows.append(f"{line.name} ({line.sku}) × {line.quantity}: {money_text(line.total)}")
    rows.append("")
    if order.discount:
        rows.append(_("Discount: %(amount)s") % {"amount": money_text(order.discount)})
    if order.points_redeemed:
        rows.append(
            _("Paid with %(points)d points: %(amount)s")
            % {"points": order.points_redeemed, "amount": money_text(order.points_value)}
        )
    rows.append(_("Total: %(amount)s") % {"amount": money_text(order.total)})
    for payment in order.payments.exclude(method=PaymentMethod.POINTS).order_by("id"):
        rows.append(f"{PaymentMethod(payment.method).label}: {money_text(payment.amount)}")
    spendable_from = points_spendable_from(order)
    if spendable_from is not None:
        rows.append(
            ngettext(
                "%(points)d point earned, pending until %(date)s.",
                "%(points)d points earned, pending until %(date)s.",
                order.points_earned,
            )
            % {"points": order.points_earned, "date": date_format(timezone.localdate(spendable_from))}
        )
    return "\n".join(rows)


def points_spendable_from(order: Order) -> datetime.datetime | None:
    """When the points the order earned become spendable: they stay pending until the return
    window has passed (the programme's holding period). None when it earned none."""
    if not order.points_earned:
        return None
    entry = PointsEntry.objects.filter(key=f"earn:{order.number}").only("spendable_from").first()
    return entry.spendable_from if entry is not None else None


def receipt_send(*, order: Order, actor: Actor = SYSTEM) -> Message:
    """Send the customer the receipt through their channel for service messages (once per sale:
    sending it again returns the first message). Refused when the sale has no customer, or the
    customer cannot be reached (``NoReachableChannel``)."""
    if order.customer is None:
        raise CustomerRequired(_("The sale has no customer to send the receipt to."))
    return message_send(
        customer=order.customer,
        kind="receipt",
        purpose=MessagePurpose.SERVICE,
        subject=_("Your receipt %(number)s") % {"number": order.number},
        # The receipt is passed as a value, so that nothing in a product's name is read as a template.
        text="{{ receipt }}",
        context={"receipt": receipt_text(order)},
        dedupe_key=f"receipt:{order.number}",
        cause_type="order",
        cause_id=order.number,
        actor=actor,
    )
