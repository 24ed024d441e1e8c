"""Segment conditions the loyalty app answers (registered in ``LoyaltyConfig.ready``)."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from customers.segments import register_segment_condition
from loyalty.models import Account, AccountStatus, Tier


def _tier(value, date_from, date_to) -> Q:
    accounts = Account.objects.filter(
        customer=OuterRef("pk"), status=AccountStatus.ACTIVE, tier__programme__is_active=True, tier__name__iexact=value
    )
    return Q(Exists(accounts))


def _member(value, date_from, date_to) -> Q:
    accounts = Account.objects.filter(customer=OuterRef("pk"), status=AccountStatus.ACTIVE)
    if date_from:
        accounts = accounts.filter(opened_at__date__gte=date_from)
    if date_to:
        accounts = accounts.filter(opened_at__date__lte=date_to)
    return Q(Exists(accounts))


def _tier_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in Tier.objects.filter(programme__is_active=True).values_list("name", flat=True)]


def register_conditions() -> None:
    register_segment_condition(
        "loyalty.tier",
        _("loyalty tier"),
        _tier,
        choices=_tier_choices,
        help_text=_("The name of a tier of the active programme."),
    )
    register_segment_condition(
        "loyalty.member",
        _("member of the loyalty programme (joined in the period)"),
        _member,
        needs_value=False,
        uses_dates=True,
        help_text=_("The period is optional."),
    )
