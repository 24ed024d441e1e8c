"""``loyalty.hooks``: opening an account says so, inside its transaction; an account already open does not."""

import pytest

from loyalty import hooks
from loyalty import services as loyalty
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """The accounts heard of; the registered callbacks keep running, the recording one is gone after the test."""
    monkeypatch.setattr(hooks.account_opened, "_callbacks", dict(hooks.account_opened._callbacks))
    accounts = []

    def account_opened(account):
        accounts.append((account.pk, account.customer_id))

    hooks.register_account_opened(account_opened)
    hooks.register_account_opened(account_opened)  # registering again replaces it
    return accounts


def test_an_account_opened_is_heard_once(heard):
    person = customer()

    account, opened = loyalty.account_open(customer=person)
    loyalty.account_open(customer=person)

    assert opened
    assert heard == [(account.pk, person.pk)]


def test_a_failing_callback_refuses_the_opening(monkeypatch):
    person = customer()
    monkeypatch.setattr(hooks.account_opened, "_callbacks", {})

    def broken(account):
        raise RuntimeError("no")

    hooks.register_account_opened(broken)

    with pytest.raises(RuntimeError):
        loyalty.account_open(customer=person)

    assert not person.loyalty_accounts.exists()
