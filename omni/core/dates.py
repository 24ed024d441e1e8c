"""The calendar Omni accepts: dates a retailer can mean, far from the ends where arithmetic overflows.

``date.min`` made aware in Moscow falls before year 1 in UTC, and the day after ``date.max`` does not
exist: both are ``OverflowError`` deep in a query or a report. Every date and date-time that comes
from outside (API bodies, query filters, admin forms) goes through one of these fields instead.

A day the user names (a report's period, today's birthdays) begins at ``local_day_start``, in the
current time zone.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import filters
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2999, 12, 31)


def validate_in_calendar(value: datetime.date | datetime.datetime) -> None:
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(
            _("Enter a date between %(min)s and %(max)s.") % {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
            code="out_of_range",
        )


def local_day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class LocalDays:
    """A period of whole local days, from ``date_from`` to ``date_to`` included, for the dataclasses
    that declare those two fields (a report's filters, loyalty's KPI period)."""

    date_from: datetime.date
    date_to: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return local_day_start(self.date_from)

    @property
    def end(self) -> datetime.datetime:
        """The first moment after the period (its last day is included)."""
        return local_day_start(self.date_to + datetime.timedelta(days=1))


# Admin and report forms.
class DateFormField(forms.DateField):
    default_validators = [validate_in_calendar]


class IsoDateTimeFormField(IsoDateTimeField):
    default_validators = [validate_in_calendar]


# Query-string filters (django-filter).
class DateFilter(filters.DateFilter):
    field_class = DateFormField


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = IsoDateTimeFormField


# API bodies and query serializers.
class DateField(serializers.DateField):
    default_validators = [validate_in_calendar]


class DateTimeField(serializers.DateTimeField):
    def enforce_timezone(self, value):
        # Checked before the value is made aware: a naive 0001-01-01T00:00 overflows right there.
        try:
            validate_in_calendar(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="out_of_range") from None
        return super().enforce_timezone(value)
