"""A subscription deleted while other processes still list it (they read the subscriptions every
few seconds) costs nothing to the changes they are making: an order placed then is placed, and what
was written for the deleted subscription is never sent and is forgotten."""

import pytest

from omni.webhooks import outbox
from omni.webhooks.models import Delivery, Event, Subscription
from omni.webhooks.retention import events_forget
from orders.models import Order
from tests.orders.factories import collect, customer, product, stock, store


@pytest.mark.django_db(transaction=True)
def test_an_order_placed_while_its_subscriber_is_being_deleted_elsewhere_is_placed(subscribe, settings):
    subscription = subscribe("order.created")
    shop, shirt = store(), product("1200.00")
    stock(shop, shirt, 5)
    outbox.subscribers("order.created")  # this process has read the subscriptions
    stale = outbox._subscribers
    Subscription.objects.filter(pk=subscription.pk).delete()  # another process deletes it
    outbox._subscribers = stale  # which this process learns only at its next read

    order = collect(customer(), shop, (shirt, 1))

    assert Order.objects.filter(pk=order.pk).exists()
    assert Delivery.objects.filter(subscription_id=subscription.pk).count() == 1  # written, never sent

    settings.OMNI_WEBHOOK_KEEP_DAYS = 0
    assert events_forget() == 1
    assert not Delivery.objects.exists()
    assert not Event.objects.exists()
