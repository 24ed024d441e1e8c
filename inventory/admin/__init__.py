"""The inventory in the Django admin, for store staff and head office.

Every screen here is thin: it parses the input, checks the permission and the user's locations,
calls one service of ``inventory.services`` and shows its result. Stock figures (on hand,
reserved) are never edited here, so the ledger stays complete.

Store staff and store managers see only the rows of the locations they work at
(``LocationScopedAdminMixin``); head office sees every location.

One module per area: ``catalogue`` (categories, products, locations, employees), ``stock`` (stock
levels, the ledger and the stock documents), ``transfers``, and the ``mixins`` they share, which
orders' screens use too. Importing this package registers every screen.
"""

from inventory.admin import catalogue, product_models, stock, transfers  # noqa: F401 (registers them)
from inventory.admin.mixins import LocationScopedAdminMixin, UserLocationFilter

__all__ = ["LocationScopedAdminMixin", "UserLocationFilter"]
