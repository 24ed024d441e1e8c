"""Callbacks that higher apps register to hear of changes to customers, without customers importing them.

``register_customer_created(callback)``: ``callback(customer)`` is called by
``customers.services.customer_identify`` (and ``customer_register``) inside its transaction when
it created the customer, after the customer, its identities and its consents were written.

``register_customer_updated(callback)``: ``callback(customer)`` is called once by each service that
changes a known customer, inside its transaction, after its writes: ``customer_identify`` when it
filled profile fields, attached identities or recorded consents, ``customer_update``,
``identity_attach``, ``consents_record`` and ``customers.personal_data.customer_anonymise``.

``register_customer_merged(callback)``: ``callback(old_id=..., customer=...)`` is called by
``customers.merge.customer_merge`` inside its transaction, after everything of the merged customer
(id ``old_id``) was moved to ``customer``, the survivor.

An app registers from its ``AppConfig.ready``. A callback that raises refuses the whole action,
so callbacks must not raise for their own reasons.
"""

from omni.core.hooks import Hook

customer_created = Hook("customers.customer_created")
register_customer_created = customer_created.register
customer_updated = Hook("customers.customer_updated")
register_customer_updated = customer_updated.register
customer_merged = Hook("customers.customer_merged")
register_customer_merged = customer_merged.register
