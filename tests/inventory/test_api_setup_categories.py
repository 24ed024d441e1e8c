"""The category tree over the API: list, create, rename, move — through ``inventory.categories``."""

import pytest
from django.urls import reverse

from inventory.models import Category
from omni.core.scopes import Scope
from tests.inventory.api_support import assert_error
from tests.inventory.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATEGORIES = reverse("api:inventory:category-list")


def detail(code: str) -> str:
    return reverse("api:inventory:category-detail", kwargs={"code": code})


def tree() -> list:
    return sorted(Category.objects.values_list("code", "name", "parent__code"), key=str)


@pytest.fixture
def kitchen():
    kitchen = CategoryFactory(code="kitchen", name="Kitchen", parent=None)
    cups = CategoryFactory(code="cups", name="Cups", parent=kitchen)
    CategoryFactory(code="mugs", name="Mugs", parent=cups)
    CategoryFactory(code="garden", name="Garden", parent=None)
    return kitchen


@pytest.fixture
def writer(client_with_scopes):
    return client_with_scopes(Scope.CATALOG_WRITE, Scope.CATALOG_READ)


def test_the_tree_with_parents_and_children(writer, kitchen):
    body = writer.get(CATEGORIES).json()

    assert [(c["code"], c["parent"], c["children"]) for c in body["results"]] == [
        ("cups", "kitchen", ["mugs"]),
        ("garden", None, []),
        ("kitchen", None, ["cups"]),
        ("mugs", "cups", []),
    ]


def test_create_under_a_parent(writer, kitchen):
    response = writer.post(CATEGORIES, {"code": "pans", "name": "Pans", "parent": "kitchen"})

    assert response.status_code == 201, response.content
    assert response.json()["parent"] == "kitchen"
    assert Category.objects.get(code="pans").parent == kitchen
    assert "pans" in writer.get(detail("kitchen")).json()["children"]


def test_rename_and_move(writer, kitchen):
    response = writer.patch(detail("cups"), {"name": "Cups & mugs", "parent": "garden"})

    assert response.status_code == 200, response.content
    cups = Category.objects.get(code="cups")
    assert (cups.name, cups.parent.code) == ("Cups & mugs", "garden")
    assert writer.patch(detail("cups"), {"parent": None}).json()["parent"] is None


@pytest.mark.parametrize(
    "code, body, error",
    [
        ("kitchen", {"parent": "mugs"}, "invalid"),  # under its own subtree
        ("kitchen", {"parent": "kitchen"}, "invalid"),
        ("cups", {"parent": "nowhere"}, "unknown_category"),
        ("cups", {"name": "  "}, "invalid"),
        ("cups", {"code": "renamed"}, "invalid"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(writer, kitchen, code, body, error):
    before = tree()

    assert_error(writer.patch(detail(code), body), 400, error)
    assert tree() == before


@pytest.mark.parametrize(
    "body, error",
    [
        ({"code": "has space", "name": "X"}, "invalid"),
        ({"code": "new", "name": ""}, "invalid"),
        ({"code": "new", "name": "New", "parent": "nowhere"}, "unknown_category"),
    ],
)
def test_bad_input_creates_nothing(writer, kitchen, body, error):
    before = tree()

    assert_error(writer.post(CATEGORIES, body), 400, error)
    assert tree() == before


def test_a_taken_code_is_a_conflict(writer, kitchen):
    before = tree()
    assert_error(writer.post(CATEGORIES, {"code": "cups", "name": "Other"}), 409, "category_code_taken")
    assert tree() == before


def test_a_retry_with_the_same_idempotency_key_creates_one(writer, kitchen):
    body = {"code": "pans", "name": "Pans"}
    first = writer.post(CATEGORIES, body, HTTP_IDEMPOTENCY_KEY="c-1")
    again = writer.post(CATEGORIES, body, HTTP_IDEMPOTENCY_KEY="c-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Category.objects.filter(code="pans").count() == 1


def test_scopes(client_with_scopes, kitchen):
    reader = client_with_scopes(Scope.CATALOG_READ)
    before = tree()

    assert reader.get(detail("cups")).status_code == 200
    assert_error(reader.post(CATEGORIES, {"code": "x", "name": "X"}), 403, "permission_denied")
    assert_error(reader.patch(detail("cups"), {"name": "X"}), 403, "permission_denied")
    assert tree() == before
    assert_error(reader.get(detail("nope")), 404, "not_found")


def deactivate(code: str) -> str:
    return reverse("api:inventory:category-deactivate", kwargs={"code": code})


class TestDeactivate:
    def test_an_empty_category_is_deactivated_and_stays_in_the_tree(self, writer, kitchen):
        response = writer.post(deactivate("mugs"))

        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False
        assert Category.objects.get(code="mugs").is_active is False
        listed = {c["code"]: c["is_active"] for c in writer.get(CATEGORIES).json()["results"]}
        assert listed["mugs"] is False and listed["cups"] is True
        assert writer.post(deactivate("mugs")).status_code == 200  # twice changes nothing

    def test_refused_while_it_holds_active_subcategories_or_products(self, writer, kitchen):
        assert_error(writer.post(deactivate("cups")), 409, "category_in_use")  # mugs is below it
        ProductFactory(category=Category.objects.get(code="garden"))
        assert_error(writer.post(deactivate("garden")), 409, "category_in_use")
        assert Category.objects.filter(is_active=False).count() == 0

    def test_a_deactivated_category_takes_no_new_children(self, writer, kitchen):
        writer.post(deactivate("mugs"))

        assert_error(writer.post(CATEGORIES, {"code": "tea-mugs", "name": "Tea", "parent": "mugs"}), 400, "invalid")
        assert_error(writer.patch(detail("garden"), {"parent": "mugs"}), 400, "invalid")
        assert not Category.objects.filter(code="tea-mugs").exists()

    def test_needs_the_write_scope(self, client_with_scopes, kitchen):
        reader = client_with_scopes(Scope.CATALOG_READ)
        assert_error(reader.post(deactivate("mugs")), 403, "permission_denied")
        assert Category.objects.get(code="mugs").is_active
