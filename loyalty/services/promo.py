"""Promo codes: validate one for a cart, use it on an order (counted atomically), release it.

A code gives a percentage or a fixed amount off the order, or extra points (granted with the
points the order earns). It is valid between its dates, in its channels, for the customers of its
segments, from a minimum order total, a limited number of times in total and per customer.

Using a code locks its row, checks every rule and counts the use in the same transaction, with
a conditional ``UPDATE ... WHERE used_count < max_uses`` as a second guard and a check
constraint as the third: two orders racing for the last use cannot both get it.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.segments import segment_members
from loyalty.errors import (
    PromoCustomerLimit,
    PromoCustomerRequired,
    PromoExhausted,
    PromoExpired,
    PromoInactive,
    PromoMinimumTotal,
    PromoNotForCustomer,
    PromoNotFound,
    PromoNotStarted,
    PromoWrongChannel,
)
from loyalty.models import PromoCode, PromoKind, PromoUsage, PromoUsageStatus
from loyalty.services.checks import CartLine, cart_total, check_channel, check_reference
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.money import money
from omni.core.validators import validate_identifier


@dataclass(frozen=True)
class PromoQuote:
    promo: PromoCode
    order_total: Decimal
    discount: Decimal
    points: int

    @property
    def code(self) -> str:
        return self.promo.code


def normalize_code(code: str) -> str:
    text = str(code or "").strip().upper()
    if not text or len(text) > 32:
        raise InvalidInput.for_field("code", _("A promo code is 1 to 32 characters."))
    try:
        validate_identifier(text)
    except ValidationError as error:
        raise InvalidInput.for_field("code", error.messages[0])
    return text


def _applied(promo: PromoCode):
    return promo.usages.filter(status=PromoUsageStatus.APPLIED)


def _check(promo: PromoCode, *, total: Decimal, customer: Customer | None, channel: str, now) -> None:
    """Raise the refusal naming the first rule the code breaks here; the order of the checks
    goes from what concerns the code itself to what concerns this order and customer."""
    details = {"code": promo.code}
    if not promo.is_active:
        raise PromoInactive(details=details)
    if now < promo.valid_from:
        raise PromoNotStarted(details={**details, "valid_from": promo.valid_from.isoformat()})
    if promo.valid_until is not None and now >= promo.valid_until:
        raise PromoExpired(details={**details, "valid_until": promo.valid_until.isoformat()})
    if promo.channels and channel not in promo.channels:
        raise PromoWrongChannel(details={**details, "channels": list(promo.channels)})
    if total < promo.min_order_total:
        raise PromoMinimumTotal(
            _("The order total must be at least %(minimum)s for this promo code.") % {"minimum": promo.min_order_total},
            details={**details, "min_order_total": str(promo.min_order_total), "order_total": str(total)},
        )
    segments = list(promo.segments.all())
    if customer is None and (segments or promo.max_uses_per_customer is not None):
        raise PromoCustomerRequired(details=details)
    if segments and not any(segment_members(segment).filter(pk=customer.pk).exists() for segment in segments):
        raise PromoNotForCustomer(details=details)
    if promo.max_uses is not None and promo.used_count >= promo.max_uses:
        raise PromoExhausted(details=details)
    if promo.max_uses_per_customer is not None:
        used = _applied(promo).filter(customer=customer).count()
        if used >= promo.max_uses_per_customer:
            raise PromoCustomerLimit(details={**details, "per_customer": promo.max_uses_per_customer})


def _discount(promo: PromoCode, total: Decimal) -> tuple[Decimal, int]:
    if promo.kind == PromoKind.PERCENT:
        return money(total * promo.value / 100), 0
    if promo.kind == PromoKind.AMOUNT:
        return min(money(promo.value), total), 0
    return Decimal("0.00"), int(promo.value)


def _promo(code: str) -> PromoCode:
    promo = PromoCode.objects.filter(code=code).first()
    if promo is None:
        raise PromoNotFound(details={"code": code})
    return promo


def promo_validate(
    *,
    code: str,
    lines: Sequence[CartLine],
    channel: str,
    customer: Customer | None = None,
    now: datetime.datetime | None = None,
) -> PromoQuote:
    """What the code gives on this cart, or the refusal (a ``PromoRefused`` with its own code)."""
    code = normalize_code(code)
    total = cart_total(lines)
    check_channel(channel)
    now = now or timezone.now()
    promo = _promo(code)
    _check(promo, total=total, customer=customer, channel=channel, now=now)
    discount, points = _discount(promo, total)
    return PromoQuote(promo=promo, order_total=total, discount=discount, points=points)


def promo_apply(
    *,
    code: str,
    reference: str,
    lines: Sequence[CartLine],
    channel: str,
    customer: Customer | None = None,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> tuple[PromoUsage, bool]:
    """Use the code on an order, counted atomically. Once per order: the same order again gets
    its first use back. Returns the use and whether it was counted now."""
    code = normalize_code(code)
    reference = check_reference(reference)
    total = cart_total(lines)
    check_channel(channel)
    now = now or timezone.now()
    promo = _promo(code)
    with transaction.atomic():
        promo = PromoCode.objects.select_for_update().get(pk=promo.pk)
        existing = _applied(promo).filter(reference=reference).first()
        if existing is not None:
            return existing, False
        _check(promo, total=total, customer=customer, channel=channel, now=now)
        counted = (
            PromoCode.objects.filter(pk=promo.pk)
            .filter(Q(max_uses__isnull=True) | Q(used_count__lt=F("max_uses")))
            .update(used_count=F("used_count") + 1, updated_at=now)
        )
        if not counted:
            raise PromoExhausted(details={"code": promo.code})
        discount, points = _discount(promo, total)
        usage = PromoUsage.objects.create(
            promo=promo,
            customer=customer,
            reference=reference,
            channel=channel,
            order_total=total,
            discount=discount,
            points=points,
            created_at=now,
            **actor.audit_fields,
        )
    return usage, True


def promo_release(
    *, reference: str, code: str = "", actor: Actor = SYSTEM, now: datetime.datetime | None = None
) -> int:
    """The order was cancelled: its uses of promo codes (or of ``code`` only) no longer count.
    Returns how many uses were released; releasing again changes nothing."""
    reference = check_reference(reference)
    now = now or timezone.now()
    usages = PromoUsage.objects.filter(reference=reference, status=PromoUsageStatus.APPLIED)
    if code:
        usages = usages.filter(promo__code=normalize_code(code))
    with transaction.atomic():
        # Lock the codes in primary-key order, as promo_apply does one at a time.
        promo_ids = sorted(set(usages.values_list("promo_id", flat=True)))
        list(PromoCode.objects.select_for_update().filter(pk__in=promo_ids).order_by("pk").values_list("pk"))
        released = list(usages.select_for_update())
        for usage in released:
            usage.status, usage.released_at = PromoUsageStatus.RELEASED, now
            usage.save(update_fields=["status", "released_at"])
            applied = {"status": PromoUsageStatus.APPLIED}
            audit_changes(actor, usage, applied, {"status": usage.status}, kind=AuditKind.PROMO_RELEASED)
            PromoCode.objects.filter(pk=usage.promo_id, used_count__gt=0).update(
                used_count=F("used_count") - 1, updated_at=now
            )
    return len(released)
