"""Setting the programme up: its rules and tiers, and promo codes (created, closed, their use read).

A programme change applies to new operations only (every entry keeps the rate and dates it was
made with); an account's tier follows new thresholds at its next purchase or return, or in the
nightly batch. Each change is audited.
"""

import datetime
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.errors import PromoCodeTaken
from loyalty.models import Programme, PromoCode, PromoKind, Tier
from loyalty.selectors import promo_codes_with_usage
from loyalty.services.promo import normalize_code
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.channels import SALES_CHANNELS
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.money import money

PROGRAMME_FIELDS = (
    "point_value",
    "max_redeem_percent",
    "holding_days",
    "expiry_days",
    "tier_period_days",
    "welcome_bonus",
    "birthday_bonus",
    "otp_required",
)


@dataclass(frozen=True)
class TierData:
    """A tier as the integration sends it, keyed by its name within the programme."""

    name: str
    min_spend: Decimal
    earn_rate: Decimal


def _check_programme(values: dict) -> None:
    if "point_value" in values and values["point_value"] <= 0:
        raise InvalidInput.for_field("point_value", _("A point is worth more than nothing."))
    if "max_redeem_percent" in values and not 0 <= values["max_redeem_percent"] <= 100:
        raise InvalidInput.for_field("max_redeem_percent", _("A share is 0 to 100 %."))
    for name in ("expiry_days", "tier_period_days"):
        if name in values and values[name] < 1:
            raise InvalidInput.for_field(name, _("At least one day."))


def _check_tiers(programme: Programme, tiers: list[TierData]) -> None:
    names = [tier.name.strip() for tier in tiers]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise InvalidInput.for_field("tiers", _("Each tier needs a name, once."))
    for tier in tiers:
        if tier.min_spend < 0 or not 0 <= tier.earn_rate <= 100:
            raise InvalidInput.for_field(
                "tiers", _("Tier %(name)s: spend is zero or more, the earn rate 0 to 100 %%.") % {"name": tier.name}
            )
    thresholds = {tier.name: tier.min_spend for tier in programme.tiers.all()}
    thresholds.update({tier.name.strip(): tier.min_spend for tier in tiers})
    if len(set(thresholds.values())) != len(thresholds):
        raise InvalidInput.for_field("tiers", _("Two tiers cannot need the same qualifying spend."))


def programme_update(
    *, programme: Programme, changes: dict, tiers: list[TierData] = (), actor: Actor = SYSTEM
) -> Programme:
    """Change some of the programme's rules (``PROGRAMME_FIELDS``) and set tiers by name: a tier
    named is updated, or added when the programme has none by that name; the others stay."""
    unknown = set(changes) - set(PROGRAMME_FIELDS)
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], _("This field cannot be changed."))
    _check_programme(changes)
    with transaction.atomic():
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        _check_tiers(programme, list(tiers))
        before = audit_snapshot(programme, changes)
        for name, value in changes.items():
            setattr(programme, name, value)
        programme.save()
        audit_changes(actor, programme, before, changes)
        existing = {tier.name: tier for tier in programme.tiers.all()}
        for data in tiers:
            values = {"min_spend": money(data.min_spend), "earn_rate": data.earn_rate}
            tier = existing.get(data.name.strip())
            if tier is None:
                tier = Tier.objects.create(programme=programme, name=data.name.strip(), **values)
                audit_event(actor, tier, AuditKind.CREATED)
                continue
            before = audit_snapshot(tier, values)
            Tier.objects.filter(pk=tier.pk).update(**values, updated_at=timezone.now())
            audit_changes(actor, tier, before, values)
    return programme


@dataclass(frozen=True)
class PromoData:
    code: str
    kind: str
    value: Decimal
    description: str = ""
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None
    min_order_total: Decimal = Decimal("0")
    channels: tuple[str, ...] = ()


def _check_promo(data: PromoData, valid_from: datetime.datetime) -> None:
    if data.kind not in PromoKind.values:
        raise InvalidInput.for_field("kind", _("Unknown discount %(kind)s.") % {"kind": data.kind})
    if data.value <= 0 or (data.kind == PromoKind.PERCENT and data.value > 100):
        raise InvalidInput.for_field("value", _("The value is above zero; a percentage is at most 100."))
    if data.kind == PromoKind.POINTS and data.value != int(data.value):
        raise InvalidInput.for_field("value", _("Extra points are a whole number."))
    if data.valid_until is not None and data.valid_until <= valid_from:
        raise InvalidInput.for_field("valid_until", _("The code must end after it starts."))
    if data.min_order_total < 0:
        raise InvalidInput.for_field("min_order_total", _("The minimum order total is zero or more."))
    unknown = sorted(set(data.channels) - set(SALES_CHANNELS))
    if unknown:
        raise InvalidInput.for_field(
            "channels", _("Unknown channels: %(channels)s.") % {"channels": ", ".join(unknown)}
        )


def promo_create(*, data: PromoData, actor: Actor = SYSTEM) -> PromoCode:
    """A new promo code, active at once (or from ``valid_from``); segments are set in the admin."""
    code = normalize_code(data.code)
    if any(char.isspace() or char == "/" for char in code):
        raise InvalidInput.for_field("code", _("A promo code has neither spaces nor slashes."))
    valid_from = data.valid_from or timezone.now()
    _check_promo(data, valid_from)
    try:
        with transaction.atomic():
            promo = PromoCode.objects.create(
                code=code,
                kind=data.kind,
                value=data.value,
                description=data.description.strip(),
                valid_from=valid_from,
                valid_until=data.valid_until,
                max_uses=data.max_uses,
                max_uses_per_customer=data.max_uses_per_customer,
                min_order_total=data.min_order_total,
                channels=sorted(set(data.channels)),
            )
            audit_event(actor, promo, AuditKind.CREATED)
    except IntegrityError:
        raise PromoCodeTaken(details={"code": code})
    return promo


# Personal codes: no 0/O or 1/I, which people misread.
PERSONAL_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PERSONAL_CODE_LENGTH = 8


def promo_codes_issue(*, prefix: str, data: PromoData, count: int) -> list[str]:
    """``count`` new single-use codes ``PREFIX-XXXXXXXX`` with ``data``'s discount (a campaign's personal codes).

    Written in one statement in the caller's transaction (no audit row per code: the caller
    records what it issued them for). A random code that collides with an existing one is drawn again.
    """
    prefix = normalize_code(prefix)[: 32 - PERSONAL_CODE_LENGTH - 1]
    valid_from = data.valid_from or timezone.now()
    _check_promo(data, valid_from)
    for _attempt in range(5):
        codes = [
            f"{prefix}-{''.join(secrets.choice(PERSONAL_CODE_ALPHABET) for _ in range(PERSONAL_CODE_LENGTH))}"
            for _ in range(count)
        ]
        try:
            with transaction.atomic():
                PromoCode.objects.bulk_create(
                    PromoCode(
                        code=code,
                        kind=data.kind,
                        value=data.value,
                        description=data.description.strip(),
                        valid_from=valid_from,
                        valid_until=data.valid_until,
                        max_uses=1,
                        max_uses_per_customer=1,
                        min_order_total=data.min_order_total,
                        channels=sorted(set(data.channels)),
                    )
                    for code in codes
                )
        except IntegrityError:
            continue  # one of the codes drawn is taken: draw them all again
        return codes
    raise PromoCodeTaken(details={"prefix": prefix})


def promo_deactivate(*, promo: PromoCode, actor: Actor = SYSTEM) -> PromoCode:
    """No order can use the code from now on; the orders that used it keep their discount."""
    with transaction.atomic():
        promo = PromoCode.objects.select_for_update().get(pk=promo.pk)
        if promo.is_active:
            promo.is_active = False
            promo.save(update_fields=["is_active", "updated_at"])
            audit_changes(actor, promo, {"is_active": True}, {"is_active": False})
    return promo


def promo_usage(promo: PromoCode) -> dict:
    """How much the code was used: orders that keep it applied, their discount and extra points.

    Read from the figures ``selectors.promo_codes_with_usage`` annotates, or counted now."""
    if not hasattr(promo, "usage_orders"):
        promo = promo_codes_with_usage(PromoCode.objects.filter(pk=promo.pk)).get()
    return {
        "orders": promo.usage_orders,
        "discount_total": money(promo.usage_discount or 0),
        "points_total": promo.usage_points or 0,
        "order_total": money(promo.usage_order_total or 0),
        "released": promo.usage_released,
    }
