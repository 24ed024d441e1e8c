"""Two RFM computations at once (a nightly task and the command, or two beats) leave one row per
customer, neither failing. PostgreSQL only."""

import pytest

from omni.reports.models import CustomerRfm
from omni.reports.rfm import rfm_compute
from tests.orders.test_concurrency import race
from tests.reports.test_rfm import bought

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_computations_write_each_customer_once():
    # given
    ids = [bought(days_ago=n + 1, orders=n % 4 + 1) for n in range(40)]

    # when: six computations start together, half waiting for the one running, half giving up
    outcomes = race(6, lambda i: rfm_compute(wait=i % 2 == 0))

    # then: nothing failed; the waiting ones each wrote every customer, the others wrote or gave up
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert [outcomes[i] for i in (0, 2, 4)] == [40, 40, 40]
    assert {outcomes[i] for i in (1, 3, 5)} <= {40, None}
    assert sorted(CustomerRfm.objects.values_list("customer_id", flat=True)) == sorted(ids)
    assert len(set(CustomerRfm.objects.values_list("computed_at", flat=True))) == 1
