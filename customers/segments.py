"""Segments: groups of customers defined by conditions, evaluated as one queryset.

A condition type turns its parameters (a ``value`` and an optional ``date_from``/``date_to``
period) into a ``Q`` over ``Customer``; a segment's members are the active customers matching
all of its conditions, in one SQL query whatever the number of members (subqueries, never a
query per customer).

Customers registers the conditions it can answer itself: city, preferred store, marketing
consent to a channel, birthday this month, the channel where the profile was created, contacted
through a channel. Conditions about purchases (total spent or number of orders in a period, last
purchase before or after a date, channels used, bought in a category) and the loyalty tier
belong to orders and loyalty, which register them in their ``AppConfig.ready``::

    from customers.segments import register_segment_condition

    def total_spent_at_least(value, date_from, date_to):
        orders = Order.objects.filter(customer=OuterRef("pk"), status=OrderStatus.COMPLETED)
        ...
        return Q(Exists(...)) or Q(pk__in=Subquery(...))

    register_segment_condition(
        "orders.total_spent_at_least", _("total spent in the period at least"), total_spent_at_least,
        uses_dates=True, validate=parse_amount,
    )

``validate(value)`` raises ``ValueError``/``ValidationError`` for a value it cannot use.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.errors import UnknownSegmentCondition
from customers.models import Consent, ConsentPurpose, ContactChannel, Customer, Interaction, Segment
from omni.core.channels import Channel
from omni.core.errors import InvalidInput

Build = Callable[[str, datetime.date | None, datetime.date | None], Q]


@dataclass(frozen=True)
class ConditionType:
    key: str
    label: str
    build: Build
    needs_value: bool = True
    uses_dates: bool = False
    choices: Callable[[], list[tuple[str, str]]] | None = None
    validate: Callable[[str], object] | None = None
    help_text: str = ""


_conditions: dict[str, ConditionType] = {}


def register_segment_condition(
    key: str,
    label: str,
    build: Build,
    *,
    needs_value: bool = True,
    uses_dates: bool = False,
    choices: Callable[[], list[tuple[str, str]]] | None = None,
    validate: Callable[[str], object] | None = None,
    help_text: str = "",
) -> None:
    """Add (or replace, under the same key) a condition staff can use in segments."""
    _conditions[key] = ConditionType(key, label, build, needs_value, uses_dates, choices, validate, help_text)


def condition_types() -> dict[str, ConditionType]:
    return dict(_conditions)


def condition_choices() -> list[tuple[str, str]]:
    return sorted(((key, str(kind.label)) for key, kind in _conditions.items()), key=lambda item: item[1])


def validate_condition(
    key: str, value: str, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> None:
    """Raise ``InvalidInput`` (naming the field) when a condition cannot be evaluated."""
    kind = _conditions.get(key)
    if kind is None:
        raise UnknownSegmentCondition(details={"field": "condition", "condition": key})
    value = (value or "").strip()
    if kind.needs_value and not value:
        raise InvalidInput.for_field("value", gettext("This condition needs a value."))
    if kind.choices is not None and value and value not in {choice for choice, _label in kind.choices()}:
        raise InvalidInput(
            gettext("%(value)s is not a valid value for this condition.") % {"value": value},
            details={"field": "value"},
        )
    if kind.validate is not None and value:
        try:
            kind.validate(value)
        except Exception as exc:  # a validator says no in its own words
            raise InvalidInput(str(exc), details={"field": "value"})
    if date_from and date_to and date_from > date_to:
        raise InvalidInput.for_field("date_to", gettext("The period ends before it starts."))


def segment_filter(segment: Segment) -> Q:
    condition = Q()
    for row in segment.conditions.all():
        kind = _conditions.get(row.condition)
        if kind is None:
            raise UnknownSegmentCondition(details={"condition": row.condition, "segment": segment.pk})
        condition &= kind.build(row.value.strip(), row.date_from, row.date_to)
    return condition


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """The active customers matching every condition of the segment (none for a segment without any)."""
    if not segment.conditions.exists():
        return Customer.objects.none()
    return Customer.objects.active().filter(segment_filter(segment)).order_by("pk")


# --- Conditions the customers app evaluates itself ---------------------------------------


def _period(prefix: str, date_from, date_to) -> dict:
    lookups = {}
    if date_from:
        lookups[f"{prefix}__date__gte"] = date_from
    if date_to:
        lookups[f"{prefix}__date__lte"] = date_to
    return lookups


def _city(value, date_from, date_to) -> Q:
    return Q(city__iexact=value)


def _preferred_store(value, date_from, date_to) -> Q:
    return Q(preferred_store__code=value)


def _consent(value, date_from, date_to) -> Q:
    granted = Consent.objects.filter(customer=OuterRef("pk"), granted=True)
    return Q(Exists(granted.filter(purpose=ConsentPurpose.MARKETING, channel=value))) & Q(
        Exists(granted.filter(purpose=ConsentPurpose.PERSONAL_DATA))
    )


def _birthday_this_month(value, date_from, date_to) -> Q:
    return Q(birthday__month=timezone.localdate().month)


def _created_channel(value, date_from, date_to) -> Q:
    return Q(created_channel=value)


def _contacted_through(value, date_from, date_to) -> Q:
    contacts = Interaction.objects.filter(
        customer=OuterRef("pk"), channel=value, **_period("occurred_at", date_from, date_to)
    )
    return Q(Exists(contacts))


def _store_choices() -> list[tuple[str, str]]:
    from inventory.models import Location

    return list(Location.objects.values_list("code", "name"))


def register_builtin_conditions() -> None:
    register_segment_condition("customers.city", _("city"), _city, help_text=_("The city, in any letter case."))
    register_segment_condition(
        "customers.preferred_store",
        _("preferred store"),
        _preferred_store,
        choices=_store_choices,
        help_text=_("The store's code."),
    )
    register_segment_condition(
        "customers.marketing_consent",
        _("consents to marketing through a channel"),
        _consent,
        choices=lambda: list(ContactChannel.choices),
        help_text=_("One of: email, sms, push, messenger, call."),
    )
    register_segment_condition(
        "customers.birthday_this_month", _("birthday this month"), _birthday_this_month, needs_value=False
    )
    register_segment_condition(
        "customers.created_channel",
        _("profile created through a channel"),
        _created_channel,
        choices=lambda: list(Channel.choices),
        help_text=_("One of: site, app, store, call_centre, email, sms, push, messenger, social, system."),
    )
    register_segment_condition(
        "customers.contacted_through",
        _("contacted through a channel (in the period)"),
        _contacted_through,
        uses_dates=True,
        choices=lambda: list(Channel.choices),
        help_text=_("A channel; the period is optional."),
    )
