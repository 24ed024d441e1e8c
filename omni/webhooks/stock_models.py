"""Stock pairs whose ``stock.changed`` event is still to be recorded (``omni.webhooks.sources.inventory``).

A stock write appends one row per (product, location) pair it changed, in its transaction; the
flush after commit records one event per pair with the stock figures as they are then, and deletes
the rows it read. Rows are only ever inserted by the writers (never updated, no unique key, no
foreign key): a row lock here could otherwise serialize concurrent orders on a hot SKU a second
time, or wait for the flush.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StockEventPending(models.Model):
    id = models.BigAutoField(primary_key=True)
    product_id = models.BigIntegerField(_("product"))
    location_id = models.BigIntegerField(_("location"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock event to send")
        verbose_name_plural = _("stock events to send")

    def __str__(self):
        return f"{self.product_id}@{self.location_id}"
