"""Loyalty in the admin: every screen loads, calls its service, and respects permissions."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from loyalty import selectors, services
from loyalty.models import Account, Card, CardStatus, EntryKind, PointsEntry, Programme, PromoCode
from omni.core.roles import ADMINISTRATOR, HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from tests.inventory.factories import LocationFactory, ean13
from tests.loyalty.factories import NOW, PromoCodeFactory, cart, customer, give, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return LocationFactory(code="MSK-1")


@pytest.fixture
def login(client, staff_in_role, store):
    def as_role(role: str):
        user = staff_in_role(role, locations=[store])
        client.force_login(user)
        return user

    return as_role


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def account():
    account = member()
    give(account, 500)
    services.points_earn_for_order(customer=account.customer, reference="W-1", lines=cart(1000), channel="store")
    PromoCodeFactory()
    return account


@pytest.mark.parametrize("name", ["programme", "account", "card", "pointsentry", "orderpoints", "promocode"])
def test_every_changelist_loads_for_head_office(client, login, account, name):
    login(HEAD_OFFICE)
    assert client.get(reverse(f"admin:loyalty_{name}_changelist")).status_code == 200


def test_account_page_shows_balances_ledger_and_tools(client, login, account):
    login(HEAD_OFFICE)

    page = client.get(reverse("admin:loyalty_account_change", args=[account.pk])).content.decode()

    assert "500 points available, 50 pending; 500 expire on" in page
    assert "The whole ledger of this account" in page
    assert account.cards.get().number in page
    assert reverse("admin:loyalty_account_adjust", args=[account.pk]) in page
    assert reverse("admin:loyalty_account_issue_card", args=[account.pk]) in page


def test_find_an_account_by_card(client, login, account):
    login(STORE_STAFF)
    number = account.cards.get().number
    phone = account.customer.identities.get(kind="phone").value
    for query in (number, phone):
        response = client.get(reverse("admin:loyalty_account_changelist"), {"q": query})
        assert [row.available_points for row in response.context["cl"].result_list] == [500]


class TestOpenAndCards:
    def test_store_staff_open_an_account_with_a_printed_card(self, client, login, store):
        login(STORE_STAFF)
        person = customer()

        response = client.post(
            reverse("admin:loyalty_account_add"),
            {"customer": person.pk, "channel": "store", "store": store.pk, "card_number": ean13(31)},
        )

        account = Account.objects.get(customer=person)
        assert response.status_code == 302
        assert (account.store, account.cards.get().number) == (store, ean13(31))

    def test_a_bad_card_number_is_shown_and_nothing_is_opened(self, client, login, store):
        login(STORE_STAFF)
        person = customer()
        response = client.post(
            reverse("admin:loyalty_account_add"), {"customer": person.pk, "channel": "store", "card_number": "123"}
        )
        assert response.status_code == 200
        assert any("EAN-13" in message for message in messages_of(response))
        assert not Account.objects.exists()

    def test_issue_block_and_replace_a_card(self, client, login, account, store):
        login(STORE_STAFF)
        client.post(
            reverse("admin:loyalty_account_issue_card", args=[account.pk]),
            {"kind": "physical", "number": ean13(32), "store": store.pk},
        )
        card = Card.objects.get(number=ean13(32))

        client.post(reverse("admin:loyalty_card_changelist"), {"action": "block", "_selected_action": [card.pk]})
        card.refresh_from_db()
        assert card.status == CardStatus.BLOCKED

        client.post(reverse("admin:loyalty_card_replace", args=[card.pk]), {"kind": "physical", "number": ean13(33)})
        card.refresh_from_db()
        assert (card.status, card.replaced_by.number) == (CardStatus.REPLACED, ean13(33))
        assert selectors.balance(account).available == 500


class TestAdjustment:
    def test_needs_its_own_permission(self, client, login, account):
        login(STORE_MANAGER)
        url = reverse("admin:loyalty_account_adjust", args=[account.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"points": 100, "reason": "x"}).status_code == 403
        page = client.get(reverse("admin:loyalty_account_change", args=[account.pk])).content.decode()
        assert url not in page

    def test_head_office_adjusts_with_a_reason(self, client, login, account):
        user = login(HEAD_OFFICE)

        client.post(reverse("admin:loyalty_account_adjust", args=[account.pk]), {"points": -200, "reason": "Duplicate"})

        entry = account.entries.get(kind=EntryKind.ADJUSTMENT)
        assert (entry.points, entry.note, entry.created_by) == (-200, "Duplicate", user)
        assert selectors.balance(account).available == 300

    def test_without_a_reason_nothing_changes(self, client, login, account):
        login(ADMINISTRATOR)
        response = client.post(
            reverse("admin:loyalty_account_adjust", args=[account.pk]), {"points": 100, "reason": ""}
        )
        assert response.status_code == 200
        assert not account.entries.filter(kind=EntryKind.ADJUSTMENT).exists()

    def test_never_below_zero(self, client, login, account):
        login(HEAD_OFFICE)
        response = client.post(
            reverse("admin:loyalty_account_adjust", args=[account.pk]), {"points": -501, "reason": "Too much"}
        )
        assert any("enough points" in message for message in messages_of(response))
        assert selectors.balance(account).available == 500


def test_the_ledger_is_read_only(client, login, account):
    login(ADMINISTRATOR)
    entry = PointsEntry.objects.first()
    assert client.get(reverse("admin:loyalty_pointsentry_add")).status_code == 403
    assert client.post(reverse("admin:loyalty_pointsentry_change", args=[entry.pk]), {"points": 1}).status_code == 403
    assert client.get(reverse("admin:loyalty_pointsentry_delete", args=[entry.pk])).status_code == 403


def test_a_new_active_programme_replaces_the_old_one(client, login, programme):
    login(HEAD_OFFICE)
    response = client.post(
        reverse("admin:loyalty_programme_add"),
        {
            "name": "2027",
            "activate": "on",
            "point_value": "1.00",
            "max_redeem_percent": "50",
            "holding_days": 14,
            "expiry_days": 180,
            "tier_period_days": 365,
            "welcome_bonus": 100,
            "birthday_bonus": 0,
            "tiers-TOTAL_FORMS": 1,
            "tiers-INITIAL_FORMS": 0,
            "tiers-0-name": "Base",
            "tiers-0-min_spend": "0",
            "tiers-0-earn_rate": "3",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
    )
    assert list(Programme.objects.filter(is_active=True).values_list("name", flat=True)) == ["2027"]
    assert services.programme_current().tiers.get().earn_rate == Decimal("3.00")


def test_a_promo_code_with_an_invisible_character_is_refused(client, login):
    login(HEAD_OFFICE)

    response = client.post(
        reverse("admin:loyalty_promocode_add"),
        {
            "code": "SPRING\u200b",
            "kind": "amount",
            "value": "300",
            "valid_from_0": "2026-03-01",
            "valid_from_1": "00:00:00",
            "min_order_total": "1000",
            "is_active": "on",
            "usages-TOTAL_FORMS": 0,
            "usages-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code"] == [
        "The character U+200B ZERO WIDTH SPACE is not allowed here: a code may not contain invisible or control "
        "characters."
    ]
    assert not PromoCode.objects.exists()


def test_promo_code_with_channels_and_its_uses(client, login):
    from loyalty.services import promo_apply

    login(HEAD_OFFICE)
    client.post(
        reverse("admin:loyalty_promocode_add"),
        {
            "code": "spring",
            "kind": "amount",
            "value": "300",
            "valid_from_0": "2026-03-01",
            "valid_from_1": "00:00:00",
            "max_uses": 10,
            "min_order_total": "1000",
            "channels": ["store", "site"],
            "is_active": "on",
            "usages-TOTAL_FORMS": 0,
            "usages-INITIAL_FORMS": 0,
        },
    )
    promo = PromoCode.objects.get()
    assert (promo.code, promo.channels) == ("SPRING", ["store", "site"])
    promo_apply(code="SPRING", reference="W-7", lines=cart(2000), channel="site", now=NOW)
    page = client.get(reverse("admin:loyalty_promocode_change", args=[promo.pk])).content.decode()
    assert "W-7" in page


class TestKpiPage:
    """The loyalty KPIs are the dashboard's loyalty section: the old page sends there with its
    filters, so it takes its stores from the user's locations like every report."""

    URL = "/admin/loyalty/programme/kpis/"

    def test_a_store_manager_asking_for_another_store_is_refused_and_offered_her_own(self, client, login, store):
        login(STORE_MANAGER)
        other = LocationFactory(code="SPB-1")

        response = client.get(self.URL, {"store": other.pk}, follow=True)

        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["store"] == ["Choose one of the stores you work at."]
        assert list(form.fields["store"].queryset) == [store]
        assert "SPB-1" not in response.content.decode()

    def test_store_managers_see_every_kpi_with_its_definition(self, client, login, account):
        login(STORE_MANAGER)

        response = client.get(self.URL, follow=True)

        assert response.redirect_chain[-1][0].startswith(reverse("admin:reports_dashboard_changelist"))
        page = response.content.decode()
        assert "Redemption rate" in page and "points expired in the period" in page
        # participation and the non-members' figures are computed, not promised
        figures = {figure.key: figure for figure in response.context["sections"]["loyalty"]["figures"]}
        assert {"participation_rate", "non_members_average_check", "non_members_purchase_frequency"} <= set(figures)
        assert "orders app" not in page

    def test_store_staff_do_not(self, client, login):
        login(STORE_STAFF)
        assert client.get(self.URL, follow=True).status_code == 403

    def test_the_programme_list_links_to_the_dashboards_loyalty_section(self, client, login):
        link = reverse("admin:reports_dashboard_changelist") + "#section-loyalty"
        login(STORE_MANAGER)
        assert link in client.get(reverse("admin:loyalty_programme_changelist")).content.decode()
        login(STORE_STAFF)
        assert link not in client.get(reverse("admin:loyalty_programme_changelist")).content.decode()


def test_the_ledger_exports_to_csv(client, login, account):
    import csv
    import io

    login(HEAD_OFFICE)
    response = client.get(reverse("admin:loyalty_pointsentry_export_list", args=["csv"]))

    header, *rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    kind, points, cause = header.index("Kind"), header.index("Points"), header.index("Cause ID")
    assert sorted((row[kind], row[points]) for row in rows) == [("bonus", "500"), ("earn", "50")]
    assert {row[cause] for row in rows} >= {"W-1"}


def test_the_customer_page_shows_the_loyalty_balance_and_still_saves(client, login, account):
    login(STORE_STAFF)
    url = reverse("admin:customers_customer_change", args=[account.customer.pk])

    page = client.get(url).content.decode()

    assert "loyalty balance" in page.lower()
    assert account.cards.get().number in page
    assert reverse("admin:loyalty_account_change", args=[account.pk]) in page
    # The panel is display-only: posting the customer's form neither needs nor saves it.
    response = client.post(url, {"first_name": "Renamed", "_continue": "1"})
    assert response.status_code in (200, 302)
    assert selectors.balance(account).available == 500
