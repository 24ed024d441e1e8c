"""Points and promo codes stay right when many requests race. PostgreSQL only: SQLite serialises writers."""

import pytest

from loyalty import selectors, services
from loyalty.errors import NotEnoughPoints, PromoExhausted
from loyalty.models import Account, EntryKind, PointsEntry, PromoUsage
from loyalty.nightly import points_expire_due
from loyalty.services import promo_apply
from tests.loyalty.factories import NOW, PromoCodeFactory, cart, customer, days, give, member
from tests.racing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_redemptions_of_100_against_1000_points():
    # given
    account = member()
    give(account, 1000)

    # when
    outcomes = race(
        50,
        lambda i: services.points_redeem(
            customer=account.customer, points=100, reference=f"W-{i}", lines=cart(10_000), channel="site"
        ),
    )

    # then
    accepted = [o for o in outcomes if isinstance(o, services.Redemption)]
    refused = [o for o in outcomes if isinstance(o, NotEnoughPoints)]
    assert len(accepted) == 10, outcomes
    assert len(refused) == 40
    assert all((r.status, r.code) == (409, "not_enough_points") for r in refused)
    assert selectors.balance(account).available == 0
    assert PointsEntry.objects.filter(kind=EntryKind.REDEEM).count() == 10
    assert selectors.points_discrepancies() == []


def test_racing_retries_of_one_reference_redeem_once():
    account = member()
    give(account, 1000)

    outcomes = race(
        10,
        lambda i: services.points_redeem(
            customer=account.customer, points=100, reference="W-1", lines=cart(1000), channel="site"
        ),
    )

    assert all(isinstance(o, services.Redemption) for o in outcomes), outcomes
    assert sum(o.created for o in outcomes) == 1
    assert len({o.entry.pk for o in outcomes}) == 1
    assert selectors.balance(account).available == 900


def test_redemptions_racing_the_nightly_expiry_never_spend_expired_points():
    account = member()
    give(account, 500, now=NOW - days(400))  # already past its expiry, not yet processed
    give(account, 500, now=NOW)

    def act(i):
        if i == 0:
            return points_expire_due(now=NOW)
        return services.points_redeem(
            customer=account.customer, points=100, reference=f"W-{i}", lines=cart(1000), channel="site", now=NOW
        )

    outcomes = race(12, act)

    redeemed = [o for o in outcomes if isinstance(o, services.Redemption)]
    assert len(redeemed) == 5
    assert sum(isinstance(o, NotEnoughPoints) for o in outcomes) == 6
    assert selectors.balance(account, now=NOW).available == 0
    assert -sum(account.entries.filter(kind=EntryKind.EXPIRY).values_list("points", flat=True)) == 500
    assert selectors.points_discrepancies() == []


def test_two_tills_opening_an_account_for_one_customer_open_one():
    person = customer()

    outcomes = race(8, lambda i: services.account_open(customer=person))

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(created for _account, created in outcomes) == 1
    assert Account.objects.filter(customer=person).count() == 1


def test_a_single_use_promo_code_used_by_racing_orders_is_accepted_once():
    promo = PromoCodeFactory(max_uses=1)

    outcomes = race(10, lambda i: promo_apply(code=promo.code, reference=f"W-{i}", lines=cart(1000), channel="site"))

    accepted = [o for o in outcomes if isinstance(o, tuple)]
    assert len(accepted) == 1, outcomes
    assert all(isinstance(o, PromoExhausted) for o in outcomes if not isinstance(o, tuple))
    promo.refresh_from_db()
    assert promo.used_count == 1
    assert PromoUsage.objects.count() == 1


def test_per_customer_limit_holds_under_a_race():
    from loyalty.errors import PromoCustomerLimit

    promo = PromoCodeFactory(max_uses=100, max_uses_per_customer=2)
    person = customer()

    outcomes = race(
        8,
        lambda i: promo_apply(code=promo.code, reference=f"W-{i}", lines=cart(1000), channel="site", customer=person),
    )

    assert sum(isinstance(o, tuple) for o in outcomes) == 2, outcomes
    assert sum(isinstance(o, PromoCustomerLimit) for o in outcomes) == 6
    promo.refresh_from_db()
    assert promo.used_count == 2
