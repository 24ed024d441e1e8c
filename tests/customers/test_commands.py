import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from customers.management.commands.generate_customers import bench_phone
from customers.models import Customer, Identity
from customers.selectors import customer_lookup
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_generate_customers_in_batches_with_normalised_identities():
    CustomerFactory()  # ids continue after the existing ones

    call_command("generate_customers", count=20, batch=7, force=True, stdout=io.StringIO())
    call_command("generate_customers", count=5, force=True, stdout=io.StringIO())  # a second run adds new phones

    assert Customer.objects.count() == 26
    assert Identity.objects.filter(kind="phone").count() == 25
    customer = customer_lookup("phone", "8 (999) 000-00-24")
    assert customer is not None
    assert customer_lookup("email", "BENCH24@example.com") == customer
    assert customer.identities.get(kind="phone").match_key == bench_phone(24)[2:]
    # New customers get ids after the generated ones.
    assert CustomerFactory().pk > customer.pk


def test_refuses_a_database_that_is_not_for_benchmarks():
    original = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = "omni"
    try:
        with pytest.raises(CommandError):
            call_command("generate_customers", count=1, stdout=io.StringIO())
    finally:
        connection.settings_dict["NAME"] = original
    assert not Customer.objects.exists()
