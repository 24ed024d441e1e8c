"""The daily tasks: set-based, and running them again changes nothing."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Message
from loyalty import selectors, tasks
from loyalty.models import Allocation, BonusType, EntryKind, PointsEntry
from loyalty.nightly import birthday_bonuses_grant, points_expire_due, points_warn_expiring
from tests.customers.factories import CustomerFactory
from tests.loyalty.factories import NOW, customer, days, give, member

pytestmark = pytest.mark.django_db


def state():
    return (
        sorted(PointsEntry.objects.values_list("pk", "points", "remaining", "warned_at")),
        Allocation.objects.count(),
        Message.objects.count(),
    )


class TestExpireTask:
    def test_the_task_expires_due_points(self):
        account = member()
        give(account, 100, now=timezone.now() - days(366))
        give(account, 50, now=timezone.now())

        result = tasks.expire_points.delay().get()

        assert result == {"accounts": 1, "lots": 1, "points": 100}
        assert selectors.balance(account).available == 50
        assert tasks.expire_points.delay().get() == {"accounts": 0, "lots": 0, "points": 0}

    def test_the_number_of_queries_does_not_grow_with_the_accounts(self):
        def expire(n: int, at) -> int:
            for _ in range(n):
                give(member(), 10, now=at - days(400))
            with CaptureQueriesContext(connection) as queries:
                run = points_expire_due(now=at)
            assert run.accounts == n
            return len(queries)

        assert expire(3, NOW) == expire(30, NOW + days(1))


class TestExpiryWarnings:
    def test_customers_are_warned_once_before_their_points_expire(self):
        account = member()
        give(account, 100, now=NOW - days(360))  # expires in 5 days
        give(account, 40, now=NOW - days(359))  # the day after
        give(account, 70, now=NOW - days(100))  # not soon

        assert points_warn_expiring(now=NOW, days=14) == 1

        message = Message.objects.get()
        assert message.kind == "loyalty_points_expiring"
        assert message.customer == account.customer
        assert "140 of your bonus points expire" in message.body
        before = state()
        assert points_warn_expiring(now=NOW, days=14) == 0
        assert points_warn_expiring(now=NOW + days(1), days=14) == 0
        assert state() == before

    def test_new_points_coming_into_the_window_get_their_own_warning(self):
        account = member()
        give(account, 100, now=NOW - days(360))
        points_warn_expiring(now=NOW, days=14)
        give(account, 30, now=NOW - days(350))  # expires in 15 days: tomorrow it is within 14

        assert points_warn_expiring(now=NOW + days(1), days=14) == 1
        assert Message.objects.count() == 2

    def test_a_customer_who_cannot_be_reached_is_skipped_without_failing(self):
        account = member(CustomerFactory())  # no phone, no e-mail
        give(account, 100, now=NOW - days(360))
        assert points_warn_expiring(now=NOW, days=14) == 0
        assert not PointsEntry.objects.filter(warned_at__isnull=True, expires_at__lte=NOW + days(14)).exists()

    def test_the_number_of_queries_does_not_depend_on_the_number_of_lots(self):
        def warn(lots: int, at) -> int:
            account = member()
            for n in range(lots):
                give(account, 10, now=at - days(360) + days(n * 0.1))
            with CaptureQueriesContext(connection) as queries:
                assert points_warn_expiring(now=at, days=14) == 1
            return len(queries)

        assert warn(1, NOW) == warn(10, NOW + days(30))


class TestBirthdayBonus:
    @pytest.fixture(autouse=True)
    def bonus(self, programme):
        programme.birthday_bonus = 500
        programme.save()

    def test_granted_once_a_year(self):
        today = datetime.date(2026, 5, 17)
        hero = member(customer(birthday=datetime.date(1990, 5, 17)))
        member(customer(birthday=datetime.date(1990, 5, 18)))
        member(customer())

        assert birthday_bonuses_grant(today=today) == 1
        before = state()
        assert birthday_bonuses_grant(today=today) == 0
        assert state() == before

        entry = PointsEntry.objects.get(bonus_type=BonusType.BIRTHDAY)
        assert (entry.account_id, entry.points, entry.kind, entry.cause_id) == (hero.pk, 500, EntryKind.BONUS, "2026")
        assert birthday_bonuses_grant(today=datetime.date(2027, 5, 17)) == 1

    def test_born_on_29_february_celebrates_on_the_28th_in_other_years(self):
        member(customer(birthday=datetime.date(2000, 2, 29)))
        assert birthday_bonuses_grant(today=datetime.date(2027, 2, 28)) == 1
        assert birthday_bonuses_grant(today=datetime.date(2028, 2, 28)) == 0
        assert birthday_bonuses_grant(today=datetime.date(2028, 2, 29)) == 1

    def test_nothing_when_the_programme_gives_no_birthday_bonus(self, programme):
        programme.birthday_bonus = 0
        programme.save()
        member(customer(birthday=datetime.date(1990, 5, 17)))
        assert birthday_bonuses_grant(today=datetime.date(2026, 5, 17)) == 0

    def test_in_batches(self):
        for _ in range(5):
            member(customer(birthday=datetime.date(1985, 1, 9)))
        assert birthday_bonuses_grant(today=datetime.date(2026, 1, 9), batch_size=2) == 5


def test_every_task_is_scheduled(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "loyalty.tasks.expire_points",
        "loyalty.tasks.warn_expiring_points",
        "loyalty.tasks.grant_birthday_bonuses",
        "loyalty.tasks.recalculate_tiers",
        "loyalty.tasks.check_points_ledger",
    } <= scheduled


def test_the_ledger_check_task_counts_discrepancies():
    lot = give(member(), 100)
    assert tasks.check_points_ledger.delay().get() == 0
    PointsEntry.objects.filter(pk=lot.pk).update(remaining=1)
    assert tasks.check_points_ledger.delay().get() == 1
