"""Reports for integrations: orders and their lines for a period as a streamed CSV file."""

import csv
import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from inventory.selectors import visible_locations
from omni.core import dates
from omni.core.api.schema import error_responses
from omni.core.models import ApiKey
from omni.core.scopes import Scope
from omni.reports.exports.headers import LABELS, CsvStyle, ExportHeaders
from omni.reports.exports.services import CSV_STYLES, csv_cell
from omni.reports.models import ExportFormat
from orders.models import OrderLine

MAX_DAYS = 366
CHUNK_SIZE = 5000

COLUMNS = (
    ("order", "order__number"),
    ("created_at", "order__created_at"),
    ("completed_at", "order__completed_at"),
    ("channel", "order__channel"),
    ("fulfilment", "order__fulfilment"),
    ("status", "order__status"),
    ("store", "order__location__code"),
    ("customer_id", "order__customer_id"),
    ("order_total", "order__total"),
    ("order_paid", "order__paid"),
    ("order_refunded", "order__refunded"),
    ("sku", "sku"),
    ("name", "name"),
    ("unit_price", "unit_price"),
    ("quantity", "quantity"),
    ("refused", "refused_quantity"),
    ("refused_total", "refused_total"),
    ("returned", "returned_quantity"),
    ("discount", "discount"),
    ("points_value", "points_value"),
    ("line_total", "total"),
)


#: ``dialect``: plain CSV for programs (``,``, no byte order mark, ``1234.50``), or for Excel with
#: Russian settings (``;``, a byte order mark, ``1234,50``). Not ``format``: DRF reads that one.
API_CSV_STYLES = {
    "standard": CsvStyle(bom=False),
    "excel_ru": CSV_STYLES[ExportFormat.CSV_EXCEL_RU],
}


class PeriodSerializer(serializers.Serializer):
    date_from = dates.DateField(help_text="First day of the period (YYYY-MM-DD), included.")
    date_to = dates.DateField(help_text="Last day of the period (YYYY-MM-DD), included.")
    headers = serializers.ChoiceField(
        choices=ExportHeaders.choices,
        default=ExportHeaders.NAMES,
        help_text="Column names: `names` (stable machine names, the default) or `labels` (for people, in the "
        "request's language).",
    )
    dialect = serializers.ChoiceField(
        choices=list(API_CSV_STYLES),
        default="standard",
        help_text="`standard` (comma, no byte order mark, decimal point) or `excel_ru` (for Excel with Russian "
        "settings: semicolon, byte order mark, decimal comma).",
    )

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The period ends before it starts.")]})
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"date_to": [_("A period is at most %(days)d days long.") % {"days": MAX_DAYS}]}
            )
        return attrs


class _Echo:
    """A file-like object whose ``write`` hands the line back, for ``csv.writer`` in a stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value, style: CsvStyle):
    if isinstance(value, datetime.datetime):
        if style.decimal_comma:  # Excel reads this as a date and time; not an ISO moment with its offset
            return csv_cell(value, style)
        return timezone.localtime(value).isoformat()
    return csv_cell(value, style)


def order_lines_csv(rows, *, headers: str = ExportHeaders.NAMES, style: CsvStyle = API_CSV_STYLES["standard"]):
    writer = csv.writer(_Echo(), delimiter=style.delimiter)
    names = [name for name, _field in COLUMNS]
    header = writer.writerow(names if headers == ExportHeaders.NAMES else [capfirst(str(LABELS[n])) for n in names])
    yield ("\ufeff" + header) if style.bom else header
    for row in rows:
        yield writer.writerow([_cell(value, style) for value in row])


class OrdersCsvView(APIView):
    required_scopes = {"GET": Scope.REPORTS_READ}
    staff_permissions = {"GET": "reports.export_reports"}
    renderer_classes = [JSONRenderer]  # for errors; the file itself is streamed as text/csv

    def perform_content_negotiation(self, request, force=False):
        # An integration asking for text/csv still gets its errors as JSON, never a 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Orders and their lines for a period, as CSV",
        description=(
            "One row per order line of every order placed in the period (by the day it was placed, both "
            "days included, at most 366 days), with the order's channel, status, store and money figures "
            "repeated on each line. A line shows what the customer keeps (`line_total`); units refused at "
            "handover are counted apart (`refused`, `refused_total`), so an order's lines sum to `order_total`. "
            "The file is streamed: it starts at once and is never held in memory. "
            "Staff signed in to the admin get the orders of their own stores. Needs `reports:read`."
        ),
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, required=True, description="First day, included."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, required=True, description="Last day, included."),
            OpenApiParameter(
                "headers",
                OpenApiTypes.STR,
                enum=ExportHeaders.values,
                description="`names` (machine names, the default) or `labels` (for people, in the request's language).",
            ),
            OpenApiParameter(
                "dialect",
                OpenApiTypes.STR,
                enum=list(API_CSV_STYLES),
                description="`standard` (the default) or `excel_ru`: for Excel with Russian settings (`;`, BOM, "
                "`1234,50`).",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row."),
            **error_responses(400),
        },
        tags=["reports"],
    )
    def get(self, request):
        serializer = PeriodSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        date_from, date_to = serializer.validated_data["date_from"], serializer.validated_data["date_to"]
        start = dates.local_day_start(date_from)
        end = dates.local_day_start(date_to + datetime.timedelta(days=1))
        rows = OrderLine.objects.filter(order__created_at__gte=start, order__created_at__lt=end)
        if not isinstance(request.auth, ApiKey):  # staff signed in to the admin: their own stores
            visible = visible_locations(request.user)
            if not visible.every:
                rows = rows.filter(order__location_id__in=visible.ids)
        rows = rows.order_by("order__created_at", "order_id", "id").values_list(*(field for _name, field in COLUMNS))
        options = serializer.validated_data
        lines = order_lines_csv(
            rows.iterator(chunk_size=CHUNK_SIZE), headers=options["headers"], style=API_CSV_STYLES[options["dialect"]]
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv"'
        return response
