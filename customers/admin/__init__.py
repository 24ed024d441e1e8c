"""The customers admin: find a customer, see everything about them, register them in a store.

Thin, like the API: forms parse input, the services in ``customers.services``, ``customers.cases``,
``customers.merge`` and ``customers.personal_data`` apply the rules, and their errors are shown as
messages or attached to the form field they name.

One module per area: ``customer`` (the customer's page, registration, consents, personal data),
``timeline`` (consent events, contacts, messages), ``cases``, ``duplicates``, ``segments``, and
``panels``, through which orders and loyalty show their lists and summary boxes on the customer's
page. Importing
this package registers every screen.
"""

from customers.admin import cases, customer, duplicates, segments, timeline  # noqa: F401 (registers them)
from customers.admin.panels import DisplayOnlyFormSet, add_customer_card_panel, add_customer_page_inline

__all__ = ["DisplayOnlyFormSet", "add_customer_card_panel", "add_customer_page_inline"]
