"""Abandoned carts: the shop and the app report carts; one reminder for a cart left without an order.

``cart_record`` keeps the last state the client reported (a report older than the stored one
changes no lines) and attaches the customer once known. ``carts_remind`` (periodic) reminds,
once per cart, each cart left ``MARKETING_CART_REMINDER_MINUTES`` without a change: not when the
customer has since ordered any of its SKUs (final), not without marketing consent, not beyond the
weekly cap, and not in the customer's quiet hours (it waits for the morning); the rules are the
campaigns' (``omni.marketing.audience.decide``). A cart refused for a reason that can change (the
cap, consent, an address) stays open with that reason and is checked again every
``RECHECK_AFTER``, until it is ``MARKETING_CART_REMINDER_WINDOW_HOURS`` old: then it is skipped
for good with its last reason (``too_late`` when it never had one: its customer was never known,
or it waited for a morning past the window). ``carts_recovered`` records the first order with
the cart's goods within ``RECOVERY_DAYS`` of the reminder: the recovered revenue.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.errors import CustomerAnonymised, CustomerMerged
from customers.messaging.services import message_send
from customers.models import Customer, MessageChannel, MessagePurpose
from customers.services import locked_customer
from inventory.selectors import availability, unknown_skus
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import SALES_CHANNELS
from omni.core.errors import InvalidInput
from omni.core.formats import format_count
from omni.marketing.audience import decide, facts_load
from omni.marketing.models import Cart, CartStatus, RecipientStatus, SkipReason
from omni.marketing.purchases import purchases
from omni.marketing.rendering import message_language, unsubscribe_footer, unsubscribe_url
from orders.models import Order

RECOVERY_DAYS = 7
RECHECK_AFTER = datetime.timedelta(minutes=30)
# Reasons that can change while the cart waits: checked again within the window. Any other is final.
RECHECKED = (SkipReason.CAPPED, SkipReason.NO_CONSENT, SkipReason.NO_ADDRESS)
MAX_LINES = 200


@dataclass(frozen=True)
class CartLineInput:
    sku: str
    quantity: int


def _clean_lines(lines: list[CartLineInput]) -> list[dict]:
    if len(lines) > MAX_LINES:
        raise InvalidInput.for_field("lines", _("A cart has at most %(count)s lines.") % {"count": MAX_LINES})
    merged: dict[str, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise InvalidInput.for_field("lines", _("A quantity is a whole number above zero."))
        merged[line.sku] = merged.get(line.sku, 0) + line.quantity
    unknown = unknown_skus(list(merged))
    if unknown:
        raise InvalidInput.for_field("lines", _("Unknown SKUs: %(skus)s.") % {"skus": ", ".join(unknown)})
    return [{"sku": sku, "quantity": quantity} for sku, quantity in merged.items()]


def cart_record(
    *,
    channel: str,
    external_id: str,
    lines: list[CartLineInput],
    changed_at: datetime.datetime,
    customer: Customer | None = None,
    actor: Actor = SYSTEM,
) -> Cart:
    """Keep what a client reports about a cart; the newest report's lines win, the customer sticks."""
    if channel not in SALES_CHANNELS:
        raise InvalidInput.for_field("channel", _("%(value)s is not a sales channel.") % {"value": channel})
    external_id = external_id.strip()
    if not external_id:
        raise InvalidInput.for_field("cart_id", _("A cart needs its id."))
    cleaned = _clean_lines(lines)
    for attempt in range(2):
        try:
            with transaction.atomic():
                cart = Cart.objects.select_for_update().filter(channel=channel, external_id=external_id).first()
                if cart is None:
                    values = {"customer": customer, "lines": cleaned, "changed_at": changed_at}
                    return Cart.objects.create(channel=channel, external_id=external_id, **values)
                if customer is not None and cart.customer_id is None:
                    cart.customer = customer
                if changed_at > cart.changed_at:
                    cart.lines, cart.changed_at = cleaned, changed_at
                cart.save(update_fields=["customer", "lines", "changed_at", "updated_at"])
                return cart
        except IntegrityError:
            if attempt:  # the same cart created by a concurrent report: update it on the second pass
                raise
    raise AssertionError("unreachable")


def _ordered_since(cart: Cart) -> Order | None:
    """The first order of the cart's customer with any of its SKUs placed after the cart last changed."""
    skus = [line["sku"] for line in cart.lines]
    return (
        purchases()
        .filter(customer_id=cart.customer_id, created_at__gte=cart.changed_at, lines__sku__in=skus)
        .order_by("created_at", "pk")
        .first()
    )


def reminder_text(cart: Cart, customer: Customer, *, language: str, link: str, channel: str) -> tuple[str, str]:
    """The subject and text of a cart reminder in the customer's language, each line with its availability."""
    from inventory.models import Product

    skus = [line["sku"] for line in cart.lines]
    names = dict(Product.objects.filter(sku__in=skus).values_list("sku", "name"))
    available = {sku: sum(units.values()) for sku, units in availability(skus=skus).items()}
    with translation.override(language):
        lines = []
        for line in cart.lines:
            state = _("in stock") if available.get(line["sku"], 0) >= line["quantity"] else _("running out")
            values = {"name": names.get(line["sku"], line["sku"]), "quantity": format_count(line["quantity"])}
            item = _("%(name)s × %(quantity)s") % values
            lines.append(f"— {item} ({state})")
        greeting = _("%(name)s, you left these in your cart:") % {"name": customer.first_name or _("customer")}
        body = "\n".join([greeting, *lines, unsubscribe_footer(link, channel=channel, language=language)])
        return _("Your cart is waiting"), body


def cart_remind(cart_id: int, *, now: datetime.datetime | None = None) -> str:
    """Remind one due cart, or say why not: reminded, ordered, skipped, held or gone."""
    now = now or timezone.now()
    cart = Cart.objects.filter(pk=cart_id, status=CartStatus.OPEN, customer__isnull=False).first()
    if cart is None:
        return "gone"
    with transaction.atomic():
        try:
            customer = locked_customer(cart.customer)  # the customer first, then the cart (the lock order)
        except (CustomerMerged, CustomerAnonymised):
            Cart.objects.filter(pk=cart.pk).update(status=CartStatus.SKIPPED, reason=SkipReason.INACTIVE)
            return "skipped"
        cart = Cart.objects.select_for_update().filter(pk=cart_id, status=CartStatus.OPEN).first()
        if cart is None:
            return "gone"  # another sweep reminded it meanwhile
        if _ordered_since(cart) is not None:
            cart.status, cart.reason = CartStatus.ORDERED, ""
            cart.save(update_fields=["status", "reason", "updated_at"])
            return "ordered"
        facts = facts_load([customer.pk], now=now)
        decision = decide(customer, channels=list(MessageChannel.values), facts=facts, now=now)
        if decision.status == RecipientStatus.HELD:
            return "held"  # stays open: the sweep after the customer's morning sends it
        if decision.status == RecipientStatus.SKIPPED and decision.reason in RECHECKED:
            cart.reason, cart.checked_at = decision.reason, now
            cart.save(update_fields=["reason", "checked_at", "updated_at"])
            return "waiting"  # stays open: checked again after RECHECK_AFTER, within the window
        if decision.status == RecipientStatus.SKIPPED:
            cart.status, cart.reason = CartStatus.SKIPPED, decision.reason
            cart.save(update_fields=["status", "reason", "updated_at"])
            return "skipped"
        language = message_language(customer)
        link = unsubscribe_url(customer_id=customer.pk, channel=decision.route.channel, source=f"cart:{cart.pk}")
        subject, body = reminder_text(cart, customer, language=language, link=link, channel=decision.route.channel)
        cart.reminder = message_send(
            customer=customer,
            kind="cart_reminder",
            purpose=MessagePurpose.MARKETING,
            subject="{{ subject }}",
            text="{{ body }}",  # rendered here already: product names are data, never a template
            context={"subject": subject, "body": body},
            dedupe_key=f"cart:{cart.pk}",
            cause_type="cart",
            cause_id=str(cart.pk),
        )
        cart.status, cart.reason, cart.reminded_at = CartStatus.REMINDED, "", now
        cart.save(update_fields=["status", "reason", "reminder", "reminded_at", "updated_at"])
    return "reminded"


def carts_too_late(now: datetime.datetime) -> int:
    """Skip for good the open carts older than the window, with their last reason; how many."""
    old = Cart.objects.filter(
        status=CartStatus.OPEN,
        changed_at__lte=now - datetime.timedelta(hours=settings.MARKETING_CART_REMINDER_WINDOW_HOURS),
    )
    closed = old.exclude(reason="").update(status=CartStatus.SKIPPED, updated_at=now)
    return closed + old.filter(reason="").update(status=CartStatus.SKIPPED, reason=SkipReason.TOO_LATE, updated_at=now)


def carts_remind(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Remind every cart left long enough, within the window; what happened to how many."""
    now = now or timezone.now()
    outcomes: dict[str, int] = {}
    too_late = carts_too_late(now)
    if too_late:
        outcomes["too_late"] = too_late
    due = (
        Cart.objects.filter(
            status=CartStatus.OPEN,
            customer__isnull=False,
            changed_at__lte=now - datetime.timedelta(minutes=settings.MARKETING_CART_REMINDER_MINUTES),
        )
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=now - RECHECK_AFTER))
        .exclude(lines=[])
    )
    for cart_id in due.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=1000):
        outcome = cart_remind(cart_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def carts_recovered(*, now: datetime.datetime | None = None) -> int:
    """Record the order that followed each recent reminder with the cart's goods; how many were found."""
    now = now or timezone.now()
    reminded = Cart.objects.filter(
        status=CartStatus.REMINDED,
        recovered_order="",
        reminded_at__gte=now - datetime.timedelta(days=RECOVERY_DAYS),
    )
    found = 0
    for cart in reminded.iterator(chunk_size=500):
        order = _ordered_since(cart)
        if order is not None and order.created_at >= cart.reminded_at:
            Cart.objects.filter(pk=cart.pk, recovered_order="").update(
                recovered_order=order.number, recovered_total=order.total
            )
            found += 1
    return found
