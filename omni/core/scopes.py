"""Every scope an API key can hold. An endpoint names the scope it needs per HTTP method."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", _("Read products, prices and locations")
    CATALOG_WRITE = "catalog:write", _("Create and update products")
    STOCK_WRITE = "stock:write", _("Record stock receipts and counts")
    CUSTOMERS_READ = "customers:read", _("Read customers, their timeline and cases")
    CUSTOMERS_WRITE = "customers:write", _("Identify, register and update customers; record contacts and cases")
    LOYALTY_READ = "loyalty:read", _("Read loyalty accounts, balances and cards; quote points and promo codes")
    LOYALTY_WRITE = "loyalty:write", _("Open loyalty accounts and spend points")
    ORDERS_READ = "orders:read", _("Read orders and returns")
    ORDERS_WRITE = "orders:write", _("Place orders, move them through their statuses, and accept returns")
    REPORTS_READ = "reports:read", _("Read reports and export orders for a period")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Subscribe to events and manage the key's own webhook subscriptions")
    TRANSFERS_READ = "transfers:read", _("Read transfers between locations")
    TRANSFERS_WRITE = "transfers:write", _("Create, ask for, ship, decline, receive and cancel transfers")
    LOCATIONS_WRITE = "locations:write", _("Create, update and deactivate stores, warehouses and pickup points")
    LOYALTY_ADMIN = "loyalty:admin", _("Change the loyalty programme's rules and tiers")
    PROMO_WRITE = "promo:write", _("Create and deactivate promo codes")
    CUSTOMERS_MERGE = "customers:merge", _("Merge two profiles of one person and dismiss duplicate candidates")
    CAMPAIGNS_READ = "campaigns:read", _("Read marketing campaigns, their preview and their results")
    CAMPAIGNS_WRITE = "campaigns:write", _("Create, change, test, send and cancel marketing campaigns")
    CARTS_WRITE = "carts:write", _("Report the shop's and the app's carts, for abandoned-cart reminders")
    MESSAGES_INBOUND = (
        "messages:inbound",
        _("Report the messages customers send by SMS or messenger (stop words unsubscribe)"),
    )
    NPS_READ = "nps:read", _("Read NPS figures by store, channel and month")
    NPS_WRITE = "nps:write", _("Record customers' answers to NPS requests (the app, messenger bots)")
