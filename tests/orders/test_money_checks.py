"""The order's money checks hold on SQLite too, where decimals are compared as floating point."""

import pytest

from orders import services
from orders.services import PaymentInput
from tests.orders.factories import collect, customer, points_for, product, stock, store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("points", [1, 7, 99, 101, 199, 250, 299, 300])
@pytest.mark.parametrize("refused", [{"SHI-1": 1}, {"SOC-1": 2}, {"SHI-1": 2, "SOC-1": 1}])
def test_a_refusal_whose_points_share_does_not_come_out_even_is_recorded(points, refused):
    shop = store()
    shirt, socks = product("1000.00", sku="SHI-1"), product("250.00", sku="SOC-1")
    stock(shop, shirt, 5)
    stock(shop, socks, 5)
    person = customer()
    points_for(person, 300)
    order = collect(person, shop, (shirt, 3), (socks, 3), points=points)
    services.order_mark_ready(order=order)
    order.refresh_from_db()

    order = services.order_hand_over(order=order, refused=refused, payments=[PaymentInput("cash")])

    for line in order.lines.all():
        assert line.total == line.amount - line.points_value
        assert line.refused_total == line.refused_subtotal - line.refused_discount - line.refused_points_value
