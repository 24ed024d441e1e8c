"""Loyalty as the customers app sees it: after anonymisation no card leads to the customer and the
points stay for the reports; the personal data export holds the account, cards, ledger and tier."""

import pytest
from django.urls import reverse

from customers.personal_data import customer_anonymise, customer_data_export
from customers.selectors import customer_lookup
from customers.services import identity_attach
from loyalty import selectors, services
from loyalty.models import PointsEntry
from omni.core.actors import SYSTEM
from omni.core.scopes import Scope
from tests.loyalty.factories import NOW, give, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(programme):
    account = member()
    give(account, 700)
    services.points_adjust(
        account=account, points=-50, reason="Ivan Petrov asked to fix a double bonus", actor=SYSTEM, now=NOW
    )
    identity_attach(customer=account.customer, kind="email", value="ivan@example.com")
    identity_attach(customer=account.customer, kind="external_id", system="shop", value="shop-42")
    return account


def test_after_anonymisation_no_card_or_identity_leads_to_the_customer(account, client_with_scopes):
    customer = account.customer
    card = account.cards.get()
    number, phone = card.number, customer.identities.get(kind="phone").value
    reader = client_with_scopes(Scope.LOYALTY_READ)
    assert reader.get(reverse("api:loyalty:card-detail", kwargs={"number": number})).status_code == 200

    customer_anonymise(customer=customer)

    response = reader.get(reverse("api:loyalty:card-detail", kwargs={"number": number}))
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "unknown_card"
    assert selectors.card_by_number(number) is None
    for kind, value, system in [
        ("phone", phone, ""),
        ("email", "ivan@example.com", ""),
        ("external_id", "shop-42", "shop"),
        ("card", number, ""),
    ]:
        assert customer_lookup(kind, value, system=system) is None, kind
    card.refresh_from_db()
    assert card.status == "blocked" and number not in card.number
    # A new card with the old number can be issued to somebody else.
    assert services.account_open(customer=member().customer, card_number=number) is not None


def test_anonymisation_keeps_the_points_and_erases_the_notes(account):
    before = selectors.balance(account, now=NOW)
    entries = list(PointsEntry.objects.filter(account=account).values_list("pk", "kind", "points", "remaining"))

    customer_anonymise(customer=account.customer)

    assert selectors.balance(account, now=NOW) == before
    assert list(PointsEntry.objects.filter(account=account).values_list("pk", "kind", "points", "remaining")) == entries
    assert not PointsEntry.objects.filter(account=account, note__contains="Ivan").exists()


def test_the_export_holds_the_account_cards_ledger_and_tier(account):
    document = customer_data_export(customer=account.customer)

    loyalty = document["loyalty"]
    card = account.cards.get()
    assert loyalty["account"]["status"] == "active"
    assert loyalty["account"]["tier"] == account.tier.name
    assert loyalty["balance"]["available"] == selectors.balance(account, now=NOW).available == 650
    assert [c["number"] for c in loyalty["cards"]] == [card.number]
    assert sorted(e["points"] for e in loyalty["ledger"]) == sorted(
        PointsEntry.objects.filter(account=account).values_list("points", flat=True)
    )
    assert any(e["note"] == "Ivan Petrov asked to fix a double bonus" for e in loyalty["ledger"])
    assert loyalty["tier_history"][0]["new_tier"] == account.tier.name


def test_the_export_of_a_customer_without_an_account():
    from tests.loyalty.factories import customer

    assert customer_data_export(customer=customer())["loyalty"] is None
