import pytest

from tests.loyalty.factories import ProgrammeFactory


@pytest.fixture(autouse=True)
def programme(db):
    """Every loyalty test runs with a known programme (the default one is made from settings)."""
    return ProgrammeFactory()
