import hashlib
import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


# The audit fields every record of an action carries (``omni.core.actors.Actor.audit_fields``): who did
# it, a staff member or an integration's API key. One definition, so their rules stay alike.


def by_staff_member(verbose_name=None, **options) -> models.ForeignKey:
    """Who did it, when a staff member did."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name or _("by staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )


def by_api_key(verbose_name=None, **options) -> models.ForeignKey:
    """Who did it, when an integration did, with its API key."""
    return models.ForeignKey(
        "omni.ApiKey",
        verbose_name=verbose_name or _("by API key"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )


class AuditKind(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    IDENTITY_ATTACHED = "identity_attached", _("identity attached")
    CASE_ASSIGNED = "case_assigned", _("case assigned")
    CARD_BLOCKED = "card_blocked", _("card blocked")
    PROMO_RELEASED = "promo_released", _("promo code use released")
    MESSAGE_SENT = "message_sent", _("message sent")


class AuditEvent(models.Model):
    """Who changed what: one row per changed field of an object, or one per act that has no field
    (a message sent), written by ``omni.core.audit`` in the transaction of the change. Zulip's
    ``RealmAuditLog`` is the model.

    Values are kept as plain text, not translated (a choice's value, a related object's name at
    the time); the admin shows them in the reader's language. Rows are never edited; only the
    erasure of a customer's personal data empties their values.
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("model"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.BigIntegerField(_("object id"))
    obj = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("event"), max_length=32, choices=AuditKind.choices)
    field_name = models.CharField(_("field"), max_length=64, blank=True)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("change record")
        verbose_name_plural = _("history of changes")
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_event_object_idx")]

    def __str__(self):
        return f"{self.kind} {self.content_type_id}#{self.object_id} {self.field_name}".rstrip()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(TimeStampedModel):
    """A key for one integration (the online shop, the POS, the ERP).

    Only the SHA-256 of the key is stored. Keys are 256 random bits, so a plain digest is as
    safe as a slow password hash here and keeps authentication to one indexed lookup.
    """

    PREFIX_LENGTH = 8

    name = models.CharField(pgettext_lazy("title", "name"), max_length=100, unique=True)
    prefix = models.CharField(
        _("prefix"),
        max_length=PREFIX_LENGTH,
        editable=False,
        help_text=_("The first characters of the key, to tell keys apart."),
    )
    hashed_key = models.CharField(_("hashed key"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("What the key may do, for example catalog:read."))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", "updated_at"])


class NumberSequence(models.Model):
    """A counter per document kind, for numbers that are readable and never repeat."""

    name = models.CharField(pgettext_lazy("title", "name"), max_length=64, primary_key=True)
    last_value = models.BigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self):
        return f"{self.name}: {self.last_value}"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, for its retries.

    A key belongs to one client (an API key or a staff user): two integrations may use the same
    key without meeting. The row is written in the same transaction as the change it answers,
    so a key is recorded if and only if the change happened.
    """

    owner = models.CharField(_("owner"), max_length=64)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    method = models.CharField(_("HTTP method"), max_length=8)
    path = models.CharField(_("path"), max_length=255)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_per_owner")]

    def __str__(self):
        return f"{self.owner}: {self.key}"
