"""Sent events are kept ``OMNI_WEBHOOK_KEEP_DAYS`` for the admin and the deliveries API, then forgotten.

An event some delivery still waits to send (a paused subscription's) is kept whatever its age,
unless that subscription was deleted.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from omni.webhooks.models import UNSETTLED, Delivery, Event, Subscription

BATCH_SIZE = 5000


def events_forget() -> int:
    """Delete the events older than the retention whose deliveries are all settled; how many."""
    cutoff = timezone.now() - timedelta(days=settings.OMNI_WEBHOOK_KEEP_DAYS)
    waiting = Delivery.objects.filter(
        event=OuterRef("pk"),
        status__in=UNSETTLED,
        subscription_id__in=Subscription.objects.values("pk"),  # a deleted one's will never be sent
    )
    forgotten = 0
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff)
            .exclude(Exists(waiting))
            .order_by()
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            return forgotten
        Delivery.objects.filter(event_id__in=ids).delete()
        Event.objects.filter(pk__in=ids).delete()
        forgotten += len(ids)
