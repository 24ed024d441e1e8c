"""Which locations a user may see: the one answer every report, export and KPI view asks."""

import pytest
from django.contrib.auth.models import Group

from inventory.selectors import visible_locations
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER
from tests.inventory.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_store_manager_sees_the_stores_she_works_at(staff_in_role):
    mine, other = LocationFactory(code="a"), LocationFactory(code="b")

    visible = visible_locations(staff_in_role(STORE_MANAGER, locations=[mine]))

    assert visible.ids == frozenset({mine.pk})
    assert visible.includes(mine.pk) and not visible.includes(other.pk)
    assert list(visible.locations()) == [mine]


def test_head_office_sees_every_location(staff_in_role):
    first, second = LocationFactory(code="a"), LocationFactory(code="b")

    visible = visible_locations(staff_in_role(HEAD_OFFICE))

    assert visible.ids is None
    assert visible.includes(first.pk) and visible.includes(second.pk)
    assert set(visible.locations()) == {first, second}


def test_staff_without_an_employee_profile_see_no_location(staff_in_role):
    LocationFactory(code="a")
    user = UserFactory()
    user.groups.add(Group.objects.get(name=STORE_MANAGER))

    visible = visible_locations(user)

    assert visible.ids == frozenset() and not visible.locations().exists()
