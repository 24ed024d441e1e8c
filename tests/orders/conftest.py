import pytest

from tests.loyalty.factories import ProgrammeFactory


@pytest.fixture(autouse=True)
def programme(db):
    """A known loyalty programme: 1 point = 1.00, up to 30 % of an order, Base tier earns 5 %."""
    return ProgrammeFactory()
