"""The webhook payloads in the schema: one example per event type under ``components.examples``."""

from omni.webhooks.events import EVENT_TYPES

ORDER = {"number": "S-000123", "status": "ready_for_pickup", "total": "1500.00", "lines": ["…"]}
DATA = {
    "order.created": {"order": {**ORDER, "status": "placed"}},
    "order.status_changed": {"status_from": "placed", "status_to": "ready_for_pickup", "order": ORDER},
    "order.ready_for_pickup": {"order": ORDER},
    "order.handed_over": {"refused": [{"sku": "SOC-01", "quantity": 1}], "order": {**ORDER, "status": "collected"}},
    "return.accepted": {"return": {"number": "R-000045", "refund_amount": "1200.00"}, "order": "S-000123"},
    "refund.completed": {"refund": {"id": 17, "amount": "300.00", "status": "done"}, "order": "S-000123"},
}


def webhook_examples(result, generator, request, public):
    examples = result.setdefault("components", {}).setdefault("examples", {})
    for event_type, description in EVENT_TYPES.items():
        data = DATA.get(event_type, {"…": "the object's new state, as its API endpoint renders it"})
        examples[f"webhook:{event_type}"] = {
            "summary": str(description),
            "value": {
                "id": "9f1c2d3e-0000-4000-8000-000000000001",
                "type": event_type,
                "created": "2026-12-03T10:15:00+00:00",
                "data": data,
            },
        }
    return result
