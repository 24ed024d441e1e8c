"""A campaign's texts rendered for one recipient, in the recipient's language.

The texts are Django templates with these placeholders: ``{{ name }}`` (the first name),
``{{ balance }}`` (available points), ``{{ expiring_points }}`` and ``{{ expiring_date }}``
(the next points to expire and their day), ``{{ promo_code }}`` (the recipient's personal
code) and ``{{ unsubscribe_url }}``. A text that does not place the unsubscribe link gets it on
a last line, so that no message goes out without one; by SMS and messenger that line also names
the stop word a reply can unsubscribe with (``omni.marketing.replies``).
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty.selectors import Balance
from omni.core.errors import InvalidInput
from omni.core.formats import format_points
from omni.marketing.models import Campaign
from omni.marketing.replies import REPLY_CHANNELS, reply_word
from omni.marketing.unsubscribe import unsubscribe_token

PLACEHOLDERS = ("name", "balance", "expiring_points", "expiring_date", "promo_code", "unsubscribe_url")
LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class Texts:
    """A campaign's templates, compiled once per batch."""

    subjects: dict[str, Template]
    bodies: dict[str, Template]
    links_placed: dict[str, bool]


VARIABLE = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)")


def _compile(text: str, field: str) -> Template:
    """The text as a template of placeholders only: no tags, which could include other templates."""
    if "{%" in text:
        raise InvalidInput.for_field(field, _("The text may hold placeholders such as {{ name }}, no {% tags %}."))
    unknown = sorted(set(VARIABLE.findall(text)) - set(PLACEHOLDERS))
    if unknown:
        message = _("Unknown placeholders: %(unknown)s. Known: %(known)s.")
        raise InvalidInput.for_field(field, message % {"unknown": ", ".join(unknown), "known": ", ".join(PLACEHOLDERS)})
    try:
        return Template(text)
    except TemplateSyntaxError as exc:
        raise InvalidInput.for_field(field, _("The text is not a valid template: %(error)s") % {"error": exc})


def texts_compile(campaign: Campaign) -> Texts:
    """The campaign's templates; ``InvalidInput`` naming the field when one is not valid."""
    return Texts(
        subjects={lang: _compile(getattr(campaign, f"subject_{lang}"), f"subject_{lang}") for lang in LANGUAGES},
        bodies={lang: _compile(getattr(campaign, f"text_{lang}"), f"text_{lang}") for lang in LANGUAGES},
        links_placed={lang: "unsubscribe_url" in getattr(campaign, f"text_{lang}") for lang in LANGUAGES},
    )


def message_language(customer: Customer) -> str:
    language = customer.language or settings.LANGUAGE_CODE
    return language if language in LANGUAGES else "en"


def unsubscribe_url(*, customer_id: int, channel: str, source: str) -> str:
    token = unsubscribe_token(customer_id=customer_id, channel=channel, source=source)
    return settings.MARKETING_PUBLIC_URL + reverse("marketing-unsubscribe", args=[token])


def placeholders(
    customer: Customer, *, balance: Balance | None, promo_code: str, link: str, language: str
) -> dict[str, str]:
    balance = balance or Balance()
    expiring_date = ""
    if balance.next_expiry_date:
        with translation.override(language):
            expiring_date = date_format(balance.next_expiry_date, "DATE_FORMAT")
    with translation.override(language):
        return {
            "name": customer.first_name or _("customer"),
            "balance": format_points(balance.available),
            "expiring_points": format_points(balance.next_expiry_points),
            "expiring_date": expiring_date,
            "promo_code": promo_code,
            "unsubscribe_url": link,
        }


def unsubscribe_footer(link: str, *, channel: str, language: str) -> str:
    """The last line with the unsubscribe link; where a reply can be read, the stop word too."""
    word = reply_word(language) if channel in REPLY_CHANNELS else ""
    with translation.override(language):
        if word:
            return _("Unsubscribe: %(url)s or reply %(word)s") % {"url": link, "word": word}
        return _("Unsubscribe: %(url)s") % {"url": link}


def render(texts: Texts, *, language: str, values: dict[str, str], channel: str = "") -> tuple[str, str]:
    """The (subject, body) for one recipient through ``channel``."""
    context = Context(values, autoescape=False)
    subject = texts.subjects[language].render(context).strip()
    body = texts.bodies[language].render(context).strip()
    if not texts.links_placed[language]:
        body += "\n" + unsubscribe_footer(values["unsubscribe_url"], channel=channel, language=language)
    return subject, body


def sample_values(campaign: Campaign, *, name: str, language: str) -> dict[str, str]:
    """Placeholders filled with examples, for the preview and the test send."""
    balance = Balance(
        available=1250,
        next_expiry_points=300,
        next_expiry_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10),
    )
    customer = Customer(first_name=name)
    code = "PROMO-EXAMPLE" if campaign.promo_kind else ""
    link = settings.MARKETING_PUBLIC_URL + reverse("marketing-unsubscribe", args=["example"])
    return placeholders(customer, balance=balance, promo_code=code, link=link, language=language)
