"""Stock now, not of the period: units and value by location, items below their minimum, and
transfers in transit."""

from django.db.models import Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import npgettext, pgettext

from inventory.models import Stock, Transfer, TransferLine, TransferStatus
from inventory.selectors import LOW_STOCK
from omni.reports.figures import Column, Figure, Table, sum_money
from omni.reports.filters import ReportFilters
from omni.reports.selectors.common import ZERO, report_currency
from omni.reports.summaries import MONEY_FIELD


def stock(filters: ReportFilters) -> tuple[list[Figure], list[Table]]:
    """Stock now (not of the period): by location, items below their minimum, transfers in transit."""
    rows = Stock.objects.filter(filters.location("location"))
    by_location = _stock_by_location(rows)
    low_items = _low_stock_items(rows)
    transit = _transfers_in_transit(filters)
    tables = [_stock_by_location_table(by_location), _low_stock_table(low_items), _transit_table(transit)]
    return _stock_figures(by_location, transit), tables


def _stock_by_location(rows: QuerySet[Stock]) -> list[dict]:
    """Units, reserved units, value and the number of low items at each location: one query."""
    by_location = (
        rows.values("location", "location__code", "location__name")
        .annotate(
            units=Sum("on_hand"),
            held=Sum("reserved"),
            value=Sum(ExpressionWrapper(F("on_hand") * F("product__price"), output_field=MONEY_FIELD)),
            low=Count("pk", filter=LOW_STOCK),
        )
        .order_by("location__code")
    )
    return [
        {
            "key": row["location"],
            "label": f"{row['location__code']} — {row['location__name']}",
            "on_hand": int(row["units"] or 0),
            "reserved": int(row["held"] or 0),
            "available": int((row["units"] or 0) - (row["held"] or 0)),
            "value": sum_money(row["value"]),
            "low": row["low"],
        }
        for row in by_location
    ]


def _low_stock_items(rows: QuerySet[Stock]) -> list[dict]:
    """The 20 low items with the least available."""
    return list(
        rows.filter(LOW_STOCK)
        .annotate(available=F("on_hand") - F("reserved"))
        .values("location__code", "product__sku", "product__name", "on_hand", "reserved", "available", "min_quantity")
        .order_by("available", "location__code", "product__sku")[:20]
    )


def _transfers_in_transit(filters: ReportFilters) -> list[dict]:
    """Each transfer in transit from or to the locations shown, with its units and their value."""
    place = filters.location("source") | filters.location("destination") if filters.location("source") else Q()
    return list(
        TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT)
        .filter(Q(transfer__in=Transfer.objects.filter(place)))
        .values(
            "transfer",
            "transfer__number",
            "transfer__source__code",
            "transfer__destination__code",
            "transfer__shipped_at",
        )
        .annotate(
            units=Sum("quantity"),
            value=Sum(ExpressionWrapper(F("quantity") * F("product__price"), output_field=MONEY_FIELD)),
        )
        .order_by("transfer__shipped_at", "transfer")
    )


def _stock_figures(by_location: list[dict], transit: list[dict]) -> list[Figure]:
    currency = report_currency()
    low_items_count = sum(row["low"] for row in by_location)
    transfers_count = len({row["transfer"] for row in transit})
    return [
        Figure(
            "stock_units",
            _("Units on hand"),
            sum(row["on_hand"] for row in by_location),
            _("units"),
            _("Units on hand now at the locations shown, reserved ones included."),
        ),
        Figure(
            "stock_value",
            _("Stock value"),
            sum_money(sum((row["value"] for row in by_location), ZERO)),
            currency,
            _("Units on hand now × the product's current catalogue price."),
        ),
        Figure(
            "low_stock_items",
            _("Items below their minimum"),
            low_items_count,
            npgettext("unit after a count", "item", "items", low_items_count),
            _(
                "Stock rows (product at a location) whose available quantity (on hand − reserved) is "
                "below their minimum quantity."
            ),
        ),
        Figure(
            "transfers_in_transit",
            _("Transfers in transit"),
            transfers_count,
            npgettext("unit after a count", "transfer", "transfers", transfers_count),
            _("Transfers shipped and not yet received, from or to the locations shown."),
        ),
    ]


def _stock_by_location_table(by_location: list[dict]) -> Table:
    return Table(
        "stock_by_location",
        _("Stock by location"),
        _("Units now at each location and their value at current catalogue prices; low = items below their minimum."),
        [
            Column("label", _("location")),
            Column("on_hand", _("on hand"), True),
            Column("reserved", _("reserved"), True),
            Column("available", _("available"), True),
            Column("value", _("value"), True),
            Column("low", _("items below minimum"), True),
        ],
        by_location,
        chart=("bar", "label", "value"),
    )


def _low_stock_table(low_items: list[dict]) -> Table:
    return Table(
        "low_stock",
        _("Items below their minimum"),
        _("The 20 items furthest below their minimum: available = on hand − reserved."),
        [
            Column("location", _("location")),
            Column("sku", _("SKU")),
            Column("name", pgettext("goods", "name")),
            Column("available", _("available"), True),
            Column("min_quantity", _("minimum"), True),
        ],
        [
            {
                "location": row["location__code"],
                "sku": row["product__sku"],
                "name": row["product__name"],
                "available": row["available"],
                "min_quantity": row["min_quantity"],
            }
            for row in low_items
        ],
        empty_text=_("No item is below its minimum."),
    )


def _transit_table(transit: list[dict]) -> Table:
    return Table(
        "transfers_in_transit",
        _("Transfers in transit"),
        _("Transfers shipped and not yet received; value at current catalogue prices."),
        [
            Column("number", _("transfer")),
            Column("source", _("from")),
            Column("destination", _("to")),
            Column("shipped_at", _("shipped at")),
            Column("units", _("units"), True),
            Column("value", _("value"), True),
        ],
        [
            {
                "number": row["transfer__number"],
                "source": row["transfer__source__code"],
                "destination": row["transfer__destination__code"],
                "shipped_at": row["transfer__shipped_at"],
                "units": int(row["units"] or 0),
                "value": sum_money(row["value"]),
            }
            for row in transit
        ],
        empty_text=_("No transfer is in transit."),
    )
