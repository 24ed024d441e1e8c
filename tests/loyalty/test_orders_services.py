"""The services the orders app calls: quote, redeem, earn, reverse (returns and cancellations)."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from loyalty import selectors, services
from loyalty.errors import AccountClosed, NoAccount, ReferenceConflict
from loyalty.models import Account, AccountStatus, EntryKind, OrderPoints, PointsEntry, Programme
from loyalty.services import ReturnLine
from omni.core.money import money
from tests.inventory.factories import ProductFactory
from tests.loyalty.factories import NOW, ProgrammeFactory, cart, customer, days, give, line, member

pytestmark = pytest.mark.django_db


def earn(account, reference="W-1", lines=None, at=NOW, channel="store"):
    return services.points_earn_for_order(
        customer=account.customer, reference=reference, lines=lines or cart(1000), channel=channel, completed_at=at
    )


def redeem(account, points, reference="W-1", lines=None, at=NOW):
    return services.points_redeem(
        customer=account.customer, points=points, reference=reference, lines=lines or cart(1000), channel="site", now=at
    )


def back(amount, product=None):
    return ReturnLine(product.pk if product else None, 1, Decimal(str(amount)))


# --- Quote ------------------------------------------------------------------------------


class TestQuote:
    def test_the_smaller_of_the_balance_and_the_share_of_the_cart(self):
        account = member()
        give(account, 500)

        quote = services.points_quote(customer=account.customer, lines=cart(600, 400), channel="site", now=NOW)

        assert (quote.order_total, quote.available, quote.max_points, quote.max_value) == (
            Decimal("1000.00"),
            500,
            300,
            Decimal("300.00"),
        )
        assert (quote.points_to_earn, quote.tier.name, quote.code_required) == (50, "Base", False)

    def test_limited_by_the_balance(self):
        account = member()
        give(account, 120)
        assert services.points_quote(customer=account.customer, lines=cart(1000), channel="site").max_points == 120

    def test_point_value_counts(self, programme):
        programme.point_value = Decimal("0.50")
        programme.save()
        account = member()
        give(account, 1000)
        quote = services.points_quote(customer=account.customer, lines=cart(1000), channel="site")
        assert (quote.max_points, quote.max_value) == (600, Decimal("300.00"))

    def test_a_customer_without_an_account(self):
        with pytest.raises(NoAccount) as error:
            services.points_quote(customer=customer(), lines=cart(1000), channel="site")
        assert error.value.status == 404


# --- Redeem for an order being placed ----------------------------------------------------


def redeem_new(account, points, reference="W-1"):
    with transaction.atomic():
        return services.points_redeem(
            customer=account.customer,
            points=points,
            reference=reference,
            lines=cart(1000),
            channel="site",
            now=NOW,
            new_reference=True,
        )


class TestRedeemForANewOrder:
    def test_the_account_and_the_programme_active_now_are_read_together(self, programme):
        account = member()
        give(account, 500)
        cheaper = ProgrammeFactory(point_value=Decimal("0.50"), is_active=False)
        services.programme_activate(programme=cheaper)

        with CaptureQueriesContext(connection) as captured:
            redemption = redeem_new(account, 200)

        assert (redemption.points, redemption.value) == (200, Decimal("100.00"))
        assert OrderPoints.objects.get(reference="W-1").redeemed_value == Decimal("100.00")
        if connection.vendor == "postgresql":
            reads = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
            assert 'FROM "loyalty_programme"' in reads[0] and 'FROM "loyalty_account"' in reads[0]

    def test_without_an_active_programme_the_first_one_is_made(self, programme):
        account = member()
        give(account, 500)
        Programme.objects.update(is_active=False)

        redemption = redeem_new(account, 100)

        made = Programme.objects.get(is_active=True)
        assert made.pk != programme.pk
        assert redemption.value == money(100 * made.point_value)

    def test_no_account_or_a_closed_one_is_refused(self):
        with pytest.raises(NoAccount):
            redeem_new(Account(customer=customer()), 10)
        account = member()
        give(account, 500)
        Account.objects.filter(pk=account.pk).update(status=AccountStatus.CLOSED)
        with pytest.raises(AccountClosed):
            redeem_new(account, 10)
        assert not OrderPoints.objects.exists()


# --- Returns and cancellations ----------------------------------------------------------


class TestReverseEarned:
    def test_pending_points_of_returned_goods_are_cancelled(self):
        shoes, socks = ProductFactory(), ProductFactory()
        account = member()
        earn(account, lines=[line(shoes, 600), line(socks, 400)])

        result = services.points_reverse(
            reference="W-1", return_reference="R-1", lines=[back(400, socks)], now=NOW + days(3)
        )

        assert (result.points_cancelled, result.points_taken_back, result.shortfall_points) == (20, 0, 0)
        assert selectors.balance(account, now=NOW + days(3)).pending == 30
        assert selectors.points_discrepancies() == []

    def test_spendable_points_are_taken_back(self):
        account = member()
        earn(account, lines=cart(600, 400))

        result = services.points_reverse(reference="W-1", return_reference="R-1", lines=[back(400)], now=NOW + days(20))

        assert (result.points_cancelled, result.points_taken_back, result.shortfall_points) == (0, 20, 0)
        assert selectors.balance(account, now=NOW + days(20)).available == 30

    def test_points_already_spent_are_a_shortfall_for_the_refund_not_a_negative_balance(self):
        account = member()
        earn(account, lines=cart(2000))  # 100 points
        redeem(account, 100, reference="W-2", at=NOW + days(15))

        result = services.points_reverse(reference="W-1", return_reference="R-1", now=NOW + days(16))

        assert (result.points_taken_back, result.shortfall_points, result.shortfall_value) == (
            0,
            100,
            Decimal("100.00"),
        )
        assert selectors.balance(account, now=NOW + days(16)).available == 0
        assert all(lot.remaining >= 0 for lot in PointsEntry.objects.all())
        assert selectors.points_discrepancies() == []

    def test_other_available_points_are_taken_before_reporting_a_shortfall(self):
        account = member()
        earn(account, lines=cart(2000))  # 100 points
        redeem(account, 100, reference="W-2", at=NOW + days(15))
        give(account, 30, now=NOW + days(15))

        result = services.points_reverse(reference="W-1", return_reference="R-1", now=NOW + days(16))

        assert (result.points_taken_back, result.shortfall_points, result.shortfall_value) == (30, 70, Decimal("70.00"))
        assert selectors.balance(account, now=NOW + days(16)).available == 0

    def test_without_a_shortfall_when_nothing_was_spent(self):
        account = member()
        earn(account, lines=cart(2000))
        result = services.points_reverse(reference="W-1", return_reference="R-1", now=NOW + days(16))
        assert (result.points_taken_back, result.shortfall_points) == (100, 0)
        assert selectors.balance(account, now=NOW + days(16)).available == 0

    def test_excluded_goods_returned_take_back_nothing(self, programme):
        excluded, shoes = ProductFactory(), ProductFactory()
        programme.excluded_products.add(excluded)
        account = member()
        earn(account, lines=[line(shoes, 1000), line(excluded, 1000)])  # 50 points

        result = services.points_reverse(
            reference="W-1", return_reference="R-1", lines=[back(1000, excluded)], now=NOW + days(1)
        )

        assert result.points_cancelled == 0
        assert selectors.balance(account, now=NOW + days(1)).pending == 50

    def test_partial_returns_never_take_back_more_than_was_earned(self):
        account = member()
        earn(account, lines=cart(333.33, 333.33, 333.34))  # 50 points

        taken = [
            services.points_reverse(
                reference="W-1", return_reference=f"R-{i}", lines=[back(amount)], now=NOW + days(1)
            ).points_cancelled
            for i, amount in enumerate(["333.33", "333.33", "333.34", "100"])
        ]

        assert taken == [16, 17, 17, 0]
        assert selectors.balance(account, now=NOW + days(1)).pending == 0

    def test_the_same_return_twice_reverses_once(self):
        account = member()
        earn(account, lines=cart(600, 400))
        first = services.points_reverse(reference="W-1", return_reference="R-1", lines=[back(400)], now=NOW)
        again = services.points_reverse(reference="W-1", return_reference="R-1", lines=[back(400)], now=NOW)
        assert (first.created, again.created, again.points_cancelled) == (True, False, 20)
        assert account.entries.filter(kind=EntryKind.REVERSAL).count() == 1

    def test_an_order_loyalty_never_saw_changes_nothing(self):
        result = services.points_reverse(reference="W-404", return_reference="R-1")
        assert (result.created, result.points_cancelled, result.shortfall_points) == (False, 0, 0)


class TestReverseRedeemed:
    def test_points_spent_come_back_in_proportion_and_never_more_than_spent(self):
        account = member()
        give(account, 1000, now=NOW - days(1))
        redeem(account, 100, lines=cart(333.33, 333.33, 333.34))

        given = [
            services.points_reverse(
                reference="W-1", return_reference=f"R-{i}", lines=[back(amount)], now=NOW + days(1)
            ).points_given_back
            for i, amount in enumerate(["333.33", "333.33", "333.34", "50"])
        ]

        assert given == [33, 33, 34, 0]
        assert selectors.balance(account, now=NOW + days(1)).available == 1000
        order = OrderPoints.objects.get(reference="W-1")
        assert order.points_redeemed_returned == order.points_redeemed == 100

    def test_a_cancellation_gives_back_everything_with_the_expiry_the_points_had(self):
        account = member()
        old = give(account, 100, now=NOW - days(200))
        new = give(account, 500, now=NOW - days(10))
        redemption = redeem(account, 250, lines=cart(1000))

        result = services.points_reverse(reference="W-1", return_reference="CANCEL", now=NOW + days(1))

        assert (result.points_given_back, result.value_given_back) == (250, Decimal("250.00"))
        restored = PointsEntry.objects.filter(kind=EntryKind.REVERSAL, points__gt=0).order_by("expires_at")
        assert [(lot.points, lot.expires_at) for lot in restored] == [(100, old.expires_at), (150, new.expires_at)]
        assert all(lot.reverses_id == redemption.entry.pk for lot in restored)
        assert selectors.balance(account, now=NOW + days(1)).available == 600
        assert selectors.points_discrepancies() == []

    def test_return_of_an_order_paid_partly_with_points(self):
        account = member()
        give(account, 300, now=NOW - days(1))
        redeem(account, 300, lines=cart(500, 500))
        earning = earn(account, lines=cart(500, 500), channel="site")  # 5 % of 700 paid
        assert earning.points == 35

        result = services.points_reverse(reference="W-1", return_reference="R-1", lines=[back(500)], now=NOW + days(2))

        assert (result.points_cancelled, result.points_given_back) == (17, 150)
        balance = selectors.balance(account, now=NOW + days(2))
        assert (balance.available, balance.pending) == (150, 18)


class TestPromoPointsOnEarn:
    def test_extra_points_of_a_promo_code_come_with_the_order_and_leave_with_its_cancellation(self):
        from loyalty.models import PromoKind
        from loyalty.services import promo_apply
        from tests.loyalty.factories import PromoCodeFactory

        account = member()
        promo = PromoCodeFactory(kind=PromoKind.POINTS, value=200)
        promo_apply(
            code=promo.code, reference="W-1", lines=cart(1000), channel="store", customer=account.customer, now=NOW
        )

        earning = earn(account)

        assert earning.points == 250
        bonus = account.entries.get(kind=EntryKind.BONUS)
        assert (bonus.bonus_type, bonus.points, bonus.spendable_from) == ("promo", 200, NOW + days(14))
        result = services.points_reverse(reference="W-1", return_reference="C-1", now=NOW + days(1))
        assert result.points_cancelled == 250
        assert selectors.balance(account, now=NOW + days(1)).pending == 0


def test_a_reference_belongs_to_one_account():
    first, second = member(), member()
    give(first, 500)
    redeem(first, 100)
    with pytest.raises(ReferenceConflict):
        earn(second)
