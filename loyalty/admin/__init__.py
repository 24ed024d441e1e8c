"""Loyalty in the Django admin: the programme and its tiers, accounts with their balances and
ledger, cards, promo codes with their uses. The loyalty KPIs are on the managers' dashboard
(``omni.reports``), with the figures only the orders give.

Every screen is thin: it parses the input, checks the permission, calls one service of
``loyalty.services`` and shows its result. Points are never edited here: the ledger is read-only,
and a manual adjustment is a service call with its own permission (``loyalty.adjust_points``) and
a mandatory reason.

One module per area: ``programme`` (and tiers), ``accounts`` (and cards), ``ledger``, ``promo``,
``customer_panel``, the balance listed on the customer's page, and ``customer_card``, the balance
in the summary at the top of it. Importing this package registers every screen.
"""

from loyalty.admin import accounts, customer_card, customer_panel, ledger, programme, promo  # noqa: F401 (registers them)
