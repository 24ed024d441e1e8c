"""What the loyalty services record in the audit trail, and the history on the card's page."""

import pytest
from django.urls import reverse

from customers.personal_data import customer_anonymise
from loyalty import services
from loyalty.models import CardStatus
from loyalty.services.promo import promo_apply, promo_release
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_events_for
from omni.core.models import AuditKind
from omni.core.roles import STORE_STAFF
from tests.inventory.factories import UserFactory
from tests.loyalty.factories import NOW, PromoCodeFactory, cart, member

pytestmark = pytest.mark.django_db


def rows(obj) -> list[tuple]:
    return [
        (e.kind, e.field_name, e.old_value, e.new_value, e.created_by_id, e.api_key_id)
        for e in audit_events_for(obj).order_by("id")
    ]


def test_card_block_records_the_status_and_the_reason():
    staff = UserFactory()
    card = services.card_issue(account=member())

    services.card_block(card=card, reason="Lost", actor=Actor(user=staff))

    assert rows(card) == [
        (AuditKind.CARD_BLOCKED, "status", CardStatus.ACTIVE, CardStatus.BLOCKED, staff.pk, None),
        (AuditKind.CARD_BLOCKED, "block_reason", "", "Lost", staff.pk, None),
    ]


def test_erasing_the_customers_personal_data_empties_the_cards_history():
    account = member()
    card = services.card_issue(account=account)
    services.card_block(card=card, reason="Lost by Ivan Petrov")

    customer_anonymise(customer=account.customer)

    assert [(field, old, new) for _kind, field, old, new, *_who in rows(card)] == [
        ("status", "", ""),
        ("block_reason", "", ""),
    ]


def test_promo_release_records_each_use_released_once():
    staff = UserFactory()
    promo = PromoCodeFactory()
    usage, _created = promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", now=NOW)

    assert promo_release(reference="W-1", actor=Actor(user=staff)) == 1
    assert promo_release(reference="W-1", actor=SYSTEM) == 0

    assert rows(usage) == [(AuditKind.PROMO_RELEASED, "status", "applied", "released", staff.pk, None)]


def test_the_cards_page_shows_its_history(client, staff_in_role):
    user = staff_in_role(STORE_STAFF, username="olga")
    client.force_login(user)
    card = services.card_issue(account=member())
    services.card_block(card=card, reason="Stolen", actor=Actor(user=user))

    page = client.get(reverse("admin:loyalty_card_change", args=[card.pk])).content.decode()

    history = page[page.index("History of changes") :]
    for text in ["olga", "card blocked", "active", "blocked", "Stolen", "reason for blocking"]:
        assert text in history
