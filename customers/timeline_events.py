"""What the system writes on a customer's timeline, as event codes rendered in the reader's language.

An entry stores a code (``case.opened``) and its parameters (``{"number": "C-000012", ...}``);
the sentence is rendered when it is shown, so the API's English and the till's Russian never mix.
Each app registers its own codes with ``register_event`` when it is loaded (customers here, orders
in ``orders.timeline_events``), so customers never imports the apps above it. A parameter may name
a choice (rendered by its label in the reader's language) or an amount of money.

An entry without a code (older rows, contacts typed by staff or sent through the API) is shown
with its stored summary, as typed.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customers.models import CaseStatus, ConsentPurpose, ContactChannel
from omni.core.channels import Channel
from omni.core.formats import format_money

logger = logging.getLogger(__name__)

Converter = Callable[[object], str]


@dataclass(frozen=True)
class TimelineEvent:
    code: str
    template: object  # a lazy string with %(name)s placeholders, or a function of the params
    converters: dict[str, Converter] = field(default_factory=dict)

    def render(self, params: dict) -> str:
        values = dict(params)
        for name, convert in self.converters.items():
            if name in values:
                values[name] = convert(values[name])
        if callable(self.template):
            return str(self.template(values))
        return str(self.template) % values


_events: dict[str, TimelineEvent] = {}


def register_event(code: str, template, **converters: Converter) -> None:
    """Register (or replace) the sentence of an event code; ``converters`` turn a parameter into
    what the sentence shows (``choice_label(OrderStatus)``, ``money_label``)."""
    _events[code] = TimelineEvent(code, template, converters)


def is_registered(code: str) -> bool:
    return code in _events


def event_text(code: str, params: dict | None, fallback: str = "") -> str:
    """The entry's sentence in the active language; ``fallback`` for an unknown code or bad params."""
    event = _events.get(code) if code else None
    if event is None:
        return fallback
    try:
        return event.render(params or {})
    except (KeyError, TypeError, ValueError):
        logger.warning("Timeline event %s could not be rendered with %r.", code, params)
        return fallback


def event_summary(code: str, params: dict) -> str:
    """The sentence in the site's language, stored as the entry's summary (search, exports)."""
    with translation.override(settings.LANGUAGE_CODE):
        return event_text(code, params, code)[:255]


def choice_label(choices: type[models.TextChoices]) -> Converter:
    """A converter showing a stored choice value by its label in the reader's language."""

    def convert(value) -> str:
        try:
            return str(choices(value).label)
        except ValueError:
            return str(value)

    return convert


def money_label(value) -> str:
    """An amount stored as a string ("16560.00"), shown with thousands separators and the currency."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format_money(amount)


def labels_list(choices: type[models.TextChoices]) -> Converter:
    """A list of choice values shown as their labels, comma-separated."""
    label = choice_label(choices)
    return lambda values: ", ".join(label(value) for value in values)


def _consents_sentence(values: dict) -> str:
    parts = []
    if values.get("given"):
        parts.append(_("Consents given: %(list)s.") % {"list": values["given"]})
    if values.get("withdrawn"):
        parts.append(_("Consents withdrawn: %(list)s.") % {"list": values["withdrawn"]})
    return " ".join(str(part) for part in parts)


def _consent_labels(values) -> str:
    """``[["personal_data", ""], ["marketing", "sms"]]`` as "personal data processing, marketing by SMS"."""
    labels = []
    for purpose, channel in values:
        if purpose == ConsentPurpose.PERSONAL_DATA or not channel:
            labels.append(str(choice_label(ConsentPurpose)(purpose)))
        else:
            labels.append(
                str(
                    _("%(purpose)s by %(channel)s")
                    % {
                        "purpose": choice_label(ConsentPurpose)(purpose),
                        "channel": choice_label(ContactChannel)(channel),
                    }
                )
            )
    return ", ".join(labels)


def _register_customer_events() -> None:
    register_event("customer.created", _("Profile created through %(channel)s."), channel=choice_label(Channel))
    register_event("customer.merged", _("Profile #%(merged)d was merged into this one."))
    register_event("consents.changed", _consents_sentence, given=_consent_labels, withdrawn=_consent_labels)
    register_event("personal_data.exported", _("Personal data exported on request."))
    register_event("personal_data.erased", _("Personal data erased on request."))
    register_event("case.opened", _("Case %(number)s opened: %(subject)s"))
    register_event("case.message", _("Message on case %(number)s"))
    register_event("case.status", _("Case %(number)s is now %(status)s."), status=choice_label(CaseStatus))
    register_event("feedback.received", _("Score %(score)d of 10"))
    register_event("message.sent", _("Message sent: %(title)s"))
    register_event("message.stored", _("Message stored, not delivered (no provider configured): %(title)s"))


_register_customer_events()
