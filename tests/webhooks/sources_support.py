"""A fake outbox for the source tests: the events recorded, every type wanted unless told otherwise."""

import json

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

from customers import hooks as customer_hooks
from inventory import hooks as inventory_hooks
from loyalty import hooks as loyalty_hooks

if not apps.is_installed("omni.webhooks"):  # the sources branch alone, before the webhooks app is merged
    pytest.skip("the webhooks app is not installed", allow_module_level=True)

from omni.webhooks import outbox
from omni.webhooks.sources import customers, inventory, loyalty

HOOKS = [
    inventory_hooks.stock_changed,
    inventory_hooks.product_changed,
    inventory_hooks.transfer_received,
    customer_hooks.customer_created,
    customer_hooks.customer_updated,
    customer_hooks.customer_merged,
    loyalty_hooks.points_changed,
]


class Outbox:
    def __init__(self):
        self.events: list[dict] = []
        self.wanted = True

    def of(self, event_type: str) -> list[dict]:
        return [event for event in self.events if event["event_type"] == event_type]


def json_ready(event: dict) -> dict:
    """The event as the outbox stores it: its data as JSON reads (dates, decimals as the API writes them)."""
    return {**event, "data": json.loads(json.dumps(event["data"], cls=DjangoJSONEncoder))}


@pytest.fixture(name="sent")
def sent_fixture(monkeypatch):
    """The sources connected alone to a fake ``event_record``; the hooks' callbacks are put back after."""
    box = Outbox()
    for hook in HOOKS:
        monkeypatch.setattr(hook, "_callbacks", {})
    monkeypatch.setattr(outbox, "event_record", lambda **event: box.events.append(json_ready(event)), raising=False)
    monkeypatch.setattr(outbox, "event_type_wanted", lambda event_type: box.wanted, raising=False)
    inventory.connect()
    customers.connect()
    loyalty.connect()
    return box
