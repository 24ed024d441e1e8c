"""stock.changed under racing orders: flushes after every commit, in order, ending on the final figures.
PostgreSQL only: SQLite serialises writers."""

import pytest

from inventory import services
from inventory.models import Stock
from inventory.services import Cause, ProductQuantity, StockLine
from tests.inventory.factories import LocationFactory, ProductFactory
from tests.inventory.test_concurrency import race
from tests.webhooks.sources_support import sent_fixture  # noqa: F401 (the fixture "sent")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_reservations_and_flushes_end_on_the_final_figures(sent):
    from omni.webhooks.stock_models import StockEventPending

    store, product = LocationFactory(code="SHOP"), ProductFactory(sku="HOT-1")
    services.stock_receive(location=store, lines=[ProductQuantity(product.pk, 100)])

    # Tasks run in-process in the tests: each commit flushes at once, so flushes race too.
    race(40, lambda i: services.stock_reserve(lines=[StockLine(product.pk, store.pk, 1)], cause=Cause("order", f"{i}")))

    stock = Stock.objects.get(product=product, location=store)
    availables = [event["data"]["available"] for event in sent.of("stock.changed")]
    assert stock.available == 60
    assert availables[-1] == 60
    assert availables == sorted(availables, reverse=True)  # never an older figure after a newer one
    assert not StockEventPending.objects.exists()
