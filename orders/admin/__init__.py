"""The orders admin for store staff: the till, the pickup desk, the return desk, and orders and
returns on the customer's page.

Thin, like the API: forms parse input, the services in ``orders.services`` apply the rules, and
their refusals are shown as messages. Store staff see only their stores' orders and returns
(``LocationScopedAdminMixin``). Any completed order can be found at the return desk, since goods
of any channel come back to any store.
"""

from orders.admin import customer_page, orders, refunds, returns  # noqa: F401  (registers the admins)
