from django.core.management.base import BaseCommand, CommandError

from loyalty.selectors import points_discrepancies


class Command(BaseCommand):
    help = (
        "Compare every account's lots with its points ledger (entries and allocations); "
        "exit non-zero on any discrepancy."
    )

    def handle(self, *args, **options):
        discrepancies = points_discrepancies()
        for row in discrepancies:
            parts = [f"account {row['account_id']}:"]
            parts += [
                f"lot {lot['lot']} stores {lot['stored']} left, its ledger says {lot['ledger']};" for lot in row["lots"]
            ]
            parts += [
                f"entry {entry['entry']} of {entry['points']} points has {entry['allocated']} allocated;"
                for entry in row["entries"]
            ]
            if "ledger_total" in row:
                parts.append(f"entries sum to {row['ledger_total']}, lots hold {row['stored_total']};")
            self.stdout.write(" ".join(parts))
        if discrepancies:
            raise CommandError(f"{len(discrepancies)} accounts differ from their points ledger.")
        self.stdout.write(self.style.SUCCESS("Every account's points match its ledger."))
