"""The summary at the top of the customer's card: what a cashier or a manager needs at a glance
(identities, consents, preferences, open cases, recent contacts), and the boxes higher apps add
through ``customers.admin.panels.add_customer_card_panel`` (the loyalty balance, the last orders)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.admin.panels import customer_card_panels
from customers.identities import identity_label
from customers.models import ConsentPurpose, ContactChannel, Customer, IdentityKind

RECENT_CONTACTS = 8


def identity_rows(customer: Customer) -> list[dict]:
    """The customer's identities grouped by kind, phones first."""
    order = [IdentityKind.PHONE, IdentityKind.CARD, IdentityKind.EMAIL, IdentityKind.EXTERNAL_ID]
    grouped: dict[str, list[str]] = {kind: [] for kind in order}
    for identity in customer.identities.all():
        label = identity_label(identity.kind, identity.value)
        grouped.setdefault(identity.kind, []).append(f"{identity.system}: {label}" if identity.system else label)
    return [{"label": IdentityKind(kind).label, "values": values} for kind, values in grouped.items() if values]


def consent_chips(customer: Customer) -> list[dict]:
    """Personal data processing and every marketing channel, each granted or not."""
    current = {(c.purpose, c.channel): c.granted for c in customer.consents.all()}
    chips = [
        {
            "label": ConsentPurpose.PERSONAL_DATA.label,
            "granted": current.get((ConsentPurpose.PERSONAL_DATA, ""), False),
        }
    ]
    chips += [
        {"label": channel.label, "granted": current.get((ConsentPurpose.MARKETING, channel.value), False)}
        for channel in ContactChannel
    ]
    return chips


def profile_facts(customer: Customer) -> list[tuple]:
    facts = [
        (_("city"), customer.city),
        (_("birthday"), customer.birthday),
        (_("preferred store"), customer.preferred_store),
        (_("preferred contact channel"), customer.get_preferred_channel_display()),
        (_("preferred payment method"), customer.get_preferred_payment_method_display()),
    ]
    return [(label, value) for label, value in facts if value]


def card_context(request: HttpRequest, customer: Customer, open_cases) -> dict:
    """What the summary template shows."""
    return {
        "identity_rows": identity_rows(customer),
        "consent_chips": consent_chips(customer),
        "preferences": [str(tag) for tag in customer.tags or []],
        "profile_facts": profile_facts(customer),
        "card_panels": customer_card_panels(request, customer),
        "open_cases": open_cases,
        "recent_contacts": list(selectors.timeline(customer)[:RECENT_CONTACTS]),
        "timeline_url": reverse("admin:customers_interaction_changelist") + f"?customer__id__exact={customer.pk}",
        "consents_url": reverse("admin:customers_consentevent_changelist") + f"?customer__id__exact={customer.pk}",
    }
