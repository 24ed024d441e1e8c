"""What every desk shares: product and customer search as the cashier types, the customer panel."""

import pytest
from django.urls import reverse

from tests.inventory.factories import BarcodeFactory
from tests.orders.factories import collect, points_for, product, stock, store
from tests.orders.factories import customer as make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def tverskaya():
    return store(code="MSK-TVER")


@pytest.fixture
def cashier(staff_in_role, tverskaya):
    return staff_in_role("Store staff", locations=[tverskaya])


def test_a_scanned_code_is_a_sku_in_any_case_or_a_barcode():
    from orders.selectors import product_by_code

    bag = product(sku="BAG-0307-L", name="Tote bag")
    barcode = BarcodeFactory(product=bag)
    product(sku="OLD-1", is_active=False)

    assert product_by_code("BAG-0307-L") == bag
    assert product_by_code(" bag-0307-l ") == bag
    assert product_by_code(barcode.code) == bag
    assert product_by_code("OLD-1") is None
    assert product_by_code("bag") is None
    assert product_by_code("") is None


def test_product_search_by_name_words_shows_what_my_store_has(client, cashier, tverskaya):
    other = store(code="SPB-NEV")
    coat = product(sku="COAT-1", name="Wool coat long")
    stock(tverskaya, coat, 3)
    stock(other, coat, 40)
    product(sku="SCARF-1", name="Wool scarf")
    client.force_login(cashier)

    response = client.get(reverse("admin:orders_order_desk_products"), {"q": "coat wool"})

    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-sku="COAT-1"' in text
    assert "SCARF-1" not in text
    assert "3 available" in text  # MSK-TVER's 3, not SPB-NEV's 40


def test_product_search_refuses_nothing_and_answers_empty_for_odd_input(client, cashier):
    client.force_login(cashier)
    for query in ["", "a", "\u200b\u200b", "x" * 500]:
        response = client.get(reverse("admin:orders_order_desk_products"), {"q": query})
        assert response.status_code == 200
        assert "data-sku" not in response.content.decode()


def test_customer_search_and_panel(client, cashier, tverskaya):
    person = make_customer(first_name="Ivan", last_name="Petrov")
    points_for(person, 250)
    shirt = product(sku="SHIRT-1")
    stock(tverskaya, shirt, 5)
    order = collect(person, tverskaya, (shirt, 1))
    client.force_login(cashier)

    found = client.get(reverse("admin:orders_order_desk_customers"), {"q": "Petrov"}).content.decode()
    assert f'data-customer="{person.pk}"' in found

    panel = client.get(reverse("admin:orders_order_desk_customer_panel"), {"customer": person.pk}).content.decode()
    assert "Petrov Ivan" in panel
    assert 'id="panel-points-available">250<' in panel
    assert order.number in panel


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999", "١٢"])
def test_the_panel_of_no_customer_is_empty(client, cashier, value):
    client.force_login(cashier)
    response = client.get(reverse("admin:orders_order_desk_customer_panel"), {"customer": value})
    assert response.status_code == 200
    assert b"customer-panel" not in response.content


def test_desk_endpoints_need_a_staff_member_who_sees_orders(client, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:orders_order_desk_products"), {"q": "coat"}).status_code == 403
