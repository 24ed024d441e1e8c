import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from omni.reports.summaries import summaries_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the report summaries (daily sales, daily product sales, customers' sales) from the "
        "orders: after loading orders that bypassed the services, or to check them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first_day", help="Recompute the days from this date (YYYY-MM-DD) on.")

    def handle(self, *args, first_day=None, **options):
        if first_day:
            try:
                first_day = datetime.date.fromisoformat(first_day)
            except ValueError:
                raise CommandError(f"--from must be a date as YYYY-MM-DD, not {first_day!r}.") from None
        started = time.monotonic()
        summaries_rebuild(first_day=first_day, progress=lambda month: self.stdout.write(f"  {month:%Y-%m}"))
        self.stdout.write(f"Report summaries rebuilt in {time.monotonic() - started:.1f} s.")
