"""Customers: one profile per person across every channel, with the whole history of contacts.

Every change goes through ``customers.services`` (and ``customers.merge``,
``customers.personal_data``, ``customers.messaging``); these models hold the data and the
constraints the database keeps under any concurrency.
"""

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omni.core.channels import Channel
from omni.core.models import TimeStampedModel, by_api_key, by_staff_member


class ContactChannel(models.TextChoices):
    """How the customer can be reached, and what a marketing consent names."""

    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("push notification")
    MESSENGER = "messenger", _("messenger")
    CALL = "call", _("phone call")


class MessageChannel(models.TextChoices):
    """The channels a written message can go through."""

    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("push notification")
    MESSENGER = "messenger", _("messenger")


class Gender(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")


class PaymentMethod(models.TextChoices):
    CARD = "card", _("bank card")
    CASH = "cash", _("cash")
    ONLINE = "online", _("online payment")
    ON_DELIVERY = "on_delivery", _("payment on delivery")


def validate_time_zone(value: str) -> None:
    """An IANA time zone name (Europe/Moscow, Asia/Yekaterinburg)."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a time zone name such as Europe/Moscow."), params={"value": value})


class CustomerQuerySet(models.QuerySet):
    def active(self):
        """Profiles that are neither merged into another nor anonymised."""
        return self.filter(merged_into__isnull=True, anonymised_at__isnull=True)


class Customer(TimeStampedModel):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True, db_index=True)
    preferred_store = models.ForeignKey(
        "inventory.Location",
        verbose_name=_("preferred store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    preferred_channel = models.CharField(
        _("preferred contact channel"), max_length=16, choices=ContactChannel.choices, blank=True
    )
    preferred_payment_method = models.CharField(
        _("preferred payment method"), max_length=16, choices=PaymentMethod.choices, blank=True
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        db_default="",  # rows written around the ORM (COPY in the load generators) need no value
        help_text=_("The language messages are written in. Empty: the site's language."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        default="",
        db_default="",
        help_text=_("Where the customer lives, for quiet hours, for example Asia/Yekaterinburg. Empty: the site's."),
    )
    tags = models.JSONField(
        _("preferences"),
        default=list,
        blank=True,
        help_text=_("Short tags: sizes, favourite categories, price range, for example size:M or likes:shoes."),
    )
    notes = models.TextField(_("notes"), blank=True)
    acquisition_channel = models.CharField(_("acquisition channel"), max_length=16, choices=Channel.choices, blank=True)
    acquisition_campaign = models.CharField(_("acquisition campaign"), max_length=200, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=200, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=200, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=200, blank=True)
    created_channel = models.CharField(
        _("created through"), max_length=16, choices=Channel.choices, default=Channel.SYSTEM, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_profiles",
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["last_name", "first_name", "birthday"], name="customer_name_birthday_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_sync_idx"),  # incremental sync
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="customer_not_merged_into_itself"),
        ]
        permissions = [
            ("merge_customer", _("Can merge duplicate customers")),
            ("anonymise_customer", _("Can anonymise customers")),
            ("export_customer_data", _("Can export a customer's personal data")),
        ]

    def __str__(self):
        name = self.full_name
        return f"#{self.pk} {name}" if name else f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    CARD = "card", _("loyalty card")
    EXTERNAL_ID = "external_id", _("external id")


def reversed_tail(kind: str, value: str) -> str:
    """What the last digits of a phone or card are searched in: its digits (letters too for a
    card) from the last one back; empty for e-mails and external ids."""
    if kind == IdentityKind.PHONE:
        return "".join(ch for ch in value if ch.isdigit())[::-1]
    if kind == IdentityKind.CARD:
        return "".join(ch for ch in value.upper() if ch.isalnum())[::-1]
    return ""


class Identity(TimeStampedModel):
    """A phone, e-mail, loyalty card or external account that identifies one customer.

    ``value`` is normalised (``customers.identities``): E.164 phones, lower-cased e-mails.
    ``system`` names where an external id comes from (``shop``, ``telegram``); it is empty for
    the other kinds. ``match_key`` is a looser form used only to find probable duplicates.
    ``reversed_tail`` is a phone's digits or a card number written backwards, so the last digits a
    cashier types are a prefix that an index finds (``customers.selectors.customer_search``).
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="identities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    system = models.CharField(_("system"), max_length=32, blank=True)
    value = models.CharField(_("value"), max_length=254)
    match_key = models.CharField(_("match key"), max_length=254, blank=True, db_index=True, editable=False)
    # db_index on PostgreSQL adds a varchar_pattern_ops index too, which serves LIKE 'prefix%'.
    reversed_tail = models.CharField(_("reversed digits"), max_length=254, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "system", "value"], name="identity_unique_value"),
            models.CheckConstraint(
                condition=(Q(kind="external_id") & ~Q(system="")) | (~Q(kind="external_id") & Q(system="")),
                name="identity_system_only_for_external_ids",
            ),
        ]

    def save(self, *args, **kwargs):
        self.reversed_tail = reversed_tail(self.kind, self.value)
        super().save(*args, **kwargs)

    def __str__(self):
        if self.system:
            return f"{self.get_kind_display()} {self.system}:{self.value}"
        return f"{self.get_kind_display()} {self.value}"


class ConsentPurpose(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("personal data processing")
    MARKETING = "marketing", _("marketing")


class Consent(TimeStampedModel):
    """The current answer of a customer for one purpose and channel.

    Personal data processing has no channel; marketing has one row per channel. The history of
    every grant and withdrawal is ``ConsentEvent``.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=ConsentPurpose.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, blank=True)
    granted = models.BooleanField(_("granted"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["purpose", "channel"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose", "channel"], name="consent_unique_per_channel"),
            models.CheckConstraint(
                condition=(Q(purpose="personal_data") & Q(channel="")) | (Q(purpose="marketing") & ~Q(channel="")),
                name="consent_channel_only_for_marketing",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.channel}: {'+' if self.granted else '-'}"


class ConsentEvent(models.Model):
    """One grant or withdrawal, append-only: when, through which channel and who recorded it."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="consent_events"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=ConsentPurpose.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, blank=True)
    granted = models.BooleanField(_("granted"))
    source_channel = models.CharField(_("recorded through"), max_length=16, choices=Channel.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consent change")
        verbose_name_plural = _("consent history")

    def __str__(self):
        return f"{self.get_purpose_display()} {self.channel}: {'+' if self.granted else '-'}"


class InteractionKind(models.TextChoices):
    ORDER = "order", _("order")
    RETURN = "return", _("return")
    CALL = "call", _("call")
    CHAT_MESSAGE = "chat_message", _("chat message")
    STORE_VISIT = "store_visit", _("store visit")
    MESSAGE_SENT = "message_sent", _("message sent")
    CASE_UPDATE = "case_update", _("case update")
    FEEDBACK = "feedback", _("feedback")
    NOTE = "note", _("note")
    POINTS_CHANGE = "points_change", _("points change")
    CONSENT = "consent", _("consent change")
    MERGE = "merge", _("profiles merged")
    PERSONAL_DATA = "personal_data", _("personal data request")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("from the customer")
    OUTBOUND = "outbound", _("to the customer")
    INTERNAL = "internal", _("internal")


class Interaction(models.Model):
    """One contact on the customer's timeline.

    ``subject_type``/``subject_id`` name what it concerns (``case``/``C-000012``,
    ``order``/``W-2026-000001``) by reference, so customers never imports the apps above it.

    What the system writes itself has an ``event`` code and its ``params``; the sentence is
    rendered in the reader's language when shown (``customers.timeline_events``). ``summary``
    keeps it in the site's language for search and exports, and is what a contact staff or the API
    typed, as typed.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=InteractionKind.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    summary = models.CharField(_("summary"), max_length=255)
    event = models.CharField(_("event"), max_length=64, blank=True)
    params = models.JSONField(_("event parameters"), default=dict, blank=True)
    details = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("time"))
    location = models.ForeignKey(
        "inventory.Location", verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_type = models.CharField(_("concerns"), max_length=32, blank=True)
    subject_id = models.CharField(_("concerns reference"), max_length=64, blank=True)
    staff = by_staff_member(_("staff member"))
    api_key = by_api_key()
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="interaction_subject_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text}"

    @property
    def text(self) -> str:
        """The summary in the active language (an entry without an event code: as stored)."""
        from customers.timeline_events import event_text

        return event_text(self.event, self.params, self.summary)


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")
    WAITING = "waiting", _("waiting for customer")
    RESOLVED = "resolved", _("resolved")


class Case(TimeStampedModel):
    """A question or complaint. Its messages, from any channel, are kept in order."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="cases")
    subject = models.CharField(_("subject"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    channel = models.CharField(_("opened through"), max_length=16, choices=Channel.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    store = models.ForeignKey(
        "inventory.Location", verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return f"{self.number}: {self.subject}"


class CaseMessage(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    body = models.TextField(_("text"))
    author = by_staff_member(_("staff member"))
    api_key = by_api_key()
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")

    def __str__(self):
        return f"{self.case_id}: {self.body[:50]}"


class Feedback(TimeStampedModel):
    """A 0–10 score with a comment about a store or an order."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="feedback"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    store = models.ForeignKey(
        "inventory.Location", verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    case = models.OneToOneField(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [models.CheckConstraint(condition=Q(score__lte=10), name="feedback_score_at_most_ten")]

    def __str__(self):
        return f"{self.score}/10"


class MessagePurpose(models.TextChoices):
    SERVICE = "service", _("service")
    MARKETING = "marketing", _("marketing")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    SENT = "sent", _("sent to the provider")
    STORED = "stored", _("stored, not delivered")
    FAILED = "failed", _("failed")


class Message(TimeStampedModel):
    """The outbox: a message to one customer through one channel.

    Written in the same transaction as the change that causes it and delivered by Celery after
    commit (``customers.messaging``). ``dedupe_key`` (for example the campaign) makes sure a
    customer never receives the same message twice, whatever the channel.
    """

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=64, help_text=_("What the message is, for example order_ready."))
    purpose = models.CharField(_("purpose"), max_length=16, choices=MessagePurpose.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    is_sensitive = models.BooleanField(
        _("holds a secret"),
        default=False,
        help_text=_("The text holds a one-time code: it is erased once the message has been handed over."),
    )
    dedupe_key = models.CharField(_("deduplication key"), max_length=128, blank=True)
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause reference"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    backend = models.CharField(_("backend"), max_length=200, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["status", "created_at"], name="message_status_created_idx"),
            # the service messages' drain (a campaign's pending thousands are not in it)
            models.Index(
                fields=["id"],
                condition=Q(status="pending", purpose="service", attempts=0),
                name="message_service_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "dedupe_key"], condition=~Q(dedupe_key=""), name="message_unique_dedupe_key"
            )
        ]

    def __str__(self):
        return f"{self.kind} → {self.customer_id} ({self.channel})"


class DuplicateReason(models.TextChoices):
    SAME_PHONE = "same_phone", _("same phone number in another form")
    SAME_EMAIL = "same_email", _("same e-mail in another form")
    SAME_NAME_BIRTHDAY = "same_name_birthday", _("same name and birthday")
    IDENTIFY_CONFLICT = "identify_conflict", _("identities sent together belong to both")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("to review")
    MERGED = "merged", _("merged")
    DISMISSED = "dismissed", _("not a duplicate")


class DuplicateCandidate(TimeStampedModel):
    """Two profiles that probably are one person, for staff to review. ``first`` has the lower id."""

    first = models.ForeignKey(Customer, verbose_name=_("first customer"), on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, verbose_name=_("second customer"), on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("match reason"), max_length=24, choices=DuplicateReason.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN, db_index=True
    )
    reviewed_by = by_staff_member(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_unique_pair"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="duplicate_pair_ordered"),
        ]

    def __str__(self):
        return f"#{self.first_id} ~ #{self.second_id} ({self.get_reason_display()})"


class Segment(TimeStampedModel):
    """A group of customers defined by conditions, all of which must hold (``customers.segments``)."""

    name = models.CharField(pgettext_lazy("title", "name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self):
        return self.name


class SegmentCondition(models.Model):
    """One condition of a segment. ``condition`` names an entry of the condition registry."""

    segment = models.ForeignKey(Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="conditions")
    condition = models.CharField(_("condition"), max_length=64)
    value = models.CharField(_("value"), max_length=200, blank=True)
    date_from = models.DateField(_("period start"), null=True, blank=True)
    date_to = models.DateField(_("period end"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("segment condition")
        verbose_name_plural = _("segment conditions")

    def __str__(self):
        return f"{self.condition}={self.value}"
