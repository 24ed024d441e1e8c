"""Returns: return rates by channel and by store, returns taken in a store for another channel's
orders, and the top reasons."""

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import npgettext

from omni.core.channels import Channel
from omni.reports.figures import Column, Figure, Table, ratio, sum_money
from omni.reports.filters import ReportFilters
from omni.reports.models import DailyReturns
from omni.reports.selectors.common import channel_label, location_labels
from omni.reports.selectors.cube import SalesCube, sales_cube


def _return_rate_rows(cells: dict, labels: dict) -> list[dict]:
    rows = [
        {
            "key": key,
            "label": labels.get(key, "—"),
            "sold": int(cell["sold"]),
            "returned": int(cell["returned"]),
            "return_rate": ratio(cell["returned"], cell["sold"], percent=True),
        }
        for key, cell in cells.items()
        if cell["sold"]
    ]
    return sorted(rows, key=lambda row: str(row["label"]))


def returns(filters: ReportFilters, cube: SalesCube | None = None) -> tuple[list[Figure], list[Table]]:
    """Return rates by channel and by store (from the sales cube), returns taken in a store for
    another channel's orders, and the top reasons: two more queries."""
    cube = cube or sales_cube(filters)
    rate_tables = _return_rate_tables(cube)
    total = cube.total()
    in_period = _returns_in_period(filters)
    cross_rows = _cross_channel_rows(in_period)
    cross_returns = sum(row["returns"] for row in cross_rows)
    figures = [
        Figure(
            "return_rate",
            _("Return rate"),
            ratio(total["returned"], total["sold"], percent=True),
            "%",
            _return_rate_definition(),
        ),
        Figure(
            "cross_channel_returns",
            _("Returns in a store for orders of another channel"),
            cross_returns,
            npgettext("unit after a count", "return", "returns", cross_returns),
            _("Returns accepted in the period in a store for orders placed through another channel than the store."),
        ),
    ]
    return figures, [*rate_tables, _cross_channel_table(cross_rows), _reasons_table(in_period)]


def _return_rate_definition() -> str:
    return _(
        "Of the orders completed in the period: units returned so far ÷ units handed over (ordered − refused) × 100 %."
    )


def _return_rate_tables(cube: SalesCube) -> list[Table]:
    """Return rates by channel and by store."""
    rate_columns = [
        Column("label", _("channel")),
        Column("sold", _("units handed over"), True),
        Column("returned", _("units returned"), True),
        Column("return_rate", _("return rate, %"), True),
    ]
    rate_definition = _return_rate_definition()
    channel_cells = cube.rollup("channel")
    by_channel = _return_rate_rows(channel_cells, {key: channel_label(key) for key in channel_cells})
    store_cells = cube.rollup("location")
    by_store = _return_rate_rows(store_cells, location_labels(store_cells))
    return [
        Table(
            "return_rate_by_channel",
            _("Return rate by channel"),
            rate_definition,
            rate_columns,
            by_channel,
            chart=("bar", "label", "return_rate"),
        ),
        Table(
            "return_rate_by_store",
            _("Return rate by store"),
            rate_definition,
            [Column("label", _("store")), *rate_columns[1:]],
            by_store,
            chart=("bar", "label", "return_rate"),
        ),
    ]


def _returns_in_period(filters: ReportFilters) -> QuerySet[DailyReturns]:
    """The summary rows of the returns accepted in the period, at the locations and for orders of
    the channel of the filters."""
    in_period = DailyReturns.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to).filter(
        filters.location("location")
    )
    if filters.channel:
        in_period = in_period.filter(order_channel=filters.channel)
    return in_period


def _cross_channel_rows(in_period: QuerySet[DailyReturns]) -> list[dict]:
    """Per store, the returns it took for orders placed through another channel."""
    cross = (
        in_period.filter(location__kind="store")
        .exclude(order_channel=Channel.STORE)
        .values("location", "location__code", "location__name")
        .annotate(n_returns=Sum("returns"), n_units=Sum("units"), n_value=Sum("value"))
        .order_by("location__code")
    )
    return [
        {
            "key": row["location"],
            "label": f"{row['location__code']} — {row['location__name']}",
            "returns": row["n_returns"],
            "units": int(row["n_units"] or 0),
            "value": sum_money(row["n_value"]),
        }
        for row in cross
    ]


def _cross_channel_table(rows: list[dict]) -> Table:
    return Table(
        "cross_channel_returns",
        _("Returns in a store for orders of another channel"),
        _(
            "Returns accepted in the period in each store for orders placed through another channel (site, "
            "app, call centre...); value = the goods' value after discounts."
        ),
        [
            Column("label", _("store")),
            Column("returns", _("returns"), True),
            Column("units", _("units"), True),
            Column("value", _("value"), True),
        ],
        rows,
    )


def _reasons_table(in_period: QuerySet[DailyReturns]) -> Table:
    reasons = in_period.values("reason").annotate(n_returns=Sum("returns")).order_by("-n_returns", "reason")[:10]
    return Table(
        "return_reasons",
        _("Top return reasons"),
        _("Returns accepted in the period, by the reason written on them."),
        [Column("reason", _("reason")), Column("returns", _("returns"), True)],
        [{"key": row["reason"], "reason": row["reason"], "returns": row["n_returns"]} for row in reasons],
    )
