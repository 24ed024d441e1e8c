"""customer.created, customer.updated, customer.merged and points.changed carry the API's shapes."""

import pytest

from customers import merge
from customers.api.serializers import CustomerSerializer
from customers.selectors import customers_with_identities
from customers.services import IdentityInput, customer_identify, customer_update
from loyalty.api.serializers import AccountSerializer
from loyalty.api.views import account_body
from loyalty.models import BonusType
from loyalty.selectors import accounts_for_display
from loyalty.services import Cause, points_bonus
from omni.core.actors import SYSTEM
from tests.loyalty.factories import ProgrammeFactory, customer, member
from tests.webhooks.sources_support import sent_fixture  # noqa: F401 (the fixture "sent")

pytestmark = pytest.mark.django_db


def api_customer(person) -> dict:
    return dict(CustomerSerializer(customers_with_identities().get(pk=person.pk)).data)


def test_created_then_updated_with_the_api_representation(sent):
    person = customer_identify(identities=[IdentityInput("phone", "+79161000002")]).customer
    customer_update(customer=person, data={"first_name": "Olga"})

    created, updated = sent.of("customer.created"), sent.of("customer.updated")
    assert [(e["object_type"], e["object_id"]) for e in created + updated] == [("customer", str(person.pk))] * 2
    assert created[0]["data"]["identities"] == [{"kind": "phone", "system": "", "value": "+79161000002"}]
    assert updated[0]["data"] == api_customer(person) | {
        "updated_at": updated[0]["data"]["updated_at"]
    }  # the API's shape, JSON-ready
    assert updated[0]["data"]["first_name"] == "Olga"


def test_merged_carries_both_ids_and_the_survivor(sent):
    survivor, merged = customer(), customer()
    merge.customer_merge(survivor=survivor, merged=merged, actor=SYSTEM)

    (event,) = sent.of("customer.merged")
    assert event["object_id"] == str(survivor.pk)
    assert (event["data"]["old_id"], event["data"]["new_id"]) == (merged.pk, survivor.pk)
    assert event["data"]["customer"]["id"] == survivor.pk
    assert len(event["data"]["customer"]["identities"]) == 2  # the merged one's phone moved over


def test_points_changed_carries_the_balance(sent):
    ProgrammeFactory()
    account = member()
    sent.events.clear()
    points_bonus(account=account, points=70, bonus_type=BonusType.CAMPAIGN, cause=Cause("test", "p"))

    (event,) = sent.of("points.changed")
    expected = AccountSerializer(account_body(accounts_for_display().get(pk=account.pk))).data
    assert (event["object_type"], event["object_id"]) == ("loyalty_account", str(account.pk))
    assert event["data"]["account_id"] == account.pk
    assert event["data"]["customer_id"] == account.customer_id
    assert event["data"]["available"] == expected["available"] and event["data"]["pending"] == expected["pending"]
    assert event["data"]["available"] >= 70


def test_nothing_is_built_when_nobody_subscribes(sent):
    ProgrammeFactory()
    account = member()
    sent.wanted = False
    sent.events.clear()
    person = customer()
    customer_update(customer=person, data={"first_name": "Olga"})
    points_bonus(account=account, points=5, bonus_type=BonusType.CAMPAIGN, cause=Cause("test", "q"))
    assert sent.events == []
