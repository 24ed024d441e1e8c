"""Each KPI formula on a small data set computed by hand.

March 2026, store A, store B and the site; every point is worth 1.00 until Cid's redemption.
- Ann joined at noon on 1 Jan in store A, Bob on 1 Feb on the site, Cid on 11 Mar in store A: at the
  end of March (1 April, 00:00) that is 89.5, 58.5 and 20.5 days, 56.17 on average.
- Members' orders completed in March at 5 %: Ann W-1 1,000 and W-2 3,000 in store A (50 and 150
  points), Bob W-3 2,000 on the site (100 points); Bob got a 200 point bonus on 1 March (no channel).
  Points earned and granted in March: 500; in store A: 200; on the site: 100.
- Spent in March: Ann 100 points in store A, Bob 60 on the site at 1.00 a point, Cid 40 on the site at
  0.50 a point: 200 points worth 180.00 in 3 purchases; 100 of them on the site.
- Expired in March: the 100 points Bob earned on the site in February 2025.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty import kpis, services
from loyalty.models import Account, PointsEntry
from loyalty.nightly import points_expire_due
from tests.inventory.factories import LocationFactory
from tests.loyalty.factories import cart, give, member

pytestmark = pytest.mark.django_db


def at(month: int, day: int, year: int = 2026) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, 12, 0))


MARCH = {"date_from": datetime.date(2026, 3, 1), "date_to": datetime.date(2026, 3, 31)}


@pytest.fixture
def stores():
    return LocationFactory(code="A"), LocationFactory(code="B")


@pytest.fixture
def data(stores, programme):
    store_a, _store_b = stores
    ann = member(now=at(1, 1), channel="store", store=store_a)
    bob = member(now=at(2, 1), channel="site")
    cid = member(now=at(3, 11), channel="store", store=store_a)

    # Bob's lot earned on the site in Feb 2025 that expires in March 2026.
    old = services.points_earn_for_order(
        customer=bob.customer, reference="W-0", lines=cart(2000), channel="site", completed_at=at(2, 20, 2025)
    )
    assert old.points == 100 and old.expires_at.month == 3

    def earn(account, reference, amount, channel, store, when):
        services.points_earn_for_order(
            customer=account.customer,
            reference=reference,
            lines=cart(amount),
            channel=channel,
            store=store,
            completed_at=when,
        )

    give(ann, 1000, now=at(2, 1))
    give(cid, 1000, now=at(2, 1))
    earn(ann, "W-1", 1000, "store", store_a, at(3, 2))
    earn(ann, "W-2", 3000, "store", store_a, at(3, 3))
    earn(bob, "W-3", 2000, "site", None, at(3, 4))
    give(bob, 200, now=at(3, 1))

    services.points_redeem(
        customer=ann.customer,
        points=100,
        reference="W-4",
        lines=cart(1000),
        channel="store",
        store=store_a,
        now=at(3, 20),
    )
    # Bob's February points have expired by now: he spends from his March bonus.
    points_expire_due(now=at(3, 10))
    services.points_redeem(
        customer=bob.customer, points=60, reference="W-5", lines=cart(1000), channel="site", now=at(3, 21)
    )
    programme.point_value = Decimal("0.50")
    programme.save()
    services.points_redeem(
        customer=cid.customer, points=40, reference="W-6", lines=cart(1000), channel="site", now=at(3, 22)
    )
    # Grants made outside March do not count in it.
    PointsEntry.objects.filter(cause_type="test").exclude(account=bob).update(created_at=at(2, 1))
    return ann, bob, cid


def figure(key: str, **period) -> kpis.Kpi:
    return next(kpi for kpi in kpis.loyalty_kpis(kpis.Period(**{**MARCH, **period})) if kpi.key == key)


def test_refunds_paid_in_points_are_not_points_earned(data):
    ann = data[0]
    services.points_bonus(
        account=ann, points=999, bonus_type="refund", cause=services.Cause("refund", "R-1"), now=at(3, 25)
    )
    assert figure("redemption_rate").denominator == 500


def test_redemption_rate(data):
    kpi = figure("redemption_rate")
    assert (kpi.numerator, kpi.denominator) == (200, 500)  # 100 + 60 + 40 ÷ 50 + 150 + 100 + 200
    assert kpi.value == Decimal("40.00")


def test_redemption_rate_by_store_and_channel(data, stores):
    store_a, store_b = stores
    kpi = figure("redemption_rate", store_id=store_a.pk)
    assert (kpi.numerator, kpi.denominator, kpi.value) == (100, 200, Decimal("50.00"))
    site = figure("redemption_rate", channel="site")
    assert (site.numerator, site.denominator, site.value) == (100, 100, Decimal("100.00"))
    assert figure("redemption_rate", store_id=store_b.pk).value is None  # nothing earned there


def test_breakage_rate(data):
    kpi = figure("breakage_rate")
    assert (kpi.numerator, kpi.denominator, kpi.value) == (100, 500, Decimal("20.00"))
    site = figure("breakage_rate", channel="site")
    assert (site.numerator, site.denominator, site.value) == (100, 100, Decimal("100.00"))
    assert figure("breakage_rate", channel="store").numerator == 0


def test_average_points_per_redemption(data):
    kpi = figure("average_redemption")
    assert (kpi.numerator, kpi.denominator, kpi.value) == (200, 3, Decimal("66.67"))


def test_cost_per_point(data):
    kpi = figure("cost_per_point")
    # 100 × 1.00 + 60 × 1.00 + 40 × 0.50 = 180.00 for 200 points
    assert (kpi.numerator, kpi.denominator, kpi.value) == (Decimal("180.00"), 200, Decimal("0.90"))


def test_tenure(data, stores):
    kpi = figure("tenure")
    # to 1 April 00:00 from noon of 1 Jan, 1 Feb and 11 Mar: 89.5, 58.5 and 20.5 days
    assert (kpi.denominator, kpi.value) == (3, Decimal("56.17"))
    assert figure("tenure", store_id=stores[0].pk).value == Decimal("55.00")  # (89.5 + 20.5) / 2


def test_every_kpi_has_its_formula():
    assert all(kpi.formula and kpi.label for kpi in kpis.loyalty_kpis(kpis.Period(**MARCH)))
    assert Account.objects.count() == 0


def test_loyalty_computes_from_its_ledger_only(data, django_assert_num_queries):
    # the figures that need every customer's orders are the dashboard's; none is a placeholder here.
    # Three queries: the accounts (tenure), the period's entries once for every rate, the expiries.
    with django_assert_num_queries(3) as captured:
        figures = kpis.loyalty_kpis(kpis.Period(**MARCH))

    assert [kpi.key for kpi in figures] == [
        "tenure",
        "redemption_rate",
        "breakage_rate",
        "average_redemption",
        "cost_per_point",
    ]
    assert all(kpi.value is not None for kpi in figures)
    assert not any("loyalty_orderpoints" in query["sql"] for query in captured.captured_queries)
