"""The points ledger, accounts, cards and tiers: the invariants, each with a test that tries to break it."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Identity, IdentityKind, Interaction, InteractionKind
from customers.selectors import customer_lookup
from loyalty import selectors, services
from loyalty.errors import (
    CardBlocked,
    CardNumberTaken,
    InvalidCardNumber,
    InvalidCardStatus,
    InvalidPoints,
    NotEnoughPoints,
    ReasonRequired,
    UnknownCard,
)
from loyalty.models import (
    Account,
    Allocation,
    BonusType,
    CardKind,
    CardStatus,
    EntryKind,
    PointsEntry,
    TierChange,
)
from loyalty.nightly import points_expire_due
from omni.core.actors import Actor
from omni.core.barcodes import is_valid_ean13
from tests.inventory.factories import UserFactory, ean13
from tests.loyalty.factories import NOW, cart, customer, days, give, member

pytestmark = pytest.mark.django_db

STAFF = Actor.system()


def ledger_is_consistent():
    assert selectors.points_discrepancies() == []


def snapshot():
    return (
        PointsEntry.objects.count(),
        Allocation.objects.count(),
        sorted(PointsEntry.objects.values_list("pk", "remaining")),
    )


# --- Accounts and cards -----------------------------------------------------------------


class TestAccountOpen:
    def test_opens_with_a_virtual_card_that_identifies_the_customer(self, settings):
        person = customer()

        account, created = services.account_open(customer=person, now=NOW)

        assert created
        card = account.cards.get()
        assert card.kind == CardKind.VIRTUAL
        assert is_valid_ean13(card.number) and card.number.startswith(settings.LOYALTY_CARD_PREFIX)
        assert customer_lookup("card", card.number) == person
        assert account.tier.name == "Base"
        assert Interaction.objects.filter(customer=person, kind=InteractionKind.POINTS_CHANGE).count() == 1

    def test_welcome_bonus_is_spendable_at_once(self, programme):
        programme.welcome_bonus = 200
        programme.save()

        account = member(now=NOW)

        entry = account.entries.get()
        assert (entry.kind, entry.bonus_type, entry.points) == (EntryKind.BONUS, BonusType.WELCOME, 200)
        assert selectors.balance(account, now=NOW).available == 200
        assert entry.expires_at == NOW + days(365)

    def test_one_account_per_customer(self, programme):
        programme.welcome_bonus = 100
        programme.save()
        person = customer()

        first, created_first = services.account_open(customer=person, now=NOW)
        again, created_again = services.account_open(customer=person, now=NOW)

        assert (created_first, created_again) == (True, False)
        assert first.pk == again.pk
        assert Account.objects.filter(customer=person).count() == 1
        assert PointsEntry.objects.filter(account=first).count() == 1  # one welcome bonus

    def test_physical_card_with_its_printed_number(self):
        number = ean13(123)
        account = member(card_number=number)
        card = account.cards.get()
        assert (card.number, card.kind) == (number, CardKind.PHYSICAL)

    @pytest.mark.parametrize("number", ["4600000001231", "123", "abcdefghijklm"])
    def test_invalid_card_number_is_refused_and_nothing_changes(self, number):
        person = customer()
        with pytest.raises(InvalidCardNumber) as error:
            services.account_open(customer=person, card_number=number)
        assert error.value.status == 400
        assert error.value.details["field"] == "card_number"
        assert not Account.objects.exists()

    @pytest.mark.parametrize("char", ["\u200b", "\u202e", "\ufeff", "\u2028", "\x1c", "\x00"])
    def test_a_card_number_with_an_invisible_character_is_refused_not_cleaned(self, char):
        # Line and file separators (U+2028, U+001C) count as spaces for str.isspace() and were dropped.
        number = ean13(123)
        person = customer()

        with pytest.raises(InvalidCardNumber) as error:
            services.account_open(customer=person, card_number=number[:6] + char + number[6:])

        assert str(error.value.message).startswith("The character U+")
        assert error.value.details["fields"]["card_number"] == [str(error.value.message)]
        assert not Account.objects.exists()
        assert not Identity.objects.filter(kind=IdentityKind.CARD).exists()

    def test_a_card_number_of_full_width_digits_is_refused(self):
        wide = ean13(123).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
        with pytest.raises(InvalidCardNumber):
            services.account_open(customer=customer(), card_number=wide)
        assert not Account.objects.exists()

    def test_a_card_number_typed_in_groups_is_issued(self):
        number = ean13(123)
        account, _created = services.account_open(
            customer=customer(), card_number=f"{number[:4]} {number[4:8]}-{number[8:]}"
        )
        assert account.cards.get().number == number
        assert selectors.card_by_number(f"{number[:4]} {number[4:]}").account == account
        assert selectors.card_by_number(number[:4] + "\u200b" + number[4:]) is None

    def test_card_number_of_someone_else_is_refused(self):
        number = ean13(5)
        member(card_number=number)
        with pytest.raises(CardNumberTaken):
            member(card_number=number)
        assert Account.objects.count() == 1

    def test_generated_numbers_are_unique_and_valid(self):
        numbers = [member().cards.get().number for _ in range(5)]
        assert len(set(numbers)) == 5
        assert all(is_valid_ean13(number) for number in numbers)


class TestCards:
    def test_block_and_replace_keep_the_balance(self):
        account = member()
        give(account, 500)
        card = account.cards.get()

        services.card_block(card=card, reason="Lost")
        new = services.card_replace(card=card, kind=CardKind.PHYSICAL, number=ean13(77))

        card.refresh_from_db()
        assert (card.status, card.replaced_by_id) == (CardStatus.REPLACED, new.pk)
        assert new.account_id == account.pk and new.status == CardStatus.ACTIVE
        assert selectors.balance(account).available == 500
        assert services.account_by_card(new.number) == account
        assert Identity.objects.filter(kind=IdentityKind.CARD, customer=account.customer).count() == 2

    def test_a_blocked_card_cannot_be_used(self):
        account = member()
        card = account.cards.get()
        services.card_block(card=card)
        with pytest.raises(CardBlocked):
            services.account_by_card(card.number)
        with pytest.raises(InvalidCardStatus):
            services.card_block(card=card)

    def test_unknown_card(self):
        with pytest.raises(UnknownCard) as error:
            services.account_by_card(ean13(999))
        assert error.value.status == 404

    def test_a_card_is_replaced_once(self):
        card = member().cards.get()
        services.card_replace(card=card)
        with pytest.raises(InvalidCardStatus):
            services.card_replace(card=card)


# --- Earning, holding, tiers ------------------------------------------------------------


class TestEarn:
    def test_base_tier_earns_its_rate_pending_for_the_holding_period(self):
        account = member()

        earning = services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(600, 400), channel="store", completed_at=NOW
        )

        assert (earning.points, earning.earn_rate, earning.paid_amount) == (50, Decimal("5.00"), Decimal("1000.00"))
        assert earning.spendable_from == NOW + days(14)
        assert earning.expires_at == NOW + days(14 + 365)
        assert selectors.balance(account, now=NOW + days(13)) == selectors.Balance(pending=50)
        later = selectors.balance(account, now=NOW + days(14))
        assert (later.available, later.pending) == (50, 0)
        ledger_is_consistent()

    def test_earning_opens_the_account_automatically(self, programme):
        programme.welcome_bonus = 100
        programme.save()
        person = customer()

        services.points_earn_for_order(customer=person, reference="W-1", lines=cart(100), channel="site")

        account = Account.objects.get(customer=person)
        assert sorted(account.entries.values_list("kind", "points")) == [("bonus", 100), ("earn", 5)]

    def test_each_tier_earns_its_rate(self):
        silver = member()
        services.spend_record(
            customer=silver.customer,
            amount=Decimal("10000"),
            occurred_at=NOW - days(10),
            cause=services.Cause("import", "1"),
        )
        services.tier_recalculate(customer=silver.customer, now=NOW)
        gold = member()
        services.spend_record(
            customer=gold.customer,
            amount=Decimal("60000"),
            occurred_at=NOW - days(10),
            cause=services.Cause("import", "2"),
        )
        services.tier_recalculate(customer=gold.customer, now=NOW)

        earned = {
            name: services.points_earn_for_order(
                customer=account.customer, reference=f"W-{name}", lines=cart(1000), channel="store", completed_at=NOW
            ).points
            for name, account in [("silver", silver), ("gold", gold)]
        }

        assert earned == {"silver": 70, "gold": 100}

    def test_excluded_categories_with_their_descendants_and_products_earn_nothing(self, programme):
        from tests.inventory.factories import CategoryFactory, ProductFactory

        tobacco = CategoryFactory(code="tobacco")
        cigars = CategoryFactory(code="cigars", parent=tobacco)
        gift_card = ProductFactory()
        programme.excluded_categories.add(tobacco)
        programme.excluded_products.add(gift_card)
        shoes = ProductFactory()
        cigar = ProductFactory(category=cigars)
        account = member()

        from tests.loyalty.factories import line

        earning = services.points_earn_for_order(
            customer=account.customer,
            reference="W-1",
            lines=[line(shoes, 1000), line(cigar, 3000), line(gift_card, 5000)],
            channel="store",
            completed_at=NOW,
        )

        assert earning.points == 50
        assert earning.paid_amount == Decimal("9000.00")  # all of it counts for the tier

    def test_the_part_paid_with_points_earns_nothing(self):
        account = member()
        give(account, 300)

        services.points_redeem(
            customer=account.customer, points=300, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )
        earning = services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(1000), channel="site", completed_at=NOW
        )

        assert (earning.paid_amount, earning.points) == (Decimal("700.00"), 35)

    def test_earning_twice_for_one_order_earns_once(self):
        account = member()
        first = services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(1000), channel="site", completed_at=NOW
        )
        again = services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(5000), channel="site", completed_at=NOW
        )
        assert (first.created, again.created, again.points) == (True, False, 50)
        assert account.entries.filter(kind=EntryKind.EARN).count() == 1

    def test_programme_changes_apply_to_new_operations_only(self, programme):
        account = member()
        services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(1000), channel="site", completed_at=NOW
        )
        programme.tiers.filter(name="Base").update(earn_rate=20)
        programme.holding_days = 0
        programme.save()

        services.points_earn_for_order(
            customer=account.customer, reference="W-2", lines=cart(1000), channel="site", completed_at=NOW
        )

        first, second = account.entries.filter(kind=EntryKind.EARN).order_by("id")
        assert (first.points, first.earn_rate, first.spendable_from) == (50, Decimal("5.00"), NOW + days(14))
        assert (second.points, second.earn_rate, second.spendable_from) == (200, Decimal("20.00"), NOW)


class TestTiers:
    def test_tier_goes_up_after_a_purchase_and_down_when_the_spend_leaves_the_period(self):
        from loyalty.nightly import tiers_recalculate_all

        account = member(now=NOW)
        services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(12000), channel="store", completed_at=NOW
        )
        account.refresh_from_db()
        assert account.tier.name == "Silver"

        assert tiers_recalculate_all(now=NOW + days(364)) == 0
        assert tiers_recalculate_all(now=NOW + days(366)) == 1

        account.refresh_from_db()
        assert account.tier.name == "Base"
        history = list(
            TierChange.objects.filter(account=account).order_by("created_at").values_list("new_tier__name", "reason")
        )
        assert history == [("Base", "joined"), ("Silver", "purchase"), ("Base", "nightly")]
        summaries = list(
            Interaction.objects.filter(customer=account.customer, kind=InteractionKind.POINTS_CHANGE)
            .order_by("occurred_at", "id")
            .values_list("summary", flat=True)
        )
        assert summaries[1:] == [
            "Loyalty tier changed from Base to Silver.",
            "Loyalty tier changed from Silver to Base.",
        ]
        assert tiers_recalculate_all(now=NOW + days(366)) == 0  # re-running changes nothing

    def test_a_return_takes_the_tier_back(self):
        account = member(now=NOW)
        services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(6000, 6000), channel="store", completed_at=NOW
        )
        services.points_reverse(
            reference="W-1",
            return_reference="R-1",
            lines=[services.ReturnLine(None, 1, Decimal("6000"))],
            now=NOW + days(2),
        )
        account.refresh_from_db()
        assert account.tier.name == "Base"
        assert TierChange.objects.filter(account=account, reason="return").count() == 1


# --- Spending, FIFO and expiry ----------------------------------------------------------


class TestRedeem:
    def test_spends_the_oldest_points_first_and_records_what_it_consumed(self):
        account = member()
        old = give(account, 100, now=NOW - days(30))
        new = give(account, 100, now=NOW - days(1))

        redemption = services.points_redeem(
            customer=account.customer, points=150, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )

        assert (redemption.points, redemption.value, redemption.created) == (150, Decimal("150.00"), True)
        consumed = dict(Allocation.objects.filter(consumer=redemption.entry).values_list("lot_id", "points"))
        assert consumed == {old.pk: 100, new.pk: 50}
        assert selectors.balance(account, now=NOW).available == 50
        ledger_is_consistent()

    def test_more_than_available_is_refused_and_nothing_changes(self):
        account = member()
        give(account, 100)
        before = snapshot()

        with pytest.raises(NotEnoughPoints) as error:
            services.points_redeem(
                customer=account.customer, points=101, reference="W-1", lines=cart(1000), channel="site", now=NOW
            )

        assert (error.value.status, error.value.code) == (409, "not_enough_points")
        assert error.value.details == {"requested": 101, "available": 100}
        assert snapshot() == before

    def test_pending_and_expired_points_cannot_be_spent(self):
        account = member()
        services.points_earn_for_order(
            customer=account.customer, reference="W-0", lines=cart(2000), channel="site", completed_at=NOW
        )
        give(account, 50, now=NOW - days(400))  # expired 35 days ago
        with pytest.raises(NotEnoughPoints) as error:
            services.points_redeem(
                customer=account.customer, points=10, reference="W-1", lines=cart(1000), channel="site", now=NOW
            )
        assert error.value.details["available"] == 0

    def test_no_more_than_the_programme_share_of_the_order(self):
        from loyalty.errors import ExceedsOrderShare

        account = member()
        give(account, 1000)
        with pytest.raises(ExceedsOrderShare) as error:
            services.points_redeem(
                customer=account.customer, points=301, reference="W-1", lines=cart(1000), channel="site", now=NOW
            )
        assert error.value.details["max_points"] == 300
        assert str(error.value.message) == "At most 300 points may pay for this order (30% of it)."
        assert not account.entries.filter(kind=EntryKind.REDEEM).exists()

    def test_the_same_reference_redeems_once(self):
        account = member()
        give(account, 1000)

        first = services.points_redeem(
            customer=account.customer, points=100, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )
        again = services.points_redeem(
            customer=account.customer, points=100, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )

        assert (first.created, again.created, again.entry.pk) == (True, False, first.entry.pk)
        assert selectors.balance(account, now=NOW).available == 900

    def test_the_same_reference_for_other_points_is_a_conflict(self):
        from loyalty.errors import ReferenceConflict

        account = member()
        give(account, 1000)
        services.points_redeem(
            customer=account.customer, points=100, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )
        with pytest.raises(ReferenceConflict):
            services.points_redeem(
                customer=account.customer, points=200, reference="W-1", lines=cart(1000), channel="site", now=NOW
            )
        assert selectors.balance(account, now=NOW).available == 900

    @pytest.mark.parametrize("points", [-100, 0, 1.5, "100", True, None, 10**13])
    def test_points_must_be_whole_and_positive(self, points):
        account = member()
        give(account, 1000)
        before = snapshot()
        with pytest.raises(InvalidPoints) as error:
            services.points_redeem(
                customer=account.customer, points=points, reference="W-1", lines=cart(1000), channel="site"
            )
        assert error.value.status == 400
        assert error.value.details["field"] == "points"
        assert snapshot() == before


class TestExpiry:
    def test_expires_first_in_first_out_and_exactly_what_is_left(self):
        account = member()
        old = give(account, 100, now=NOW - days(360))
        give(account, 100, now=NOW - days(10))
        services.points_redeem(
            customer=account.customer, points=30, reference="W-1", lines=cart(1000), channel="site", now=NOW
        )

        run = points_expire_due(now=NOW + days(6))

        assert (run.accounts, run.lots, run.points) == (1, 1, 70)
        expiry = account.entries.get(kind=EntryKind.EXPIRY)
        assert expiry.points == -70
        assert list(expiry.allocations.values_list("lot_id", "points")) == [(old.pk, 70)]
        assert selectors.balance(account, now=NOW + days(6)).available == 100
        ledger_is_consistent()

    def test_running_again_changes_nothing(self):
        account = member()
        give(account, 100, now=NOW - days(400))
        points_expire_due(now=NOW)
        before = snapshot()

        run = points_expire_due(now=NOW)

        assert run.accounts == 0
        assert snapshot() == before

    def test_balance_names_the_next_points_to_expire(self):
        account = member()
        give(account, 40, now=NOW - days(300))
        give(account, 60, now=NOW - days(300) + days(0.1))
        give(account, 70, now=NOW - days(200))

        balance = selectors.balance(account, now=NOW)

        assert (balance.available, balance.next_expiry_points) == (170, 100)
        assert balance.next_expiry_at == NOW - days(300) + days(365)
        assert selectors.balance_from_ledger(account, now=NOW) == balance

    def test_expiry_in_batches(self):
        accounts = [member() for _ in range(7)]
        for account in accounts:
            give(account, 10, now=NOW - days(400))
        run = points_expire_due(now=NOW, batch_size=3)
        assert (run.accounts, run.batches, run.points) == (7, 3, 70)
        ledger_is_consistent()


class TestAdjust:
    def test_needs_a_reason(self):
        account = member()
        with pytest.raises(ReasonRequired) as error:
            services.points_adjust(account=account, points=100, reason="  ", actor=STAFF)
        assert error.value.details["field"] == "reason"
        assert not account.entries.exists()

    def test_adds_or_takes_points_and_records_who(self):
        user = UserFactory()
        account = member()
        services.points_adjust(account=account, points=100, reason="Goodwill", actor=Actor(user=user), now=NOW)
        entry = services.points_adjust(account=account, points=-40, reason="Duplicate", actor=Actor(user=user), now=NOW)
        assert (entry.created_by, entry.note, entry.points) == (user, "Duplicate", -40)
        assert selectors.balance(account, now=NOW).available == 60
        with pytest.raises(NotEnoughPoints):
            services.points_adjust(account=account, points=-61, reason="Too much", actor=STAFF, now=NOW)
        ledger_is_consistent()


# --- The ledger's own check -------------------------------------------------------------


class TestCheckPoints:
    def test_clean_ledger(self):
        account = member()
        give(account, 100)
        out = StringIO()
        call_command("check_points", stdout=out)
        assert "match" in out.getvalue()

    def test_a_tampered_lot_is_reported_and_the_command_fails(self):
        account = member()
        lot = give(account, 100)
        PointsEntry.objects.filter(pk=lot.pk).update(remaining=90)
        out = StringIO()
        with pytest.raises(CommandError):
            call_command("check_points", stdout=out)
        assert f"account {account.pk}" in out.getvalue()
        assert selectors.points_discrepancies()[0]["lots"] == [{"lot": lot.pk, "stored": 90, "ledger": 100}]

    def test_the_ledger_explains_every_point_after_a_mixed_history(self):
        account = member()
        give(account, 500, now=NOW - days(380))
        give(account, 300, now=NOW - days(100))
        services.points_earn_for_order(
            customer=account.customer, reference="W-1", lines=cart(2000), channel="store", completed_at=NOW - days(50)
        )
        services.points_redeem(
            customer=account.customer, points=250, reference="W-2", lines=cart(1000), channel="site", now=NOW - days(20)
        )
        points_expire_due(now=NOW)
        services.points_adjust(account=account, points=-10, reason="Fix", actor=STAFF, now=NOW)
        services.points_reverse(reference="W-2", return_reference="C-2", now=NOW)

        ledger_is_consistent()
        assert selectors.balance(account, now=NOW) == selectors.balance_from_ledger(account, now=NOW)
        total = sum(account.entries.values_list("points", flat=True))
        assert total == sum(account.entries.values_list("remaining", flat=True))
