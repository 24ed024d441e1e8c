from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from omni.core.models import ApiKey
from omni.core.scopes import Scope
from omni.core.services import api_key_create, api_key_rotate
from omni.reports.demo import customers as customers_demo
from omni.reports.demo import inventory as inventory_demo
from omni.reports.demo import sales as sales_demo
from omni.reports.demo import staff as staff_demo
from omni.reports.rfm import rfm_compute
from omni.reports.summaries import summaries_refresh_pending

DEMO_KEY_NAME = "demo-online-shop"
# What an online shop does: show the catalogue and availability, identify and register customers,
# quote and spend their points, place and follow orders. It edits no product, counts no stock and
# reads no report, so its key cannot.
ONLINE_SHOP_SCOPES = [
    Scope.CATALOG_READ,
    Scope.CUSTOMERS_READ,
    Scope.CUSTOMERS_WRITE,
    Scope.LOYALTY_READ,
    Scope.LOYALTY_WRITE,
    Scope.ORDERS_READ,
    Scope.ORDERS_WRITE,
]


class Command(BaseCommand):
    help = "Load demo data (stores, warehouse, catalogue, stock, staff, an API key) and print the logins. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (the demo logins have known passwords)."
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates staff with known passwords; run it with DEBUG=1 or --force.")
        with transaction.atomic():
            counts = inventory_demo.seed()
            logins = staff_demo.seed()
            people = customers_demo.seed()
            sales = sales_demo.seed()
            raw_key = self._demo_api_key()
        summaries_refresh_pending()
        rfm_compute()  # what the nightly task would find: the customer cards show their RFM segment

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {counts['locations']} locations, {counts['products']} products, "
                f"{people['customers']} customers with loyalty accounts, {sales['orders']} new orders."
            )
        )
        self.stdout.write("Staff logins (username / password — role, stores):")
        for username, password, role, stores in logins:
            self.stdout.write(f"  {username} / {password} — {role}{', ' + ', '.join(stores) if stores else ''}")
        self.stdout.write(
            f"API key of the demo online shop (Authorization: Api-Key <key>; scopes "
            f"{', '.join(ONLINE_SHOP_SCOPES)}), new on every run:\n  {raw_key}"
        )

    @staticmethod
    def _demo_api_key() -> str:
        scopes = [str(scope) for scope in ONLINE_SHOP_SCOPES]
        api_key = ApiKey.objects.filter(name=DEMO_KEY_NAME).first()
        if api_key is None:
            return api_key_create(name=DEMO_KEY_NAME, scopes=scopes)[1]
        api_key.scopes = scopes
        api_key.save(update_fields=["scopes", "updated_at"])
        return api_key_rotate(api_key=api_key)
