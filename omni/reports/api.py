"""Reports for integrations: orders and their lines for a period as a streamed CSV file."""

import csv
import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
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


class PeriodSerializer(serializers.Serializer):
    date_from = dates.DateField(help_text="First day of the period (YYYY-MM-DD), included.")
    date_to = dates.DateField(help_text="Last day of the period (YYYY-MM-DD), included.")

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


def _cell(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    return "" if value is None else value


def order_lines_csv(rows):
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _field in COLUMNS])
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


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
        response = StreamingHttpResponse(
            order_lines_csv(rows.iterator(chunk_size=CHUNK_SIZE)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="orders-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv"'
        return response
