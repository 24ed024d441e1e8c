"""Every figure of the managers' dashboard, computed with aggregate SQL.

Each section is a function of ``ReportFilters`` that runs a handful of aggregate queries (never a
loop over orders in Python) and returns ``Figure`` and ``Table`` objects, each with its definition.

Definitions (shown next to each figure):

- Completed order: collected, delivered or sold in store; it counts on the day it was completed.
- Revenue: what customers paid in money for completed orders less what was refunded on them
  (``paid − refunded``), by the period in which the order was completed (a later refund lowers
  the revenue of the period of completion).
- Units sold: units ordered − refused at handover − returned.
- A store: the order's location (the pickup store, the store of a sale, or the location a
  delivery ships from); the city is that location's city. Store managers see only their stores.

One module per section of the dashboard (``sales``, ``products``, ``customers``, ``pickups``,
``return_rates``, ``loyalty_figures``, ``stock_now``), the sales cube several of them roll up
(``cube``), what they all start from (``common``), and the whole page (``page``). Callers import
from this package.
"""

from omni.reports.selectors.common import completed_orders, daily_sales
from omni.reports.selectors.cube import CUBE_SUMS, SalesCube, sales_cube
from omni.reports.selectors.customers import (
    customer_figures,
    customer_totals,
    customer_totals_from_orders,
    customer_totals_from_summaries,
    whole_history_summarised,
)
from omni.reports.selectors.loyalty_figures import loyalty, loyalty_period, membership, membership_totals
from omni.reports.selectors.page import (
    dashboard,
    dashboard_cached,
    dashboard_kept_until,
    report_session,
    report_tables,
)
from omni.reports.selectors.pickups import click_and_collect
from omni.reports.selectors.products import product_sales, top_categories, top_products
from omni.reports.selectors.return_rates import returns
from omni.reports.selectors.sales import (
    fulfilment_shares,
    sales_by_channel,
    sales_by_employee,
    sales_by_period,
    sales_by_store,
    sales_figures,
    sales_totals,
)
from omni.reports.selectors.stock_now import stock

__all__ = [
    "CUBE_SUMS",
    "SalesCube",
    "click_and_collect",
    "completed_orders",
    "customer_figures",
    "customer_totals",
    "customer_totals_from_orders",
    "customer_totals_from_summaries",
    "daily_sales",
    "dashboard",
    "dashboard_cached",
    "dashboard_kept_until",
    "fulfilment_shares",
    "loyalty",
    "loyalty_period",
    "membership",
    "membership_totals",
    "product_sales",
    "report_session",
    "report_tables",
    "returns",
    "sales_by_channel",
    "sales_by_employee",
    "sales_by_period",
    "sales_by_store",
    "sales_cube",
    "sales_figures",
    "sales_totals",
    "stock",
    "top_categories",
    "top_products",
    "whole_history_summarised",
]
