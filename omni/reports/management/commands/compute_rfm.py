import time

from django.core.management.base import BaseCommand
from django.db.models import Count

from omni.reports.models import CustomerRfm, RfmSegment
from omni.reports.rfm import rfm_compute
from omni.reports.summaries import summaries_refresh_pending


class Command(BaseCommand):
    help = (
        "Compute every customer's RFM scores and segment now from the customers' summaries (the nightly "
        "task does the same), and print how many customers fall in each segment."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        summaries_refresh_pending()
        scored = rfm_compute()
        self.stdout.write(f"Customers with RFM scores: {scored} (computed in {time.monotonic() - started:.1f} s).")
        counts = dict(CustomerRfm.objects.values_list("segment").annotate(n=Count("pk")).order_by())
        for segment in RfmSegment:
            self.stdout.write(f"  {segment.value}: {counts.get(segment.value, 0)}")
