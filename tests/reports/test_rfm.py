"""RFM scores: quintiles of the customers' own summaries, the named map, the nightly pass in one
statement, and segments that pick customers by them."""

import datetime
import itertools
import random
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from customers.models import Segment, SegmentCondition
from customers.segments import segment_members, validate_condition
from omni.core.errors import InvalidInput
from omni.reports import rfm
from omni.reports.models import CustomerRfm, CustomerSales, RfmSegment
from omni.reports.rfm import SEGMENT_DESCRIPTIONS, SEGMENT_MAP, rfm_compute, segment_for
from omni.reports.tasks import compute_rfm
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC)


def bought(*, days_ago: int = 1, orders: int = 1, revenue: str = "100.00", person=None) -> int:
    """A customer whose summary says they last bought ``days_ago`` days before NOW: their id."""
    person = person or CustomerFactory()
    last = NOW - datetime.timedelta(days=days_ago)
    CustomerSales.objects.create(
        customer=person,
        orders=orders,
        revenue=Decimal(revenue),
        first_completed_at=last - datetime.timedelta(days=orders),
        last_completed_at=last,
        channels=1,
    )
    return person.pk


def scores(ids) -> list[tuple]:
    rows = {row.customer_id: row for row in CustomerRfm.objects.all()}
    return [(rows[pk].recency, rows[pk].frequency, rows[pk].monetary) for pk in ids]


class TestQuintiles:
    def test_ten_customers_fall_two_to_each_fifth_of_each_figure(self):
        # given: recency, frequency and money all rising together
        ids = [bought(days_ago=100 - n, orders=n + 1, revenue=f"{(n + 1) * 10}.00") for n in range(10)]
        # when
        assert rfm_compute(now=NOW) == 10
        # then
        assert scores(ids) == [(q, q, q) for q in (1, 1, 2, 2, 3, 3, 4, 4, 5, 5)]

    def test_each_figure_is_ranked_on_its_own(self):
        # the most recent customer spent the least and bought the least often
        ids = [bought(days_ago=n + 1, orders=10 - n, revenue=f"{(n + 1) * 10}.00") for n in range(5)]
        rfm_compute(now=NOW)
        assert scores(ids) == [(5, 5, 1), (4, 4, 2), (3, 3, 3), (2, 2, 4), (1, 1, 5)]

    @pytest.mark.parametrize("count", [7, 13, 24])
    def test_distinct_figures_score_as_the_databases_own_ntile(self, count):
        # given: figures all different, in an order unrelated to the customers' ids
        figures = list(range(1, count + 1))
        random.Random(count).shuffle(figures)
        for n in figures:
            bought(days_ago=n, orders=n, revenue=f"{n}.00")
        # when
        rfm_compute(now=NOW)
        # then
        for score, figure in (("recency", "last_completed_at"), ("frequency", "orders"), ("monetary", "revenue")):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT customer_id, NTILE(5) OVER (ORDER BY {figure}) FROM omni_customersales")
                ntile = dict(cursor.fetchall())
            assert dict(CustomerRfm.objects.values_list("customer_id", score)) == ntile, score

    def test_customers_with_the_same_figure_share_the_lowest_score_among_them(self):
        # given: six of ten bought once; NTILE alone would spread them over the first three fifths
        orders = [1, 1, 1, 1, 1, 1, 2, 2, 3, 5]
        random.Random(7).shuffle(orders)
        ids = [bought(days_ago=n + 1, orders=count) for n, count in enumerate(orders)]
        # when
        rfm_compute(now=NOW)
        # then: once-buyers F 1, twice F 4 (the 7th and 8th places), more F 5; one revenue for all: M 1
        by_orders = {count: set() for count in orders}
        for count, (_r, f, m) in zip(orders, scores(ids), strict=True):
            by_orders[count].add(f)
            assert m == 1
        assert by_orders == {1: {1}, 2: {4}, 3: {5}, 5: {5}}

    def test_a_same_day_purchase_is_the_same_recency_whatever_the_hour(self):
        ids = [bought(days_ago=30), bought(days_ago=20), bought(days_ago=10), bought(days_ago=1)]
        late = CustomerSales.objects.get(customer_id=ids[3])
        late.last_completed_at -= datetime.timedelta(hours=1)  # same day in Moscow (15:00 then 14:00)
        late.save()
        extra = bought(days_ago=1)
        rfm_compute(now=NOW)
        assert [r for r, _f, _m in scores([*ids, extra])] == [1, 2, 3, 4, 4]

    def test_fewer_than_five_customers_take_the_top_scores(self):
        ids = [bought(days_ago=3 - n, orders=n + 1, revenue=f"{n + 1}00.00") for n in range(3)]
        rfm_compute(now=NOW)
        assert scores(ids) == [(3, 3, 3), (4, 4, 4), (5, 5, 5)]

    def test_a_single_customer_is_the_shops_best_not_lost(self):
        only = bought()
        rfm_compute(now=NOW)
        assert scores([only]) == [(5, 5, 5)]
        assert CustomerRfm.objects.get(customer_id=only).segment == RfmSegment.CHAMPIONS


class TestWindowAndRows:
    def test_a_customer_who_last_bought_before_the_window_is_lost_without_scores_and_ranks_nobody(self):
        # given: 24 months back from 15 June 2026 is 15 June 2024
        ids = [bought(days_ago=n + 1, orders=n + 1) for n in range(5)]
        old_big_spender = bought(days_ago=800, orders=50, revenue="99999.00")
        # when
        rfm_compute(now=NOW)
        # then
        old = CustomerRfm.objects.get(customer_id=old_big_spender)
        assert (old.recency, old.frequency, old.monetary, old.segment) == (None, None, None, RfmSegment.LOST)
        assert [f for _r, f, _m in scores(ids)] == [1, 2, 3, 4, 5]

    @override_settings(REPORTS_RFM_MONTHS=1)
    def test_the_window_is_a_setting(self):
        recent, older = bought(days_ago=10), bought(days_ago=40)
        rfm_compute(now=NOW)
        assert scores([recent]) == [(5, 5, 5)]  # alone in the window: the best of it
        assert CustomerRfm.objects.get(customer_id=older).recency is None

    def test_a_customer_who_never_bought_has_no_row_and_a_stale_row_goes(self):
        # given: a row left by an earlier night for a customer whose orders have since moved (a merge)
        never = CustomerFactory()
        merged = CustomerFactory()
        CustomerRfm.objects.create(
            customer=merged,
            recency=5,
            frequency=5,
            monetary=5,
            segment="champions",
            computed_at=NOW - datetime.timedelta(days=1),
        )
        buyer = bought()
        # when
        rfm_compute(now=NOW)
        # then
        assert list(CustomerRfm.objects.values_list("customer_id", flat=True)) == [buyer]
        assert not CustomerRfm.objects.filter(customer_id__in=[never.pk, merged.pk]).exists()

    def test_running_again_gives_the_same_rows_with_the_new_time(self):
        ids = [bought(days_ago=n * 7 + 1, orders=n % 3 + 1, revenue=f"{n * 37 % 11}00.00") for n in range(12)]
        rfm_compute(now=NOW)
        first = list(
            CustomerRfm.objects.order_by("pk").values_list("pk", "recency", "frequency", "monetary", "segment")
        )
        later = NOW + datetime.timedelta(minutes=5)
        assert rfm_compute(now=later) == 12
        again = list(
            CustomerRfm.objects.order_by("pk").values_list("pk", "recency", "frequency", "monetary", "segment")
        )
        assert again == first and len(again) == len(ids)
        assert set(CustomerRfm.objects.values_list("computed_at", flat=True)) == {later}

    def test_the_computation_is_one_statement_reading_the_summaries(self):
        for n in range(7):
            bought(days_ago=n + 1, orders=n + 1)
        with CaptureQueriesContext(connection) as queries:
            rfm_compute(now=NOW)
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        reading = [sql for sql in statements if CustomerSales._meta.db_table in sql]
        assert len(reading) == 1 and reading[0].lstrip().startswith("INSERT INTO")
        # PostgreSQL adds the lock and the sort memory of the transaction; then the previous rows go
        expected = 4 if connection.vendor == "postgresql" else 2
        assert len(statements) == expected, statements


class TestSegmentMap:
    def test_every_cell_of_the_grid_is_named_and_every_name_is_used_and_explained(self):
        assert set(SEGMENT_MAP) == set(itertools.product(range(1, 6), range(1, 6)))
        assert set(SEGMENT_MAP.values()) == set(RfmSegment)
        assert set(SEGMENT_DESCRIPTIONS) == set(RfmSegment)

    @pytest.mark.parametrize(
        "rfm_scores, name",
        [
            ((5, 5, 5), "champions"),
            ((5, 4, 3), "champions"),  # FM 3.5, rounded up
            ((4, 5, 4), "loyal"),
            ((3, 4, 3), "loyal"),
            ((5, 2, 3), "potential_loyalists"),
            ((5, 1, 1), "new"),
            ((5, 1, 2), "potential_loyalists"),
            ((4, 1, 1), "promising"),
            ((3, 3, 3), "need_attention"),
            ((3, 2, 1), "about_to_sleep"),
            ((2, 3, 4), "at_risk"),
            ((1, 5, 5), "cant_lose"),
            ((2, 5, 4), "cant_lose"),
            ((2, 1, 2), "hibernating"),
            ((1, 2, 2), "hibernating"),
            ((1, 1, 1), "lost"),
        ],
    )
    def test_scores_name_their_segment(self, rfm_scores, name):
        assert segment_for(*rfm_scores) == name

    def test_the_database_names_every_customer_as_the_map_does(self):
        # given: 60 customers with figures scattered over the grid
        rng = random.Random(14)
        for _ in range(60):
            bought(days_ago=rng.randint(1, 700), orders=rng.randint(1, 12), revenue=f"{rng.randint(1, 900)}0.00")
        # when
        rfm_compute(now=NOW)
        # then
        rows = CustomerRfm.objects.all()
        assert len({row.segment for row in rows}) >= 8
        for row in rows:
            assert row.segment == segment_for(row.recency, row.frequency, row.monetary), row


class TestRunningIt:
    def test_the_nightly_task_folds_pending_summary_changes_in_first(self, django_capture_on_commit_callbacks):
        from tests.orders.factories import customer, product, sell, stock, store

        shop, shirt = store(), product("500.00")
        stock(shop, shirt, 5)
        person = customer()
        with django_capture_on_commit_callbacks(execute=False):  # the refresh after commit is not run
            sell(shop, (shirt, 1), person=person)
        assert not CustomerSales.objects.filter(customer=person).exists()

        assert compute_rfm() == 1

        row = CustomerRfm.objects.get(customer=person)
        assert (row.recency, row.frequency, row.monetary, row.segment) == (5, 5, 5, "champions")

    def test_the_command_prints_the_count_per_segment(self, capsys):
        bought(days_ago=1)
        call_command("compute_rfm")
        out = capsys.readouterr().out
        assert "Customers with RFM scores: 1" in out and "  champions: 1" in out and "  lost: 0" in out

    def test_the_customers_personal_data_export_includes_their_scores(self):
        from customers.personal_data import customer_data_export

        scored, never = CustomerFactory(), CustomerFactory()
        bought(person=scored)
        rfm_compute(now=NOW)

        assert customer_data_export(customer=scored)["rfm"] == {
            "segment": "champions",
            "recency": 5,
            "frequency": 5,
            "monetary": 5,
            "computed_at": "2026-06-15T12:00:00Z",  # the document is JSON
        }
        assert customer_data_export(customer=never)["rfm"] is None

    def test_the_beat_runs_it_nightly(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["reports-compute-rfm"]
        assert entry["task"] == "omni.reports.tasks.compute_rfm"
        assert entry["schedule"].hour == {2}

    def test_the_window_starts_the_same_day_months_earlier(self):
        moment = datetime.datetime(2026, 3, 31, 10, tzinfo=rfm.report_timezone())
        assert rfm.months_before(moment, 1) == datetime.datetime(2026, 2, 28, 10, tzinfo=rfm.report_timezone())
        assert rfm.months_before(moment, 24).date() == datetime.date(2024, 3, 31)


def segment_with(*conditions) -> Segment:
    segment = Segment.objects.create(name=f"rfm {Segment.objects.count()}")
    for key, value in conditions:
        SegmentCondition.objects.create(segment=segment, condition=key, value=value)
    return segment


@pytest.fixture
def five_kinds():
    """One customer in each of five segments, written as the nightly pass would."""
    made = {}
    for name, (r, f, m) in {
        "champions": (5, 5, 5),
        "at_risk": (2, 3, 4),
        "cant_lose": (1, 5, 5),
        "new": (5, 1, 1),
        "lost": (1, 1, 1),
    }.items():
        person = CustomerFactory()
        CustomerRfm.objects.create(customer=person, recency=r, frequency=f, monetary=m, segment=name, computed_at=NOW)
        made[name] = person.pk
    made["no purchases"] = CustomerFactory().pk
    return made


class TestSegmentConditions:
    def test_a_segment_of_rfm_segments_holds_their_customers(self, five_kinds):
        segment = segment_with(("reports.rfm_segment", "at_risk, CANT_LOSE"))
        assert set(segment_members(segment).values_list("pk", flat=True)) == {
            five_kinds["at_risk"],
            five_kinds["cant_lose"],
        }

    def test_scores_and_ranges_combine_with_other_conditions(self, five_kinds):
        recent = segment_with(("reports.rfm_recency", "4-5"))
        assert set(segment_members(recent).values_list("pk", flat=True)) == {five_kinds["champions"], five_kinds["new"]}
        big_but_gone = segment_with(("reports.rfm_monetary", "4-5"), ("reports.rfm_recency", "1-2"))
        assert set(segment_members(big_but_gone).values_list("pk", flat=True)) == {
            five_kinds["at_risk"],
            five_kinds["cant_lose"],
        }
        listed = segment_with(("reports.rfm_frequency", "1, 5"))
        assert segment_members(listed).count() == 4

    def test_a_segment_is_one_query_whatever_its_size(self, five_kinds, django_assert_num_queries):
        segment = segment_with(("reports.rfm_segment", "champions,new,lost"), ("reports.rfm_frequency", "1-5"))
        segment = Segment.objects.prefetch_related("conditions").get(pk=segment.pk)
        with django_assert_num_queries(1):  # its conditions are prefetched: the members' query alone
            assert len(list(segment_members(segment))) == 3

    @pytest.mark.parametrize(
        "key, value",
        [
            ("reports.rfm_segment", "champion"),
            ("reports.rfm_segment", "at_risk, sleepy"),
            ("reports.rfm_segment", ","),
            ("reports.rfm_recency", "0"),
            ("reports.rfm_recency", "6"),
            ("reports.rfm_frequency", "5-4"),
            ("reports.rfm_monetary", "high"),
            ("reports.rfm_monetary", "1-"),
        ],
    )
    def test_a_value_it_cannot_use_is_refused_naming_the_field(self, key, value):
        with pytest.raises(InvalidInput) as refused:
            validate_condition(key, value)
        assert refused.value.details == {"field": "value"}

    def test_the_help_lists_every_segment_code(self):
        from customers.segments import condition_types

        help_text = str(condition_types()["reports.rfm_segment"].help_text)
        assert all(code in help_text for code in RfmSegment.values)

    @override_settings(MARKETING_QUIET_START_HOUR=0, MARKETING_QUIET_END_HOUR=0, MARKETING_CONTROL_PERCENT=0)
    def test_a_campaign_to_an_rfm_segment_reaches_its_customers(self):
        from omni.marketing.results import campaign_preview
        from omni.marketing.sending import campaign_run
        from omni.marketing.services import campaign_launch
        from tests.marketing.factories import campaign, member

        # given: five members with consent, the most recent and biggest of them a champion
        people = [member(preferred_channel="email") for _ in range(5)]
        for n, person in enumerate(people):
            bought(person=person, days_ago=50 - n * 10, orders=n + 1, revenue=f"{n + 1}000.00")
        rfm_compute()
        assert set(CustomerRfm.objects.filter(segment="champions").values_list("customer_id", flat=True)) == {
            people[4].pk
        }
        camp = campaign(segment_with(("reports.rfm_segment", "champions")))
        # when
        preview = campaign_preview(camp)
        with mock.patch("omni.marketing.services.enqueue"):
            campaign_launch(campaign=camp)
        with mock.patch("customers.messaging.services._schedule_batch"):
            campaign_run(camp.pk)
        # then
        assert preview.members == 1 and preview.by_channel == {"email": 1}
        assert list(camp.recipients.values_list("customer_id", "status")) == [(people[4].pk, "sent")]
