"""Merging two profiles of one person into one survivor.

Each app owns rows that point at a customer (customers: identities, consents, contacts, cases,
feedback, messages; later loyalty: accounts and points; orders: orders and returns). The merge
does not know them: it asks every app to move its own rows through a small registry.

An app registers its step in its ``AppConfig.ready``::

    from customers.merge import register_merge_step

    def move_orders(source, survivor):
        Order.objects.filter(customer=source).update(customer=survivor)

    register_merge_step("orders.orders", move_orders)

A step is called as ``step(source, survivor)`` inside the merge transaction, after both
customers were locked (in primary-key order). It must move every row of its app that points at
``source`` to ``survivor``, resolving its own uniqueness conflicts, and lose nothing. Raising a
``DomainError`` refuses the whole merge.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers import hooks
from customers.errors import CannotMergeWithItself
from customers.models import (
    Case,
    Consent,
    ConsentEvent,
    Customer,
    DuplicateCandidate,
    DuplicateStatus,
    Feedback,
    Identity,
    Interaction,
    InteractionKind,
    Message,
)
from customers.services import CHOICE_FIELDS, TEXT_FIELDS, check_active, ordered_pair, timeline_note
from omni.core.actors import SYSTEM, Actor

MergeStep = Callable[[Customer, Customer], object]

_steps: dict[str, MergeStep] = {}


def register_merge_step(name: str, step: MergeStep) -> None:
    """Add (or replace, under the same name) the step that moves one app's rows."""
    _steps[name] = step


def customer_merge(*, survivor: Customer, merged: Customer, actor: Actor = SYSTEM) -> Customer:
    """Move everything of ``merged`` to ``survivor`` and leave ``merged`` as a pointer to it."""
    if survivor.pk == merged.pk:
        raise CannotMergeWithItself(details={"customer_id": survivor.pk})
    with transaction.atomic():
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
        }
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        check_active(survivor)
        check_active(merged)
        _fill_profile(survivor, merged)
        for step in _steps.values():
            step(merged, survivor)
        now = timezone.now()
        merged.merged_into, merged.merged_at = survivor, now
        merged.save(update_fields=["merged_into", "merged_at", "updated_at"])
        # Profiles merged into ``merged`` before now point straight at the survivor.
        Customer.objects.filter(merged_into=merged).update(merged_into=survivor, updated_at=now)
        DuplicateCandidate.objects.filter(Q(first=survivor, second=merged) | Q(first=merged, second=survivor)).update(
            status=DuplicateStatus.MERGED, reviewed_by=actor.user, reviewed_at=now, updated_at=now
        )
        timeline_note(
            survivor,
            kind=InteractionKind.MERGE,
            event="customer.merged",
            params={"merged": merged.pk},
            subject_type="customer",
            subject_id=str(merged.pk),
            actor=actor,
        )
        hooks.customer_merged(merged.pk, survivor)
    return survivor


def _fill_profile(survivor: Customer, merged: Customer) -> None:
    """Fields the survivor lacks are taken from the merged profile; nothing known is replaced."""
    changed = []
    for name in (*TEXT_FIELDS, *CHOICE_FIELDS, "birthday", "preferred_store_id"):
        if name == "notes":
            continue
        if getattr(survivor, name) in (None, "") and getattr(merged, name) not in (None, ""):
            setattr(survivor, name, getattr(merged, name))
            changed.append(name)
    if merged.notes:
        survivor.notes = f"{survivor.notes}\n\n{merged.notes}".strip()
        changed.append("notes")
    tags = sorted(set(survivor.tags or []) | set(merged.tags or []))
    if tags != (survivor.tags or []):
        survivor.tags = tags
        changed.append("tags")
    if changed:
        survivor.save(update_fields=[*changed, "updated_at"])


# --- The customers app's own steps (registered in CustomersConfig.ready) -----------------


def move_identities(source: Customer, survivor: Customer) -> None:
    Identity.objects.filter(customer=source).update(customer=survivor, updated_at=timezone.now())


def move_consents(source: Customer, survivor: Customer) -> None:
    """The history moves whole; for the current answers, the most recent decision wins."""
    ConsentEvent.objects.filter(customer=source).update(customer=survivor)
    kept = {(c.purpose, c.channel): c for c in Consent.objects.filter(customer=survivor)}
    for consent in Consent.objects.filter(customer=source):
        current = kept.get((consent.purpose, consent.channel))
        if current is None:
            consent.customer = survivor
            consent.save(update_fields=["customer", "updated_at"])
            continue
        if consent.changed_at > current.changed_at:
            current.granted, current.changed_at = consent.granted, consent.changed_at
            current.save(update_fields=["granted", "changed_at", "updated_at"])
        consent.delete()


def move_interactions(source: Customer, survivor: Customer) -> None:
    Interaction.objects.filter(customer=source).update(customer=survivor)


def move_cases(source: Customer, survivor: Customer) -> None:
    Case.objects.filter(customer=source).update(customer=survivor, updated_at=timezone.now())


def move_feedback(source: Customer, survivor: Customer) -> None:
    Feedback.objects.filter(customer=source).update(customer=survivor, updated_at=timezone.now())


def move_messages(source: Customer, survivor: Customer) -> None:
    """Both may have had the same campaign: the source's copy keeps a suffixed key."""
    taken = set(Message.objects.filter(customer=survivor).exclude(dedupe_key="").values_list("dedupe_key", flat=True))
    for message in Message.objects.filter(customer=source, dedupe_key__in=taken):
        message.dedupe_key = f"{message.dedupe_key}#merged-{source.pk}"[:128]
        message.save(update_fields=["dedupe_key", "updated_at"])
    Message.objects.filter(customer=source).update(customer=survivor, updated_at=timezone.now())


def move_duplicate_candidates(source: Customer, survivor: Customer) -> None:
    """Pairs naming the source now name the survivor, unless that pair is already listed."""
    candidates = DuplicateCandidate.objects.filter(Q(first=source) | Q(second=source)).exclude(
        Q(first=survivor) | Q(second=survivor)
    )
    for candidate in candidates:
        other = candidate.second_id if candidate.first_id == source.pk else candidate.first_id
        first, second = ordered_pair(survivor.pk, other)
        if DuplicateCandidate.objects.filter(first_id=first, second_id=second).exists():
            candidate.delete()
        else:
            candidate.first_id, candidate.second_id = first, second
            candidate.save(update_fields=["first", "second", "updated_at"])


BUILTIN_STEPS: dict[str, MergeStep] = {
    "customers.identities": move_identities,
    "customers.consents": move_consents,
    "customers.interactions": move_interactions,
    "customers.cases": move_cases,
    "customers.feedback": move_feedback,
    "customers.messages": move_messages,
    "customers.duplicate_candidates": move_duplicate_candidates,
}
