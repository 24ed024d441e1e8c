"""Every change of customers' data. Each function is one business action in one transaction.

Cases and feedback live in ``customers.cases``, merging in ``customers.merge``, personal data export
and erasure in ``customers.personal_data``, messages to customers in ``customers.messaging``.
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import hooks, selectors
from customers.errors import (
    CustomerAnonymised,
    CustomerMerged,
    DuplicateAlreadyReviewed,
    IdentityRequired,
    IdentityTaken,
)
from customers.identities import IdentityKey, identity_key
from customers.models import (
    Consent,
    ConsentEvent,
    ConsentPurpose,
    ContactChannel,
    Customer,
    Direction,
    DuplicateCandidate,
    DuplicateReason,
    DuplicateStatus,
    Gender,
    Identity,
    IdentityKind,
    Interaction,
    InteractionKind,
    PaymentMethod,
    reversed_tail,
    validate_time_zone,
)
from customers.timeline_events import event_summary, is_registered
from inventory.models import Location
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind

# Which identity says most surely who a person is, when identities point at two customers.
IDENTITY_STRENGTH = {IdentityKind.CARD: 4, IdentityKind.PHONE: 3, IdentityKind.EXTERNAL_ID: 2, IdentityKind.EMAIL: 1}

TEXT_FIELDS = (
    "first_name",
    "last_name",
    "middle_name",
    "city",
    "acquisition_campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "notes",
)
CHOICE_FIELDS = {
    "gender": Gender,
    "preferred_channel": ContactChannel,
    "preferred_payment_method": PaymentMethod,
    "acquisition_channel": Channel,
}
PROFILE_FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, "birthday", "preferred_store", "tags", "language", "time_zone")
MAX_DUPLICATE_GROUP = 20


@dataclass(frozen=True)
class IdentityInput:
    """An identity as a client wrote it; ``field`` names the input field in errors."""

    kind: str
    value: str
    system: str = ""
    field: str = ""


@dataclass(frozen=True)
class ConsentChange:
    purpose: str
    granted: bool
    channel: str = ""


@dataclass
class IdentifyResult:
    customer: Customer
    created: bool
    matched: list[IdentityKey] = field(default_factory=list)
    attached: list[IdentityKey] = field(default_factory=list)
    # Fields the client sent that differ from what is known: {field: {"known": .., "given": ..}}.
    conflicts: dict[str, dict] = field(default_factory=dict)
    # Other customers some of the identities belong to: recorded as duplicate candidates.
    duplicates: list[int] = field(default_factory=list)


# --- Helpers ----------------------------------------------------------------------------


def check_active(customer: Customer) -> None:
    """Merged and anonymised profiles are kept as records; nothing about them changes any more."""
    if customer.merged_into_id is not None:
        raise CustomerMerged(details={"customer_id": customer.pk, "merged_into": customer.merged_into_id})
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(details={"customer_id": customer.pk})


def locked_customer(customer: Customer) -> Customer:
    """The customer's row, locked until the caller's transaction ends, and checked to be active."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    check_active(locked)
    return locked


def check_choice(value, choices, field_name: str) -> str:
    if value not in choices.values:
        raise InvalidInput(
            _("%(value)s is not a valid choice for %(field)s.") % {"value": value, "field": field_name},
            details={"field": field_name, "fields": {field_name: [_("Not a valid choice.")]}},
        )
    return value


def _clean_profile(profile: dict) -> dict:
    """Check a profile's values beyond their shape. Empty values mean "not given"."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown profile fields."), details={"fields": {name: [] for name in sorted(unknown)}})
    cleaned: dict = {}
    for name, value in profile.items():
        if value in (None, "", []):
            continue
        if name in TEXT_FIELDS:
            value = str(value).strip()
            if not value:
                continue
        elif name in CHOICE_FIELDS:
            value = check_choice(value, CHOICE_FIELDS[name], name)
        elif name == "birthday":
            if not isinstance(value, datetime.date) or value > timezone.localdate():
                raise InvalidInput(
                    _("The birthday must be a date in the past."),
                    details={"field": "birthday", "fields": {"birthday": [_("Must be a date in the past.")]}},
                )
        elif name == "preferred_store":
            if not isinstance(value, Location):
                raise InvalidInput.for_field("preferred_store", _("Unknown store."))
        elif name == "tags":
            value = sorted({str(tag).strip() for tag in value if str(tag).strip()})
        elif name == "language":
            if value not in dict(settings.LANGUAGES):
                raise InvalidInput.for_field("language", _("%(value)s is not a language of Omni.") % {"value": value})
        elif name == "time_zone":
            try:
                validate_time_zone(value)
            except ValidationError as error:
                raise InvalidInput.for_field("time_zone", error.messages[0])
        cleaned[name] = value
    return cleaned


def _normalise(identities: Sequence[IdentityInput]) -> list[IdentityKey]:
    keys: list[IdentityKey] = []
    for item in identities:
        key = identity_key(item.kind, item.value, system=item.system, field=item.field or item.kind)
        if key not in keys:
            keys.append(key)
    return keys


def _identity_filter(keys: Sequence[IdentityKey]) -> Q:
    condition = Q(pk__in=[])
    for key in keys:
        condition |= Q(kind=key.kind, system=key.system, value=key.value)
    return condition


def _new_identities(customer: Customer, keys: Sequence[IdentityKey]) -> list[Identity]:
    return Identity.objects.bulk_create(
        [
            Identity(
                customer=customer,
                kind=key.kind,
                system=key.system,
                value=key.value,
                match_key=key.match_key,
                reversed_tail=reversed_tail(key.kind, key.value),
            )
            for key in keys
        ]
    )


def timeline_note(
    customer: Customer,
    *,
    kind: str,
    event: str,
    params: dict | None = None,
    actor: Actor,
    channel: str = Channel.SYSTEM,
    **extra,
):
    """An entry the system writes itself on the timeline (internal unless ``direction`` says
    otherwise): an event code of ``customers.timeline_events``, shown in the reader's language."""
    params = params or {}
    return Interaction.objects.create(
        customer=customer,
        channel=channel,
        kind=kind,
        direction=extra.pop("direction", Direction.INTERNAL),
        summary=event_summary(event, params),
        event=event,
        params=params,
        occurred_at=extra.pop("occurred_at", None) or timezone.now(),
        staff=actor.user,
        api_key=actor.api_key,
        **extra,
    )


def ordered_pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _record_duplicates(pairs: dict[tuple[int, int], str]) -> int:
    """Record new duplicate candidates; pairs already known (in any status) are left as they are."""
    pairs = {pair: reason for pair, reason in pairs.items() if pair[0] != pair[1]}
    if not pairs:
        return 0
    condition = Q(pk__in=[])
    for first, second in pairs:
        condition |= Q(first_id=first, second_id=second)
    known = set(DuplicateCandidate.objects.filter(condition).values_list("first_id", "second_id"))
    new = [
        DuplicateCandidate(first_id=first, second_id=second, reason=reason)
        for (first, second), reason in sorted(pairs.items())
        if (first, second) not in known
    ]
    DuplicateCandidate.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- Identify, register, update ---------------------------------------------------------


def customer_identify(
    *,
    identities: Sequence[IdentityInput],
    profile: dict | None = None,
    consents: Sequence[ConsentChange] = (),
    channel: str = Channel.SYSTEM,
    location: Location | None = None,
    actor: Actor = SYSTEM,
    shown: bool = False,
) -> IdentifyResult:
    """Return the customer these identities belong to, or create one. With ``shown`` the answer's
    customer comes with what the API shows of them (store, identities): read again after a
    change, and already so when nothing changed (``selectors.customers_owning``).

    Profile fields that were empty are filled; known values are never overwritten: a differing
    value is reported in ``conflicts``. When the identities belong to several customers, the
    strongest match answers (card, then phone, external id, e-mail) and the others are recorded
    as duplicate candidates. Two concurrent calls with the same identity create one customer:
    the loser of the race hits the unique constraint, rolls back its savepoint and looks again.
    """
    keys = _normalise(identities)
    if not keys:
        raise IdentityRequired()
    profile = _clean_profile(profile or {})
    check_choice(channel, Channel, "channel")
    if not consents and (known := _identify_known(keys, profile)) is not None:
        return known
    for attempt in range(3):
        try:
            with transaction.atomic():
                result = _identify(keys, profile, list(consents), channel, location, actor)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if shown:
        result.customer = selectors.customers_with_identities().get(pk=result.customer.pk)
    return result


def _profile_merge(customer: Customer, profile: dict) -> tuple[dict, dict]:
    """What identify changes in a known profile: ({field: new value} for the fields that were empty,
    and the tags added; {field: {"known", "given"}} for the values that differ from known ones)."""
    filled, conflicts = {}, {}
    for name, value in profile.items():
        current = getattr(customer, name)
        if name == "tags":
            merged = sorted(set(current or []) | set(value))
            if merged != (current or []):
                filled[name] = merged
        elif current in (None, ""):
            filled[name] = value
        elif current != value:
            conflicts[name] = {"known": getattr(current, "pk", current), "given": getattr(value, "pk", value)}
    return filled, conflicts


def _identify_known(keys: list[IdentityKey], profile: dict) -> IdentifyResult | None:
    """The answer, read in one query without a transaction or a lock, when every identity already
    belongs to one customer and the profile sent fills nothing: the usual call of a till or a shop
    for a returning customer writes nothing. None when something may change: the locked path
    decides then. The customer comes with what the API shows (``selectors.customers_owning``)."""
    found = selectors.customers_owning(keys, limit=2)
    if len(found) != 1:
        return None
    customer = found[0]
    own = {IdentityKey(identity.kind, identity.value, identity.system) for identity in customer.identities.all()}
    if any(key not in own for key in keys):
        return None
    filled, conflicts = _profile_merge(customer, profile)
    if filled:
        return None
    return IdentifyResult(customer=customer, created=False, matched=list(keys), conflicts=conflicts)


def _identify(keys, profile, consents, channel, location, actor) -> IdentifyResult:
    found = list(Identity.objects.filter(_identity_filter(keys)).values_list("customer_id", "kind", "system", "value"))
    if not found:
        customer = Customer.objects.create(created_channel=channel, **profile)
        _new_identities(customer, keys)
        if consents:
            consents_record(customer=customer, changes=consents, source_channel=channel, actor=actor, announce=False)
        timeline_note(
            customer,
            kind=InteractionKind.NOTE,
            channel=channel,
            location=location,
            event="customer.created",
            params={"channel": channel},
            actor=actor,
        )
        hooks.customer_created(customer)
        return IdentifyResult(customer=customer, created=True, attached=list(keys))

    matched_by: dict[int, list[IdentityKey]] = defaultdict(list)
    for customer_id, kind, system, value in found:
        matched_by[customer_id].append(IdentityKey(kind, value, system))

    def strength(customer_id: int):
        matches = matched_by[customer_id]
        return (-max(IDENTITY_STRENGTH[key.kind] for key in matches), -len(matches), customer_id)

    chosen_id = min(matched_by, key=strength)
    customer = Customer.objects.select_for_update().get(pk=chosen_id)
    known = {key for matches in matched_by.values() for key in matches}
    new_keys = [key for key in keys if key not in known]
    _new_identities(customer, new_keys)

    filled, conflicts = _profile_merge(customer, profile)
    changed = list(filled)
    for name, value in filled.items():
        setattr(customer, name, value)
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    others = sorted(set(matched_by) - {chosen_id})
    _record_duplicates({ordered_pair(chosen_id, other): DuplicateReason.IDENTIFY_CONFLICT for other in others})
    consented = bool(consents) and bool(
        consents_record(customer=customer, changes=consents, source_channel=channel, actor=actor, announce=False)
    )
    if changed or new_keys or consented:
        hooks.customer_updated(customer)
    return IdentifyResult(
        customer=customer,
        created=False,
        matched=matched_by[chosen_id],
        attached=new_keys,
        conflicts=conflicts,
        duplicates=others,
    )


def customer_register(
    *,
    identities: Sequence[IdentityInput],
    profile: dict,
    consents: Sequence[ConsentChange],
    store: Location | None,
    actor: Actor,
) -> IdentifyResult:
    """Register a customer in a store with the consents they give (or find them if known)."""
    return customer_identify(
        identities=identities,
        profile={"preferred_store": store, **profile},
        consents=consents,
        channel=Channel.STORE,
        location=store,
        actor=actor,
    )


def customer_update(*, customer: Customer, data: dict, actor: Actor = SYSTEM) -> Customer:
    """Change profile fields on purpose (staff or an integration editing the profile).

    A value given as empty clears the field.
    """
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown profile fields."), details={"fields": {name: [] for name in sorted(unknown)}})
    cleaned = _clean_profile(data)
    with transaction.atomic():
        customer = locked_customer(customer)
        before = {}
        for name in data:
            value = cleaned.get(name)
            if value is None:
                value = [] if name == "tags" else (None if name in ("birthday", "preferred_store") else "")
            if getattr(customer, name) != value:
                before[name] = getattr(customer, name)
                setattr(customer, name, value)
        if before:
            customer.save(update_fields=[*before, "updated_at"])
            audit_changes(actor, customer, before, audit_snapshot(customer, before))
            hooks.customer_updated(customer)
    return customer


def identity_attach(*, customer: Customer, kind: str, value: str, system: str = "", actor: Actor = SYSTEM) -> Identity:
    """Give a customer a phone, e-mail, card or external id (the loyalty app issues cards here).

    Attaching what the customer already has changes nothing; what belongs to someone else is
    refused with ``IdentityTaken``.
    """
    key = identity_key(kind, value, system=system)
    with transaction.atomic():
        customer = locked_customer(customer)
        existing = Identity.objects.filter(kind=key.kind, system=key.system, value=key.value).first()
        if existing is not None:
            if existing.customer_id == customer.pk:
                return existing
            raise IdentityTaken(details={"identity": key.as_dict(), "customer_id": existing.customer_id})
        try:
            with transaction.atomic():
                (identity,) = _new_identities(customer, [key])
        except IntegrityError:
            raise IdentityTaken(details={"identity": key.as_dict()})
        customer.save(update_fields=["updated_at"])
        new = f"{identity.system}:{identity.value}" if identity.system else identity.value
        audit_event(actor, customer, AuditKind.IDENTITY_ATTACHED, field="identities", new=new)
        hooks.customer_updated(customer)
    return identity


# --- Consents ---------------------------------------------------------------------------


def _check_consent(change: ConsentChange) -> None:
    check_choice(change.purpose, ConsentPurpose, "purpose")
    if change.purpose == ConsentPurpose.PERSONAL_DATA:
        if change.channel:
            raise InvalidInput.for_field("channel", _("Consent to personal data processing has no channel."))
    else:
        check_choice(change.channel, ContactChannel, "channel")


def consents_record(
    *,
    customer: Customer,
    changes: Sequence[ConsentChange],
    source_channel: str,
    actor: Actor = SYSTEM,
    note: str = "",
    announce: bool = True,
) -> list[ConsentEvent]:
    """Grant or withdraw consents; every change is kept with its time, channel and author.

    Marketing needs consent to personal data processing, given before or in the same call;
    withdrawing that consent withdraws every marketing consent too. Repeating the current answer
    records nothing. A change is announced to ``hooks.customer_updated`` unless ``announce`` is
    false (``customer_identify`` announces its whole call once).
    """
    from customers.errors import ConsentRequired

    for change in changes:
        _check_consent(change)
    check_choice(source_channel, Channel, "source_channel")
    # Personal data first, so marketing granted in the same call sees it.
    ordered = sorted(changes, key=lambda c: c.purpose != ConsentPurpose.PERSONAL_DATA)
    events = []
    with transaction.atomic():
        customer = locked_customer(customer)
        current = {(c.purpose, c.channel): c for c in Consent.objects.filter(customer=customer)}
        now = timezone.now()

        def apply(purpose: str, channel: str, granted: bool) -> None:
            row = current.get((purpose, channel))
            if row is not None and row.granted == granted:
                return
            if row is None:
                row = Consent(customer=customer, purpose=purpose, channel=channel, granted=granted, changed_at=now)
                row.save()
                current[(purpose, channel)] = row
            else:
                row.granted, row.changed_at = granted, now
                row.save(update_fields=["granted", "changed_at", "updated_at"])
            events.append(
                ConsentEvent(
                    customer=customer,
                    purpose=purpose,
                    channel=channel,
                    granted=granted,
                    source_channel=source_channel,
                    note=note[:255],
                    **actor.audit_fields,
                )
            )

        for change in ordered:
            if change.purpose == ConsentPurpose.MARKETING and change.granted:
                personal = current.get((ConsentPurpose.PERSONAL_DATA, ""))
                if personal is None or not personal.granted:
                    raise ConsentRequired(
                        _("Marketing needs the customer's consent to personal data processing first."),
                        details={"purpose": ConsentPurpose.PERSONAL_DATA},
                    )
            apply(change.purpose, change.channel, change.granted)
            if change.purpose == ConsentPurpose.PERSONAL_DATA and not change.granted:
                for (purpose, channel), row in list(current.items()):
                    if purpose == ConsentPurpose.MARKETING and row.granted:
                        apply(purpose, channel, False)
        if events:
            ConsentEvent.objects.bulk_create(events)
            params = {
                "given": [[e.purpose, e.channel] for e in events if e.granted],
                "withdrawn": [[e.purpose, e.channel] for e in events if not e.granted],
            }
            timeline_note(
                customer,
                kind=InteractionKind.CONSENT,
                channel=source_channel,
                event="consents.changed",
                params=params,
                actor=actor,
            )
            if announce:
                hooks.customer_updated(customer)
    return events


# --- Timeline ---------------------------------------------------------------------------


def interaction_record(**fields) -> Interaction:
    """Put a contact on the customer's timeline (a call, a chat message, a store visit, an order...):
    the entry ``interaction_build`` checks and builds from ``fields``, saved.

    What people say is a ``summary``, kept as typed; what the system records is an ``event`` code of
    ``customers.timeline_events`` with its ``params``, rendered in the reader's language."""
    interaction = interaction_build(**fields)
    interaction.save(force_insert=True)
    return interaction


def interaction_build(
    *,
    customer: Customer,
    channel: str,
    kind: str,
    summary: str = "",
    direction: str = Direction.INBOUND,
    details: str = "",
    occurred_at: datetime.datetime | None = None,
    location: Location | None = None,
    subject_type: str = "",
    subject_id: str = "",
    event: str = "",
    params: dict | None = None,
    actor: Actor = SYSTEM,
) -> Interaction:
    """The (unsaved) timeline entry ``interaction_record`` writes, checked, for a caller writing
    it with its own rows in one statement (``omni.core.db.rows_write_together``)."""
    check_choice(channel, Channel, "channel")
    check_choice(kind, InteractionKind, "kind")
    check_choice(direction, Direction, "direction")
    params = params or {}
    if event:
        if not is_registered(event):
            raise InvalidInput.for_field("event", _("Unknown timeline event."))
        summary = event_summary(event, params)
    summary = summary.strip()
    if not summary:
        raise InvalidInput.for_field("summary", _("A contact needs a summary."))
    check_active(customer)
    return Interaction(
        customer=customer,
        channel=channel,
        kind=kind,
        direction=direction,
        summary=summary[:255],
        event=event,
        params=params,
        details=details,
        occurred_at=occurred_at or timezone.now(),
        location=location,
        subject_type=subject_type,
        subject_id=subject_id,
        staff=actor.user,
        api_key=actor.api_key,
    )


# --- Duplicates -------------------------------------------------------------------------


def duplicates_detect() -> int:
    """Find probable duplicates among active customers; return how many new pairs were listed.

    Identities are unique, so the same contact shows up in forms normalisation keeps apart: a
    phone whose national number matches under another country code, an e-mail alias (dots or
    ``+tags`` the provider ignores). Same name and birthday counts too. Staff review the list.
    """
    pairs: dict[tuple[int, int], str] = {}
    active = Customer.objects.active()
    reasons = {IdentityKind.PHONE: DuplicateReason.SAME_PHONE, IdentityKind.EMAIL: DuplicateReason.SAME_EMAIL}
    groups = (
        Identity.objects.filter(kind__in=list(reasons), customer__in=active)
        .exclude(match_key="")
        .values("kind", "match_key")
        .annotate(customers=Count("customer", distinct=True))
        .filter(customers__gt=1)
    )
    condition = Q(pk__in=[])
    for group in groups:
        condition |= Q(kind=group["kind"], match_key=group["match_key"])
    members = defaultdict(set)
    for kind, key, customer_id in Identity.objects.filter(condition).values_list("kind", "match_key", "customer_id"):
        members[(kind, key)].add(customer_id)
    for (kind, _key), ids in members.items():
        _add_pairs(pairs, sorted(ids), reasons[kind])

    named = (
        active.exclude(birthday=None)
        .exclude(last_name="")
        .annotate(last=Lower("last_name"), first=Lower("first_name"))
        .values("last", "first", "birthday")
        .annotate(customers=Count("id"))
        .filter(customers__gt=1)
    )
    condition = Q(pk__in=[])
    for group in named:
        condition |= Q(last=group["last"], first=group["first"], birthday=group["birthday"])
    members = defaultdict(set)
    rows = (
        active.annotate(last=Lower("last_name"), first=Lower("first_name"))
        .filter(condition)
        .values_list("last", "first", "birthday", "pk")
    )
    for last, first, birthday, pk in rows:
        members[(last, first, birthday)].add(pk)
    for ids in members.values():
        _add_pairs(pairs, sorted(ids), DuplicateReason.SAME_NAME_BIRTHDAY)
    with transaction.atomic():
        return _record_duplicates(pairs)


def _add_pairs(pairs: dict, ids: list[int], reason: str) -> None:
    ids = ids[:MAX_DUPLICATE_GROUP]
    for index, first in enumerate(ids):
        for second in ids[index + 1 :]:
            pairs.setdefault((first, second), reason)


def duplicate_dismiss(*, candidate: DuplicateCandidate, actor: Actor = SYSTEM) -> DuplicateCandidate:
    """Staff reviewed the pair: they are two different people."""
    with transaction.atomic():
        candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.status != DuplicateStatus.OPEN:
            raise DuplicateAlreadyReviewed(details={"status": candidate.status, "id": candidate.pk})
        candidate.status = DuplicateStatus.DISMISSED
        candidate.reviewed_by = actor.user
        candidate.reviewed_at = timezone.now()
        candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    return candidate
