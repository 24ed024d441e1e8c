from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Stock
from inventory.services import ProductQuantity, stock_receive
from inventory.tasks import check_stock_ledger
from tests.inventory.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    store, product = LocationFactory(code="MSK-1"), ProductFactory(sku="SHIRT")
    stock_receive(location=store, lines=[ProductQuantity(product.pk, 5)])
    return Stock.objects.get(product=product, location=store)


def test_matching_ledger_passes(received):
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert "matches" in out.getvalue()
    assert check_stock_ledger() == 0


def test_a_figure_changed_behind_the_ledger_is_reported(received):
    Stock.objects.filter(pk=received.pk).update(on_hand=7, reserved=1)
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("check_stock", stdout=out)

    assert "SHIRT @ MSK-1: stored on hand 7, reserved 1; ledger on hand 5, reserved 0" in out.getvalue()
    assert check_stock_ledger() == 1


def test_stock_row_without_any_ledger_is_reported():
    Stock.objects.create(product=ProductFactory(), location=LocationFactory(), on_hand=3)
    with pytest.raises(CommandError):
        call_command("check_stock", stdout=StringIO())


def test_the_database_refuses_reserved_above_on_hand(received):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=received.pk).update(reserved=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=received.pk).update(reserved=-1)
    received.refresh_from_db()
    assert (received.on_hand, received.reserved) == (5, 0)
