"""Finding a customer by the last digits of a phone or card, as cashiers type them."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from customers import selectors, services
from customers.models import Customer, Identity
from customers.services import IdentityInput
from tests.customers.factories import EmailFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def found(query: str) -> set[int]:
    return set(Customer.objects.filter(selectors.customer_search(query)).values_list("pk", flat=True))


def make(phone: str, *more) -> Customer:
    identities = [IdentityInput("phone", phone), *(IdentityInput(kind, value) for kind, value in more)]
    return services.customer_identify(identities=identities).customer


class TestLastDigits:
    @pytest.mark.parametrize("query", ["100-00-02", "1000002", "0002", "00 02", "00-02", " 100 00 02 "])
    def test_the_last_digits_of_a_phone_in_any_grouping(self, query):
        wanted = make("+79161000002")
        other = make("+79161000003")

        result = found(query)

        assert wanted.pk in result
        assert other.pk not in result

    def test_the_last_digits_of_a_card(self):
        wanted = make("+79161000002", ("card", "4600 0000 0777"))
        make("+79161000003", ("card", "460000000778"))

        assert found("0777") == {wanted.pk}
        assert found("00-0777") == {wanted.pk}

    def test_several_customers_may_match_and_e_mails_are_not_searched_by_their_end(self):
        first = make("+79161111234")
        second = make("+79162221234")
        EmailFactory(value="a1234@example.com")

        assert found("12-34") == {first.pk, second.pk}

    @pytest.mark.parametrize("query", ["4-57", "45 7", "5-7"])
    def test_fewer_than_four_digits_match_nothing_by_their_end(self, query):
        make("+79161230457")

        assert found(query) == set()

    def test_a_customer_number_still_finds_the_customer_but_not_with_leading_zeros(self):
        wanted = make("+79161000002")
        make("+79161000003")

        assert found(str(wanted.pk)) == {wanted.pk}
        assert found(f"000{wanted.pk}") - {wanted.pk} == found(f"000{wanted.pk}")

    def test_the_reversed_digits_are_kept_however_the_identity_was_written(self):
        by_service = make("+79161000002", ("card", "4600-0000-0777"), ("email", "ivan@example.com"))
        by_factory = IdentityFactory(value="+79169990011")

        tails = dict(Identity.objects.filter(customer=by_service).values_list("kind", "reversed_tail"))
        assert tails == {"phone": "20000016197", "card": "777000000064", "email": ""}
        assert Identity.objects.get(pk=by_factory.pk).reversed_tail == "11009996197"

    def test_the_migration_fills_the_identities_that_existed_before(self):
        customer = make("+79161000002")
        Identity.objects.update(reversed_tail="")
        migration = importlib.import_module("customers.migrations.0005_search_tail_and_timeline_events")

        migration.fill_reversed_tails(apps, None)

        assert found("0002") >= {customer.pk}
        assert Identity.objects.get(customer=customer).reversed_tail == "20000016197"

    def test_the_admin_search_finds_a_customer_by_the_digits_a_cashier_types(self, client, staff_in_role):
        from tests.inventory.factories import LocationFactory

        client.force_login(staff_in_role("Store staff", locations=[LocationFactory()]))
        wanted = make("+79161000002")
        make("+79161000003")

        response = client.get(reverse("admin:customers_customer_changelist"), {"q": "100-00-02"})

        assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.postgres
def test_postgres_can_answer_the_last_digits_from_an_index():
    """The suffix is a prefix of the reversed digits: LIKE 'prefix%' on the varchar_pattern_ops
    index Django adds for ``db_index``; with sequential scans off the plan must use it."""
    make("+79161000002")
    query = Identity.objects.filter(reversed_tail__startswith="2000001").values("customer_id")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "reversed_tail" in plan and "Index" in plan, plan
