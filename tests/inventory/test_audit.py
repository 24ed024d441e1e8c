"""What ``product_upsert`` and the product's admin page record in the audit trail, and the history shown there."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Product
from inventory.services import ProductData, product_upsert
from omni.core.actors import Actor
from omni.core.audit import audit_events_for
from omni.core.models import AuditKind
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER
from omni.core.services import api_key_create
from tests.inventory.factories import CategoryFactory, ean13

pytestmark = pytest.mark.django_db


def rows(obj) -> list[tuple]:
    return [
        (e.kind, e.field_name, e.old_value, e.new_value, e.created_by_id, e.api_key_id)
        for e in audit_events_for(obj).order_by("id")
    ]


@pytest.fixture
def erp():
    api_key, _raw = api_key_create(name="erp", scopes=[])
    return Actor(api_key=api_key)


def test_a_new_product_records_that_it_was_created(erp):
    product, created = product_upsert(data=ProductData(sku="A-1", name="Shirt", price="1990"), actor=erp)

    assert created
    assert rows(product) == [(AuditKind.CREATED, "", "", "", None, erp.api_key.pk)]


def test_a_price_change_and_every_other_changed_field_are_recorded(erp):
    CategoryFactory(code="shirts", name="Shirts")
    product_upsert(data=ProductData(sku="A-1", name="Shirt", price="1990", barcodes=(ean13(1),)))

    product, created = product_upsert(
        data=ProductData(
            sku="A-1", name="Shirt", price="1790.5", category_code="shirts", barcodes=(ean13(1), ean13(2))
        ),
        actor=erp,
    )

    assert not created and product.price == Decimal("1790.50")
    assert rows(product)[1:] == [
        (AuditKind.CHANGED, "category", "", "Shirts", None, erp.api_key.pk),
        (AuditKind.CHANGED, "price", "1990.00", "1790.50", None, erp.api_key.pk),
        (AuditKind.CHANGED, "barcodes", ean13(1), f"{ean13(1)}, {ean13(2)}", None, erp.api_key.pk),
    ]


def test_the_same_data_again_records_nothing(erp):
    data = ProductData(sku="A-1", name="Shirt", price="1990.00", barcodes=(ean13(1),))
    product_upsert(data=data)

    product, _created = product_upsert(data=data, actor=erp)

    assert [kind for kind, *_rest in rows(product)] == [AuditKind.CREATED]


def test_a_price_changed_on_the_products_page_is_recorded_and_shown(client, staff_in_role):
    user = staff_in_role(HEAD_OFFICE, username="office")
    client.force_login(user)
    product, _created = product_upsert(data=ProductData(sku="A-1", name="Shirt", price="1990"))
    url = reverse("admin:inventory_product_change", args=[product.pk])
    page = client.get(url)
    data = {
        "sku": "A-1",
        "name": "Shirt",
        "description": "",
        "category": "",
        "unit": product.unit,
        "price": "2490.00",
        "is_active": "on",
    }
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}

    response = client.post(url, data)

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).price == Decimal("2490.00")
    assert rows(product)[1:] == [(AuditKind.CHANGED, "price", "1990.00", "2490.00", user.pk, None)]
    history = client.get(url).content.decode()
    history = history[history.index("History of changes") :]
    assert "office" in history and "2490.00" in history and "Every change" in history


def test_store_managers_see_the_products_history_but_not_the_list_of_every_change(client, staff_in_role):
    client.force_login(staff_in_role(STORE_MANAGER))
    product, _created = product_upsert(data=ProductData(sku="A-1", name="Shirt", price="1990"))

    page = client.get(reverse("admin:inventory_product_change", args=[product.pk])).content.decode()

    assert "History of changes" in page and "Every change" not in page
    assert client.get(reverse("admin:omni_auditevent_changelist")).status_code == 403
