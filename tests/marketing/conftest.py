import pytest
from django.test import override_settings

from tests.loyalty.factories import ProgrammeFactory


@pytest.fixture(autouse=True)
def no_quiet_hours_and_no_control():
    """Sending does not depend on the hour the suite runs at; tests of quiet hours and of the
    control group set them."""
    with override_settings(MARKETING_QUIET_START_HOUR=0, MARKETING_QUIET_END_HOUR=0, MARKETING_CONTROL_PERCENT=0):
        yield


@pytest.fixture
def programme(db):
    return ProgrammeFactory()
