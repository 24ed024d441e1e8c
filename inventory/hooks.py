"""Callbacks that higher apps register to hear of inventory events, without inventory importing them.

``register_transfer_received(callback)``: ``callback(transfer=..., received=...)`` is called by
``inventory.services.transfer_receive`` inside its transaction, after the goods were put on hand
(and, for a transfer with ``reserve_on_receipt``, reserved) at the destination. ``received`` maps
product id to the units that arrived. The orders app uses it to move a click-and-collect order
waiting for its goods to "ready for pickup".

``register_stock_changed(callback)``: ``callback(changes)`` is called once by each write of stock
figures of ``inventory.services`` (a reservation, release, sale, return, receipt, count,
write-off, a transfer's reservation, shipment and receipt), inside its transaction, after on hand
or reserved of the stock rows changed. ``changes`` is the sorted list of the (product id,
location id) pairs whose figures changed. A service that writes in several steps (accepting and
shipping a request, a file of documents for several locations) calls it once per step.

``register_product_changed(callback)``: ``callback(product)`` is called by
``inventory.services.product_upsert`` inside its transaction, after the product (and its
barcodes) were created or updated.

An app registers from its ``AppConfig.ready``. A callback that raises refuses the whole action,
so callbacks must not raise for their own reasons. Calling a hook nobody registered with costs a
loop over an empty list, no query: the order placement path calls ``stock_changed``.
"""

from omni.core.hooks import Hook

transfer_received = Hook("inventory.transfer_received")
register_transfer_received = transfer_received.register
stock_changed = Hook("inventory.stock_changed")
register_stock_changed = stock_changed.register
product_changed = Hook("inventory.product_changed")
register_product_changed = product_changed.register
