from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_discrepancies


class Command(BaseCommand):
    help = "Compare the stock ledger with the stored stock figures; exit non-zero on any discrepancy."

    def handle(self, *args, **options):
        discrepancies = stock_discrepancies()
        for row in discrepancies:
            self.stdout.write(
                "{sku} @ {location}: stored on hand {stored_on_hand}, reserved {stored_reserved}; "
                "ledger on hand {ledger_on_hand}, reserved {ledger_reserved}".format(**row)
            )
        if discrepancies:
            raise CommandError(f"{len(discrepancies)} stock figures differ from the ledger.")
        self.stdout.write(self.style.SUCCESS("Stock matches the ledger."))
