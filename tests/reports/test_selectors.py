"""Every figure of the dashboard on the hand-built shop of ``conftest.py``, against hand-computed values."""

import datetime
from decimal import Decimal

import pytest

from omni.reports import selectors
from tests.reports.conftest import march

pytestmark = pytest.mark.django_db

D = Decimal


def by_key(figures):
    return {figure.key: figure for figure in figures}


def rows_by_label(table):
    return {row["label"]: row for row in table.rows}


# --- Sales ------------------------------------------------------------------------------


def test_sales_totals_and_previous_period(shop):
    figures = by_key(selectors.sales_figures(march()))

    # O1 200 + O2 (200 − 50) + O3 150 + O5 100 + O9 50
    assert figures["revenue"].value == D("650.00")
    assert figures["orders"].value == 5
    assert figures["average_check"].value == D("130.00")
    # units kept: O1 2 + O2 3 + O3 2 + O5 1 + O9 1 = 9
    assert figures["items_per_order"].value == D("1.80")
    # 29 Jan – 28 Feb: only O6
    assert figures["revenue"].previous == D("100.00")
    assert figures["orders"].previous == 1
    assert figures["revenue"].change_percent == D("550.00")
    assert all(figure.definition for figure in figures.values())


def test_sales_take_few_queries(shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        selectors.sales_totals(march())


def test_sales_by_channel_store_and_employee(shop):
    channel = rows_by_label(selectors.sales_by_channel(march()))
    assert {label: (row["revenue"], row["orders"], row["units"]) for label, row in channel.items()} == {
        "store": (D("250.00"), 2, 3),
        "website": (D("250.00"), 2, 4),
        "mobile app": (D("150.00"), 1, 2),
    }
    store = rows_by_label(selectors.sales_by_store(march()))
    assert store["a — Store A"]["revenue"] == D("400.00")
    assert store["a — Store A"]["orders"] == 3
    assert store["a — Store A"]["units"] == 6
    assert store["a — Store A"]["average_check"] == D("133.33")
    assert store["b — Store B"]["revenue"] == D("100.00")
    assert store["w — Warehouse"]["units"] == 2

    employee = selectors.sales_by_employee(march()).rows
    anna = next(row for row in employee if row["label"] == "anna")
    assert (anna["revenue"], anna["orders"], anna["units"]) == (D("250.00"), 2, 3)
    nobody = next(row for row in employee if row["key"] is None)
    assert (nobody["revenue"], nobody["orders"]) == (D("400.00"), 3)


def test_sales_by_period_fills_empty_days(shop):
    table = selectors.sales_by_period(march())
    assert table.title == "Sales by day"
    assert len(table.rows) == 31
    days = {row["key"]: row for row in table.rows}
    assert days["2026-03-05"]["revenue"] == D("200.00")
    assert days["2026-03-11"]["revenue"] == D("150.00")
    assert days["2026-03-11"]["units"] == 3
    assert days["2026-03-06"]["orders"] == 0
    assert sum(row["revenue"] for row in table.rows) == D("650.00")


def test_sales_by_month(shop):
    table = selectors.sales_by_period(march(granularity="month"))
    assert [(row["label"], row["revenue"], row["orders"]) for row in table.rows] == [
        (datetime.date(2026, 3, 1), D("650.00"), 5)
    ]
    assert table.rows[0]["period"] == "March 2026"


def test_top_products_and_categories(shop):
    products = selectors.top_products(march()).rows
    assert [(row["sku"], row["units"], row["value"]) for row in products] == [
        ("P2", 5, D("250.00")),
        ("P1", 4, D("400.00")),
    ]
    categories = selectors.top_categories(march()).rows
    assert [(row["name"], row["units"]) for row in categories] == [("Y", 5), ("X", 4)]


def test_click_and_collect_and_ship_to_store_shares(shop):
    figures = by_key(selectors.fulfilment_shares(march()))
    assert figures["click_and_collect_share"].value == D("40.00")  # O2, O5 of 5
    assert figures["ship_to_store_share"].value == D("20.00")  # O5 came by transfer


def test_filters_by_channel_store_and_city(shop):
    assert selectors.sales_totals(march(channel="site"))["revenue"] == D("250.00")
    assert selectors.sales_totals(march(store_id=shop.store_a.pk))["orders"] == 3
    assert selectors.sales_totals(march(city="Kazan"))["revenue"] == D("100.00")
    # a store manager of A sees A only, whatever they ask
    scoped = march(location_ids=frozenset({shop.store_a.pk}))
    assert selectors.sales_totals(scoped)["revenue"] == D("400.00")
    assert (
        selectors.sales_totals(march(location_ids=frozenset({shop.store_a.pk}), store_id=shop.store_b.pk))["orders"]
        == 0
    )


# --- Customers --------------------------------------------------------------------------


def test_customer_figures(shop):
    figures, omnichannel = selectors.customer_figures(march())
    figures = by_key(figures)
    assert figures["new_customers"].value == 2  # c1, c3
    assert figures["returning_customers"].value == 1  # c2 bought in February
    assert figures["repeat_purchase_rate"].value == D("50.00")  # c1, c2 of 4
    assert figures["purchase_frequency"].value == D("1.33")  # 4 orders of 3 customers in March
    assert figures["churn_rate"].value == D("25.00")  # c4, last bought 2025-06-01
    assert figures["lifetime_value"].value == D("200.00")  # (350 + 250 + 100 + 100) / 4

    rows = {row["key"]: row for row in omnichannel.rows}
    # c1 (store + site) and c2 (store + app): 4 orders, 600
    assert rows["several"] == {
        "key": "several",
        "label": "several channels",
        "customers": 2,
        "average_check": D("150.00"),
        "frequency": D("2.00"),
        "spend": D("300.00"),
    }
    # c3 (site) and c4 (store): 2 orders, 200
    assert (rows["one"]["customers"], rows["one"]["average_check"], rows["one"]["spend"]) == (
        2,
        D("100.00"),
        D("100.00"),
    )


def test_customer_figures_are_one_query(shop, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.customer_totals(march())


def test_churn_days_are_configurable(shop):
    figures = by_key(selectors.customer_figures(march(churn_days=20))[0])
    # at 1 April, 20 days back is 12 March: c1 (11 March) and c4 churned
    assert figures["churn_rate"].value == D("50.00")


# --- Click-and-collect ------------------------------------------------------------------


def test_click_and_collect_section(shop):
    figures, table = selectors.click_and_collect(march())
    figures = by_key(figures)
    assert figures["hours_to_ready"].value == D("13.50")  # (24 + 12 + 6 + 12) / 4
    assert figures["pickup_rate"].value == D("50.00")  # 2 collected of 2 + 1 expired + 1 cancelled
    assert figures["expired_share"].value == D("25.00")
    rows = rows_by_label(table)
    assert rows["a — Store A"]["hours_to_ready"] == D("24.00")
    assert rows["a — Store A"]["pickup_rate"] == D("100.00")
    assert rows["b — Store B"]["hours_to_ready"] == D("10.00")
    assert rows["b — Store B"]["pickup_rate"] == D("33.33")
    assert rows["b — Store B"]["expired_share"] == D("33.33")


# --- Returns ----------------------------------------------------------------------------


def test_returns_section(shop):
    figures, tables = selectors.returns(march())
    figures, tables = by_key(figures), {table.key: table for table in tables}
    assert figures["return_rate"].value == D("10.00")  # 1 returned of 10 handed over
    assert figures["cross_channel_returns"].value == 1
    by_channel = rows_by_label(tables["return_rate_by_channel"])
    assert (by_channel["website"]["sold"], by_channel["website"]["returned"]) == (5, 1)
    assert by_channel["website"]["return_rate"] == D("20.00")
    assert by_channel["store"]["return_rate"] == D("0.00")
    by_store = rows_by_label(tables["return_rate_by_store"])
    assert by_store["a — Store A"]["return_rate"] == D("14.29")  # 1 of 7
    assert tables["cross_channel_returns"].rows == [
        {"key": shop.store_a.pk, "label": "a — Store A", "returns": 1, "units": 1, "value": D("50.00")}
    ]
    assert tables["return_reasons"].rows == [{"key": "size", "reason": "size", "returns": 1}]


# --- Loyalty ----------------------------------------------------------------------------


def test_membership_figures(shop):
    figures = by_key(selectors.membership(march()))
    assert figures["participation_rate"].value == D("33.33")  # c1 of c1, c2, c3
    assert figures["members_average_check"].value == D("175.00")  # (200 + 150) / 2
    assert figures["non_members_average_check"].value == D("125.00")  # (150 + 100) / 2
    assert figures["members_purchase_frequency"].value == D("2.00")
    assert figures["non_members_purchase_frequency"].value == D("1.00")


def test_loyalty_section_adds_loyalty_kpis(shop):
    figures, note = selectors.loyalty(march())
    keys = [figure.key for figure in figures]
    assert "redemption_rate" in keys and "participation_rate" in keys
    assert keys.count("participation_rate") == 1
    assert note == ""


def test_loyalty_kpis_need_one_store_for_a_manager_of_several(shop):
    figures, note = selectors.loyalty(march(location_ids=frozenset({shop.store_a.pk, shop.store_b.pk})))
    assert "Choose one of your stores" in note
    assert "redemption_rate" not in [figure.key for figure in figures]


def test_loyalty_kpis_are_never_of_a_store_the_user_does_not_see(shop):
    figures, note = selectors.loyalty(march(store_id=shop.store_b.pk, location_ids=frozenset({shop.store_a.pk})))
    assert "redemption_rate" not in [figure.key for figure in figures]
    assert note


# --- Stock ------------------------------------------------------------------------------


def test_stock_section(shop):
    figures, tables = selectors.stock(march())
    figures, tables = by_key(figures), {table.key: table for table in tables}
    assert figures["stock_units"].value == 14
    assert figures["stock_value"].value == D("1350.00")  # A: 10 × 100 + 1 × 50; B: 3 × 100
    assert figures["low_stock_items"].value == 1  # P2 at A: 1 available, minimum 5
    assert figures["transfers_in_transit"].value == 1
    rows = rows_by_label(tables["stock_by_location"])
    assert rows["a — Store A"]["available"] == 9
    assert rows["a — Store A"]["value"] == D("1050.00")
    assert tables["low_stock"].rows[0]["sku"] == "P2"
    assert tables["transfers_in_transit"].rows[0]["units"] == 3

    scoped = by_key(selectors.stock(march(location_ids=frozenset({shop.store_a.pk})))[0])
    assert scoped["stock_units"].value == 11
    assert scoped["transfers_in_transit"].value == 0  # W → B


# --- Everything -------------------------------------------------------------------------


def test_dashboard_has_every_section_and_definitions(shop):
    sections = selectors.dashboard(march())
    assert list(sections) == ["sales", "customers", "click_and_collect", "returns", "loyalty", "stock", "nps"]
    for section in sections.values():
        for figure in section["figures"]:
            assert figure.definition, figure.key
        for table in section["tables"]:
            assert table.definition, table.key


def test_dashboard_query_budget_does_not_grow_with_orders(shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(45):
        selectors.dashboard(march())
