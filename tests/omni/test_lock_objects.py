"""Row locks only mean something inside a transaction: every lock helper refuses to run outside one
(before it changes anything), rather than lock nothing and let the caller believe it holds the rows."""

import pytest

from inventory.lock_objects import stock_rows_for_update
from inventory.models import Stock
from loyalty.lock_objects import account_for_update, accounts_for_update
from orders.lock_objects import order_for_update, stock_rows, transfers_for_update
from tests.inventory.factories import LocationFactory, ProductFactory

HELPERS = [
    pytest.param(lambda: account_for_update(1), id="account_for_update"),
    pytest.param(lambda: accounts_for_update([1, 2]), id="accounts_for_update"),
    pytest.param(lambda: order_for_update(1), id="order_for_update"),
    pytest.param(lambda: transfers_for_update([1]), id="transfers_for_update"),
    pytest.param(lambda: stock_rows([(1, 1)]), id="stock_rows"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock", HELPERS)
def test_a_lock_helper_outside_a_transaction_fails_loudly(lock):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        lock()


@pytest.mark.django_db(transaction=True)
def test_stock_rows_are_not_created_by_a_lock_taken_outside_a_transaction():
    product, location = ProductFactory(), LocationFactory()
    with pytest.raises(RuntimeError, match="inside a transaction"):
        stock_rows_for_update([(product.pk, location.pk)], create_missing=True)
    assert not Stock.objects.filter(product=product, location=location).exists()
