"""The audit trail: who changed what, written by the services in the transaction of the change.

A service takes a snapshot of the fields it may change before it writes (``audit_snapshot``) and
hands it with the values after to ``audit_changes``, which keeps one ``AuditEvent`` per field that
changed; an act with no field (a message sent) is one ``audit_event``. Values are stored as plain,
untranslated text; ``audit_field_label`` and ``audit_value_label`` show them to a person.
"""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.translation import gettext

from omni.core.actors import Actor
from omni.core.models import AuditEvent, AuditKind


def audit_text(value) -> str:
    """A value as the audit trail keeps it: the choice's value, a related object's name, dates in
    ISO format, lists joined by commas; nothing (``None``) is the empty text."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(audit_text(item) for item in value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def audit_snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The current values of ``fields`` of ``obj``, for ``audit_changes``."""
    return {name: getattr(obj, name) for name in fields}


def audit_changes(
    actor: Actor, obj: models.Model, before: Mapping, after: Mapping, *, kind: str = AuditKind.CHANGED
) -> list[AuditEvent]:
    """Record each field of ``after`` whose text differs from ``before`` (a field missing from
    ``before`` was empty). Writes nothing when nothing changed."""
    content_type = ContentType.objects.get_for_model(obj)
    events = []
    for name, value in after.items():
        old, new = audit_text(before.get(name)), audit_text(value)
        if old != new:
            events.append(
                AuditEvent(
                    content_type=content_type,
                    object_id=obj.pk,
                    kind=kind,
                    field_name=name,
                    old_value=old,
                    new_value=new,
                    **actor.audit_fields,
                )
            )
    return AuditEvent.objects.bulk_create(events)


def audit_event(actor: Actor, obj: models.Model, kind: str, *, field: str = "", old="", new="") -> AuditEvent:
    """Record one act on ``obj`` (an identity attached, a message sent), whatever its values."""
    event = audit_event_row(actor, obj, kind, field=field, old=old, new=new)
    event.save(force_insert=True)
    return event


def audit_event_row(actor: Actor, obj: models.Model, kind: str, *, field: str = "", old="", new="") -> AuditEvent:
    """The (unsaved) row ``audit_event`` writes, for a caller writing it with others at once."""
    return AuditEvent(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        field_name=field,
        old_value=audit_text(old),
        new_value=audit_text(new),
        **actor.audit_fields,
    )


def audit_values_erase(model: type[models.Model], object_ids: Iterable[int]) -> int:
    """Empty the old and new values recorded for these objects (a customer's personal data is
    erased); who changed which field and when stays. Returns how many rows were emptied."""
    return (
        AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=object_ids)
        .exclude(old_value="", new_value="")
        .update(old_value="", new_value="")
    )


def audit_events_for(obj: models.Model):
    """The rows recorded for ``obj``, newest first, with who made them."""
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("created_by", "api_key")


# --- Shown to a person ----------------------------------------------------------------------


def _model_field(event: AuditEvent):
    model = event.content_type.model_class()
    if model is None or not event.field_name:
        return None
    try:
        return model._meta.get_field(event.field_name)
    except FieldDoesNotExist:  # a field since removed: its name is what is left
        return None


def audit_field_label(event: AuditEvent) -> str:
    """The field's name in the reader's language (a relation: the related objects' plural name)."""
    field = _model_field(event)
    if field is None:
        return event.field_name
    if hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    return str(field.related_model._meta.verbose_name_plural)


def audit_value_label(event: AuditEvent, text: str) -> str:
    """A recorded value in the reader's language: a choice by its label, yes or no, numbers and
    dates as the admin shows them; any other text as it was recorded."""
    if text == "":
        return "—"
    field = _model_field(event)
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, models.BooleanField):
        return gettext("yes") if text == "True" else gettext("no")
    try:
        if isinstance(field, models.DecimalField):
            return formats.number_format(Decimal(text), field.decimal_places)
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            return formats.date_format(datetime.date.fromisoformat(text), "SHORT_DATE_FORMAT")
    except (ArithmeticError, ValueError):  # recorded before the field's type changed
        return text
    return text


def audit_actor_label(event: AuditEvent) -> str:
    """Who made the change: the staff member, the API key, or the system."""
    if event.created_by_id is not None:
        return event.created_by.get_username()
    if event.api_key_id is not None:
        return event.api_key.name
    return gettext("system")
