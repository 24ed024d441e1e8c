"""Rows read by hand on the busiest paths (``omni.core.db.instances_where``) come back as the ORM
gives them, on SQLite and on PostgreSQL alike."""

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from inventory.models import Product
from omni.core.db import equals_any, instances_where
from omni.core.models import IdempotencyKey
from tests.orders.factories import product

pytestmark = pytest.mark.django_db


def test_instances_read_by_hand_equal_the_orms():
    # given products with prices, and a stored response (JSON)
    items = [product("1500.50"), product("0.99"), product("10.00", is_active=False)]
    key = IdempotencyKey.objects.create(
        owner="api_key:1", key="k", fingerprint="f", method="POST", path="/", response_body={"total": "1.50", "n": [1]}
    )

    # when they are read by hand
    condition, params = equals_any('t."sku"', [item.sku for item in items])
    read = {item.pk: item for item in instances_where(Product, condition, params)}
    [response] = instances_where(IdempotencyKey, 't."id" = %s', [key.pk])

    # then every field is what the ORM reads, in its Python type
    for item in Product.objects.filter(pk__in=[item.pk for item in items]):
        assert model_to_dict(read[item.pk]) == model_to_dict(item)
        assert read[item.pk].created_at == item.created_at
    assert read[items[0].pk].price == Decimal("1500.50")
    assert response.response_body == {"total": "1.50", "n": [1]}
    assert not read[items[0].pk]._state.adding  # saved rows, as the ORM marks them


def test_any_of_no_values_matches_nothing():
    product("5.00")
    condition, params = equals_any('t."sku"', [])

    assert instances_where(Product, condition, params) == []
