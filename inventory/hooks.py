"""Callbacks that higher apps register to hear of inventory events, without inventory importing them.

``register_transfer_received(callback)``: ``callback(transfer=..., received=...)`` is called by
``inventory.services.transfer_receive`` inside its transaction, after the goods were put on hand
(and, for a transfer with ``reserve_on_receipt``, reserved) at the destination. ``received`` maps
product id to the units that arrived. An app registers from its ``AppConfig.ready``; the orders app
uses it to move a click-and-collect order waiting for its goods to "ready for pickup". A callback
that raises refuses the whole receipt, so callbacks must not raise for their own reasons.
"""

from omni.core.hooks import Hook

transfer_received = Hook("inventory.transfer_received")
register_transfer_received = transfer_received.register
