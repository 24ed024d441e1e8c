import os

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and real concurrency.

    They are skipped on SQLite for a quick local run, and must never be skipped in CI.
    """
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    if on_postgres:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the suite on PostgreSQL: set DATABASE_URL=postgresql://...")
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_with_scopes(db):
    """``client_with_scopes("catalog:read")``: an API client authenticated with a fresh key."""
    from rest_framework.test import APIClient

    from omni.core.services import api_key_create

    counter = iter(range(10_000))

    def make(*scopes: str) -> APIClient:
        api_key, raw = api_key_create(name=f"test-key-{next(counter)}", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        client.api_key = api_key
        return client

    return make


@pytest.fixture
def staff_in_role(db):
    """``staff_in_role("Store staff", locations=[store])``: a staff user in a role group."""
    from django.contrib.auth.models import Group

    from tests.inventory.factories import EmployeeFactory

    def make(role: str, *, locations=(), username=None):
        employee = EmployeeFactory(locations=list(locations), **({"user__username": username} if username else {}))
        employee.user.groups.add(Group.objects.get(name=role))
        return employee.user

    return make


@pytest.fixture(autouse=True)
def api_keys_looked_up_afresh():
    """Each server process remembers the API keys it checked for a few seconds; a test starts with
    none remembered, so that its query counts do not depend on the tests before it."""
    from omni.core.api.authentication import forget_checked_api_keys

    forget_checked_api_keys()
    yield
    forget_checked_api_keys()


@pytest.fixture(autouse=True)
def webhook_subscribers_read_afresh():
    """The outbox keeps which event types are wanted for a few seconds per process; a test that
    creates subscriptions directly must not see the previous test's answer."""
    from omni.webhooks.outbox import wanted_forget

    wanted_forget()
    yield
    wanted_forget()


@pytest.fixture(autouse=True)
def language_of_the_test_alone():
    """A request with Accept-Language leaves its language active in the thread (LocaleMiddleware
    activates it and nothing deactivates it), so a test in Russian would make the tests after it
    read Russian: each test starts and ends in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
