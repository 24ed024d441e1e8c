"""How the event sources reach the outbox (``omni.webhooks.outbox``), in one place.

``wanted(event_type)`` lets a source skip building a payload nobody subscribed to: the hooks are
called on hot paths (placing an order reserves stock and may spend points), so a source asks first
and builds nothing, and queries nothing, when the answer is no. The outbox answers through its
``event_type_wanted(event_type)``, answered without a query on the hot path.
"""


def wanted(event_type: str) -> bool:
    from omni.webhooks import outbox

    return outbox.event_type_wanted(event_type)


def record(*, event_type: str, object_type: str, object_id: str, data: dict) -> None:
    """Hand the event to the outbox (which writes dates and decimals as the API writes them)."""
    from omni.webhooks import outbox

    outbox.event_record(event_type=event_type, object_type=object_type, object_id=object_id, data=data)
