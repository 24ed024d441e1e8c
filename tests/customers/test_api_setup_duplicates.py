"""Duplicates over the API: list the pairs, merge two customers, dismiss a pair (customers:merge)."""

import pytest
from django.urls import reverse

from customers.models import Customer, DuplicateCandidate, DuplicateStatus, Identity
from omni.core.scopes import Scope
from tests.customers.factories import CustomerFactory, IdentityFactory
from tests.inventory.api_support import assert_error

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("api:customers:duplicate-list")
MERGE = reverse("api:customers:customer-merge")


def dismiss(pk: int) -> str:
    return reverse("api:customers:duplicate-dismiss", kwargs={"pk": pk})


def state() -> tuple:
    return (
        sorted(Customer.objects.values_list("pk", "merged_into_id")),
        sorted(Identity.objects.values_list("pk", "customer_id")),
        sorted(DuplicateCandidate.objects.values_list("pk", "status")),
    )


@pytest.fixture
def pair():
    first, second = CustomerFactory(first_name="Anna"), CustomerFactory()
    IdentityFactory(customer=first)
    IdentityFactory(customer=second)
    candidate = DuplicateCandidate.objects.create(first=first, second=second, reason="same_name_birthday")
    return first, second, candidate


@pytest.fixture
def merger(client_with_scopes):
    return client_with_scopes(Scope.CUSTOMERS_MERGE, Scope.CUSTOMERS_READ)


def test_list_the_pairs_to_review(merger, pair):
    first, second, candidate = pair
    other = DuplicateCandidate.objects.create(
        first=CustomerFactory(), second=CustomerFactory(), reason="same_phone", status=DuplicateStatus.DISMISSED
    )

    body = merger.get(DUPLICATES).json()

    assert [(c["id"], c["first_id"], c["second_id"], c["status"]) for c in body["results"]] == [
        (candidate.pk, first.pk, second.pk, "open")
    ]
    assert [c["id"] for c in merger.get(DUPLICATES, {"status": "dismissed"}).json()["results"]] == [other.pk]
    assert_error(merger.get(DUPLICATES, {"status": "maybe"}), 400, "invalid")


def test_merge_moves_the_identities_and_closes_the_pair(merger, pair):
    first, second, candidate = pair

    response = merger.post(MERGE, {"survivor_id": first.pk, "merged_id": second.pk})

    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk
    assert len(response.json()["identities"]) == 2
    assert Customer.objects.get(pk=second.pk).merged_into_id == first.pk
    assert Identity.objects.filter(customer=first).count() == 2
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.MERGED


def test_merging_again_is_a_conflict_unless_replayed(merger, pair):
    first, second, _candidate = pair
    body = {"survivor_id": first.pk, "merged_id": second.pk}
    first_response = merger.post(MERGE, body, HTTP_IDEMPOTENCY_KEY="m-1")
    replay = merger.post(MERGE, body, HTTP_IDEMPOTENCY_KEY="m-1")
    before = state()

    assert first_response.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert_error(merger.post(MERGE, body), 409, "customer_merged")
    assert state() == before


@pytest.mark.parametrize(
    "body",
    [
        {"survivor_id": 10**9, "merged_id": "second"},
        {"survivor_id": "first", "merged_id": 10**9},
        {"survivor_id": "first"},
        {"survivor_id": "first", "merged_id": "second", "keep": "all"},
        {"survivor_id": "-1", "merged_id": "second"},
    ],
)
def test_bad_input_is_400_and_merges_nothing(merger, pair, body):
    first, second, _candidate = pair
    ids = {"first": first.pk, "second": second.pk}
    body = {key: ids.get(value, value) for key, value in body.items()}
    before = state()

    assert_error(merger.post(MERGE, body), 400, "invalid")
    assert state() == before


def test_merging_a_customer_with_itself_is_refused(merger, pair):
    first, _second, _candidate = pair
    before = state()

    assert_error(merger.post(MERGE, {"survivor_id": first.pk, "merged_id": first.pk}), 400, "merge_same_customer")
    assert state() == before


def test_dismiss(merger, pair):
    _first, _second, candidate = pair

    response = merger.post(dismiss(candidate.pk))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dismissed"
    assert_error(merger.post(dismiss(candidate.pk)), 409, "already_reviewed")
    assert_error(merger.post(dismiss(10**9)), 404, "not_found")


def test_scopes(client_with_scopes, pair):
    first, second, candidate = pair
    writer = client_with_scopes(Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE)
    before = state()

    assert writer.get(DUPLICATES).status_code == 200
    assert_error(writer.post(MERGE, {"survivor_id": first.pk, "merged_id": second.pk}), 403, "permission_denied")
    assert_error(writer.post(dismiss(candidate.pk)), 403, "permission_denied")
    assert_error(client_with_scopes(Scope.CUSTOMERS_MERGE).get(DUPLICATES), 403, "permission_denied")
    assert state() == before
