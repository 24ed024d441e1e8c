"""The reports floor's own tables: export jobs, the dashboard's place on the admin index, and the
report summaries. Their tables keep the names they had in the ``omni`` app (``db_table``)."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Reports: exports and the dashboard -----------------------------------------------------


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    # Excel with Russian settings splits columns at ";" and reads "1234,50" as a number.
    CSV_EXCEL_RU = "csv_ru", _("CSV for Excel (Russia)")
    XLSX = "xlsx", "XLSX"


class ExportHeaders(models.TextChoices):
    """An export's column names: for people (in the language of whoever asked) or machine names."""

    LABELS = "labels", _("for people")
    NAMES = "names", _("for integrations (machine names)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ExportJob(models.Model):
    """A large export written to a file by a Celery task (``omni.reports.exports.services``).

    ``what`` names an entry of ``omni.reports.exports.kinds.EXPORTS``; ``filters`` are the filters of the
    screen it was started from, applied again (with the user's locations) when the file is written.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    what = models.CharField(_("what"), max_length=64)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    file_format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    headers = models.CharField(
        _("column names"), max_length=8, choices=ExportHeaders.choices, default=ExportHeaders.LABELS
    )
    # The language of the people's column names and of the report's words: the user's when asked.
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING, db_index=True
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows to write"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True, max_length=255)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "omni_exportjob"
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        permissions = [
            ("view_dashboard", _("Can see the managers' dashboard")),
            ("export_reports", _("Can export reports and lists")),
        ]

    def __str__(self):
        return f"{self.what} ({self.file_format}) #{self.pk}"

    @property
    def progress_percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


class Dashboard(ExportJob):
    """No data of its own: puts the managers' dashboard on the admin index (``omni.reports.admin``)."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = _("managers' dashboard")
        verbose_name_plural = _("managers' dashboard")


# --- Report summaries (``omni.reports.summaries``) -----------------------------------------
# Completed orders summed ahead of time so the dashboard reads thousands of rows, not millions.
# They are derived data: rebuilt from the orders at any time, so their references carry no
# database constraint (a summary row never blocks or cascades a change to what it sums).


def _summary_reference(to: str, verbose_name, **options):
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **options,
    )


class DailySales(models.Model):
    """Orders completed on one day (in ``TIME_ZONE``), summed by channel, location, employee and
    fulfilment: the figures of the sales, fulfilment and return-rate sections, and the loyalty
    members' orders (a member's order: the customer's loyalty account was open when it completed)."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=16)
    location = _summary_reference("inventory.Location", _("location"))
    employee = _summary_reference(settings.AUTH_USER_MODEL, _("employee"))
    fulfilment = models.CharField(_("fulfilment"), max_length=24)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    customer_orders = models.PositiveIntegerField(_("orders of identified customers"), default=0)
    customer_revenue = models.DecimalField(
        _("revenue from identified customers"), max_digits=16, decimal_places=2, default=0
    )
    member_orders = models.PositiveIntegerField(_("orders of loyalty members"), default=0)
    member_revenue = models.DecimalField(_("revenue from loyalty members"), max_digits=16, decimal_places=2, default=0)
    ship_to_store_orders = models.PositiveIntegerField(_("ship-to-store orders"), default=0)
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2, default=0)
    units = models.IntegerField(_("units kept"), default=0)
    handed_over = models.IntegerField(_("units handed over"), default=0)
    returned = models.IntegerField(_("units returned"), default=0)

    class Meta:
        db_table = "omni_dailysales"
        indexes = [models.Index(fields=["day", "location"], name="daily_sales_day_location_idx")]
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")

    def __str__(self):
        return f"{self.day} {self.channel} @{self.location_id}: {self.orders}"


class DailyProductSales(models.Model):
    """Units of each product kept by customers of the orders completed on one day, by channel and
    location: the top products and categories."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=16)
    location = _summary_reference("inventory.Location", _("location"))
    product = _summary_reference("inventory.Product", _("product"), db_index=False)
    units = models.IntegerField(_("units kept"), default=0)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        db_table = "omni_dailyproductsales"
        indexes = [
            models.Index(fields=["day", "location"], name="daily_product_day_location_idx"),
            # a product's days of a month, summed again into its month when one of them changes
            models.Index(fields=["product", "day"], name="daily_product_product_day_idx"),
        ]
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")

    def __str__(self):
        return f"{self.day} {self.channel} @{self.location_id} #{self.product_id}: {self.units}"


class MonthlyProductSales(models.Model):
    """``DailyProductSales`` of one calendar month summed at every location and in every channel:
    the top products of the whole business over a long period read twelve rows a product for a
    year, where the daily rows are one for nearly every line sold."""

    month = models.DateField(_("month"), help_text=_("Its first day."))
    product = _summary_reference("inventory.Product", _("product"), db_index=False)
    units = models.IntegerField(_("units kept"), default=0)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        db_table = "omni_monthlyproductsales"
        indexes = [models.Index(fields=["month", "product"], name="monthly_product_month_idx")]
        verbose_name = _("monthly product sales")
        verbose_name_plural = _("monthly product sales")

    def __str__(self):
        return f"{self.month:%Y-%m} #{self.product_id}: {self.units}"


class DailyPickups(models.Model):
    """Click-and-collect orders made ready for pickup on one day, by channel and pickup store, and
    what became of them so far: the click-and-collect section."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=16)
    location = _summary_reference("inventory.Location", _("pickup store"))
    ready = models.PositiveIntegerField(_("made ready"), default=0)
    time_to_ready = models.DurationField(_("time from order to ready, summed"), default=datetime.timedelta)
    collected = models.PositiveIntegerField(_("collected"), default=0)
    expired = models.PositiveIntegerField(_("expired"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled after ready"), default=0)

    class Meta:
        db_table = "omni_dailypickups"
        indexes = [models.Index(fields=["day", "location"], name="daily_pickups_day_location_idx")]
        verbose_name = _("daily pickups")
        verbose_name_plural = _("daily pickups")

    def __str__(self):
        return f"{self.day} {self.channel} @{self.location_id}: {self.ready}"


class DailyReturns(models.Model):
    """Returns accepted on one day, by the location that took them, the channel of the order and
    the reason: the returns section."""

    day = models.DateField(_("day"))
    location = _summary_reference("inventory.Location", _("accepted at"))
    order_channel = models.CharField(_("channel of the order"), max_length=16)
    reason = models.CharField(_("reason"), max_length=255)
    returns = models.PositiveIntegerField(_("returns"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        db_table = "omni_dailyreturns"
        indexes = [models.Index(fields=["day", "location"], name="daily_returns_day_location_idx")]
        verbose_name = _("daily returns")
        verbose_name_plural = _("daily returns")

    def __str__(self):
        return f"{self.day} @{self.location_id} {self.order_channel}: {self.returns}"


class CustomerSales(models.Model):
    """A customer's completed orders over their whole history, across every channel and location:
    the customer figures of a period that ends today."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    orders = models.PositiveIntegerField(_("orders"))
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2)
    first_completed_at = models.DateTimeField(_("first order completed at"), db_index=True)
    last_completed_at = models.DateTimeField(_("last order completed at"), db_index=True)
    channels = models.PositiveSmallIntegerField(_("channels used"))
    joined_at = models.DateTimeField(_("loyalty account opened at"), null=True)
    last_as_guest_at = models.DateTimeField(
        _("last order completed without a loyalty account at"), null=True, db_index=True
    )

    class Meta:
        db_table = "omni_customersales"
        verbose_name = _("customer's sales")
        verbose_name_plural = _("customers' sales")

    def __str__(self):
        return f"customer {self.customer_id}: {self.orders} orders"


class SummaryChange(models.Model):
    """Something the summaries sum changed (an order completed, paid, refunded, returned, made
    ready, collected, moved to another customer; a return accepted): the day and location, and the
    customer, whose summaries are to be computed again. Written in the transaction of the change,
    read and deleted by ``summaries_refresh_pending``."""

    day = models.DateField(_("day"), null=True)
    location_id = models.BigIntegerField(_("location"), null=True)
    customer_id = models.BigIntegerField(_("customer"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "omni_summarychange"
        verbose_name = _("pending summary change")
        verbose_name_plural = _("pending summary changes")

    def __str__(self):
        return f"{self.day} @{self.location_id} customer {self.customer_id}"


# --- RFM scores (``omni.reports.rfm``) -----------------------------------------------------


class RfmSegment(models.TextChoices):
    """The named cells of the RFM map (``omni.reports.rfm.SEGMENT_MAP`` says which scores fall in which)."""

    CHAMPIONS = "champions", _("champions")
    LOYAL = "loyal", _("loyal customers")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("potential loyalists")
    NEW = "new", _("new customers")
    PROMISING = "promising", _("promising")
    NEED_ATTENTION = "need_attention", _("need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("about to sleep")
    AT_RISK = "at_risk", _("at risk")
    CANT_LOSE = "cant_lose", _("can't lose them")
    HIBERNATING = "hibernating", _("hibernating")
    LOST = "lost", _("lost")


class CustomerRfm(models.Model):
    """A customer's recency, frequency and monetary scores (1–5, quintiles among the customers who
    bought within ``REPORTS_RFM_MONTHS``) and their segment, all computed at once by
    ``omni.reports.rfm.rfm_compute`` from ``CustomerSales``. A customer whose last purchase is older
    than the window has no scores and the segment "lost"; one who never bought has no row."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    recency = models.PositiveSmallIntegerField(_("recency score (R)"), null=True)
    frequency = models.PositiveSmallIntegerField(_("frequency score (F)"), null=True)
    monetary = models.PositiveSmallIntegerField(_("monetary score (M)"), null=True)
    # No index: the nightly pass rewrites every row, and a segment condition reads the narrow table
    # whole or probes it by customer.
    segment = models.CharField(_("RFM segment"), max_length=24, choices=RfmSegment.choices)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("customer's RFM score")
        verbose_name_plural = _("customers' RFM scores")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recency__isnull=True, frequency__isnull=True, monetary__isnull=True)
                    | models.Q(recency__range=(1, 5), frequency__range=(1, 5), monetary__range=(1, 5))
                ),
                name="customer_rfm_scores_1_to_5",
            )
        ]

    def __str__(self):
        return f"customer {self.customer_id}: {self.segment}"
