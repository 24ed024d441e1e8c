"""The RFM box on the customer's card: the segment, what it means, the scores and when computed."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from omni.core.roles import STORE_STAFF
from omni.reports.models import CustomerRfm
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import UserFactory
from tests.orders.test_customer_card import card_html, summary_of

pytestmark = pytest.mark.django_db

COMPUTED = datetime.datetime(2026, 12, 4, 2, 45, tzinfo=datetime.UTC)


def box_of(html: str) -> str:
    summary = summary_of(html)
    start = summary.index('id="card-rfm"')
    return summary[start : summary.index("</section>", start)]


def test_a_store_worker_sees_the_segment_its_meaning_the_scores_and_when_in_russian(client, staff_in_role):
    client.force_login(staff_in_role(STORE_STAFF))
    person = CustomerFactory()
    CustomerRfm.objects.create(
        customer=person, recency=2, frequency=5, monetary=4, segment="cant_lose", computed_at=COMPUTED
    )

    box = box_of(card_html(client, person))

    assert "Нельзя потерять" in box
    assert "Были среди лучших покупателей, но давно ничего не покупали." in box
    assert "R&nbsp;2" in box and "F&nbsp;5" in box and "M&nbsp;4" in box
    assert "за последние 24 месяца" in box
    assert "Рассчитано 04.12.2026 05:45" in box  # in Moscow time


def test_in_english_too(client, admin_user):
    client.force_login(admin_user)
    person = CustomerFactory()
    CustomerRfm.objects.create(
        customer=person, recency=5, frequency=5, monetary=5, segment="champions", computed_at=COMPUTED
    )

    box = box_of(card_html(client, person, language="en"))

    assert "Champions" in box and "Bought recently, buy often and spend the most." in box
    assert "in the last 24 months" in box


def test_lost_beyond_the_window_says_so_without_scores(client, admin_user):
    client.force_login(admin_user)
    person = CustomerFactory()
    CustomerRfm.objects.create(customer=person, segment="lost", computed_at=COMPUTED)

    box = box_of(card_html(client, person))

    assert "Потерянные" in box and "Ни одной покупки за последние 24 месяца, поэтому оценок нет." in box
    assert "R&nbsp;" not in box


def test_a_customer_without_scores_gets_a_line_saying_why(client, admin_user):
    client.force_login(admin_user)
    box = box_of(card_html(client, CustomerFactory()))
    assert "Оценок RFM нет: они рассчитываются каждую ночь для покупателей с покупками." in box


def test_staff_who_may_not_see_orders_do_not_see_it(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    client.force_login(user)
    person = CustomerFactory()
    CustomerRfm.objects.create(
        customer=person, recency=5, frequency=5, monetary=5, segment="champions", computed_at=timezone.now()
    )

    assert 'id="card-rfm"' not in summary_of(card_html(client, person))
