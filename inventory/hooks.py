"""Callbacks that higher apps register to hear of inventory events, without inventory importing them.

``register_transfer_received(callback)``: ``callback(transfer=..., received=...)`` is called by
``inventory.services.transfer_receive`` inside its transaction, after the goods were put on hand
(and, for a transfer with ``reserve_on_receipt``, reserved) at the destination. ``received`` maps
product id to the units that arrived. An app registers from its ``AppConfig.ready``; the orders app
uses it to move a click-and-collect order waiting for its goods to "ready for pickup". A callback
that raises refuses the whole receipt, so callbacks must not raise for their own reasons.
"""

from collections.abc import Callable

TransferReceived = Callable[..., object]

_transfer_received: dict[str, TransferReceived] = {}


def register_transfer_received(callback: TransferReceived) -> None:
    """Add a callback run when a transfer is received; registering the same function again
    (``ready()`` run twice) replaces it rather than adding it twice."""
    _transfer_received[f"{callback.__module__}.{callback.__qualname__}"] = callback


def transfer_received(*, transfer, received: dict[int, int]) -> None:
    for callback in list(_transfer_received.values()):
        callback(transfer=transfer, received=dict(received))
