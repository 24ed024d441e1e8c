"""A customer's personal data: exported as one JSON document, or erased on request.

Other apps add what they hold through two registries, from their ``AppConfig.ready``:

* ``register_export_section(name, func)``: ``func(customer)`` returns JSON-serialisable data put
  under ``name`` in the export (orders: the customer's orders; loyalty: the account and points).
* ``register_anonymise_step(name, func)``: ``func(customer)`` erases the personal data of the
  app's rows inside the anonymisation transaction, keeping what accounting needs (orders stay,
  without names, addresses and phones; points stay, without the card numbers).
"""

import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import hooks
from customers.models import (
    Case,
    CaseMessage,
    Consent,
    ConsentEvent,
    ConsentPurpose,
    Customer,
    Feedback,
    Identity,
    Interaction,
    InteractionKind,
    Message,
    MessageStatus,
)
from customers.services import locked_customer, timeline_note
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_values_erase
from omni.core.channels import Channel

FORMAT = "omni.customer.v1"

_export_sections: dict[str, Callable[[Customer], object]] = {}
_anonymise_steps: dict[str, Callable[[Customer], object]] = {}


def register_export_section(name: str, func: Callable[[Customer], object]) -> None:
    _export_sections[name] = func


def register_anonymise_step(name: str, func: Callable[[Customer], object]) -> None:
    _anonymise_steps[name] = func


PROFILE_EXPORT_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "middle_name",
    "birthday",
    "gender",
    "city",
    "preferred_store_id",
    "preferred_channel",
    "preferred_payment_method",
    "tags",
    "notes",
    "acquisition_channel",
    "acquisition_campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "created_channel",
    "created_at",
    "updated_at",
)


def customer_data_export(*, customer: Customer, actor: Actor = SYSTEM) -> dict:
    """Everything known about the customer as one JSON document; the export is recorded."""
    with transaction.atomic():
        customer = locked_customer(customer)
        document = {
            "format": FORMAT,
            "exported_at": timezone.now(),
            "customer": {name: getattr(customer, name) for name in PROFILE_EXPORT_FIELDS},
            "merged_profiles": list(customer.merged_profiles.values_list("pk", flat=True)),
            "identities": list(
                Identity.objects.filter(customer=customer).values("kind", "system", "value", "created_at")
            ),
            "consents": list(
                Consent.objects.filter(customer=customer).values("purpose", "channel", "granted", "changed_at")
            ),
            "consent_history": list(
                ConsentEvent.objects.filter(customer=customer)
                .order_by("created_at", "id")
                .values("purpose", "channel", "granted", "source_channel", "note", "created_at")
            ),
            "interactions": list(
                Interaction.objects.filter(customer=customer)
                .order_by("occurred_at", "id")
                .values(
                    "channel",
                    "kind",
                    "direction",
                    "summary",
                    "event",
                    "params",
                    "details",
                    "occurred_at",
                    "subject_type",
                    "subject_id",
                )
            ),
            "cases": [
                {
                    "number": case.number,
                    "subject": case.subject,
                    "status": case.status,
                    "created_at": case.created_at,
                    "messages": [
                        {"channel": m.channel, "direction": m.direction, "body": m.body, "created_at": m.created_at}
                        for m in case.messages.all()
                    ],
                }
                for case in customer.cases.prefetch_related("messages").order_by("created_at", "id")
            ],
            "feedback": list(
                Feedback.objects.filter(customer=customer)
                .order_by("created_at", "id")
                .values("score", "comment", "channel", "order_ref", "created_at")
            ),
            "messages": list(
                Message.objects.filter(customer=customer)
                .order_by("created_at", "id")
                .values("kind", "purpose", "channel", "recipient", "subject", "body", "status", "created_at", "sent_at")
            ),
        }
        for name, section in _export_sections.items():
            document[name] = section(customer)
        timeline_note(
            customer,
            kind=InteractionKind.PERSONAL_DATA,
            event="personal_data.exported",
            actor=actor,
        )
    # One pass through the encoder: dates, decimals and UUIDs become strings.
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def customer_anonymise(*, customer: Customer, actor: Actor = SYSTEM) -> Customer:
    """Erase the customer's personal data and identities; keep the records, without it.

    The profile stays (orders and points keep pointing at it, the figures stay in the reports)
    with its personal fields emptied; its identities are deleted so that nothing leads to it any
    more (the other apps' steps do the same for their identifiers, such as loyalty cards); every
    free text it wrote or that is about it is erased (contact summaries, case subjects and
    messages, feedback, consent notes, messages sent, the old and new values in the profile's
    history of changes); consents are withdrawn, unsent messages are cancelled, and the act is
    recorded.
    """
    with transaction.atomic():
        customer = locked_customer(customer)
        for name in ("first_name", "last_name", "middle_name", "gender", "city", "notes"):
            setattr(customer, name, "")
        for name in ("preferred_channel", "preferred_payment_method"):
            setattr(customer, name, "")
        customer.birthday = None
        customer.preferred_store = None
        customer.tags = []
        Identity.objects.filter(customer=customer).delete()
        now = timezone.now()
        granted = list(Consent.objects.filter(customer=customer, granted=True))
        ConsentEvent.objects.filter(customer=customer).exclude(note="").update(note="")
        Consent.objects.filter(customer=customer, granted=True).update(granted=False, changed_at=now, updated_at=now)
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    customer=customer,
                    purpose=consent.purpose,
                    channel=consent.channel,
                    granted=False,
                    source_channel=Channel.SYSTEM,
                    note=_("Withdrawn when the personal data was erased."),
                    **actor.audit_fields,
                )
                for consent in sorted(granted, key=lambda c: c.purpose != ConsentPurpose.MARKETING)
            ]
        )
        Interaction.objects.filter(customer=customer).update(summary="", details="")
        Case.objects.filter(customer=customer).update(subject="", updated_at=now)
        CaseMessage.objects.filter(case__customer=customer).update(body="")
        Feedback.objects.filter(customer=customer).update(comment="", updated_at=now)
        Message.objects.filter(customer=customer, status=MessageStatus.PENDING).update(
            status=MessageStatus.FAILED, last_error=_("Cancelled: the customer's personal data was erased.")
        )
        Message.objects.filter(customer=customer).update(recipient="", subject="", body="", updated_at=now)
        audit_values_erase(Customer, [customer.pk])
        for step in _anonymise_steps.values():
            step(customer)
        customer.anonymised_at = now
        customer.save()
        timeline_note(
            customer,
            kind=InteractionKind.PERSONAL_DATA,
            event="personal_data.erased",
            actor=actor,
        )
        hooks.customer_updated(customer)
    return customer
