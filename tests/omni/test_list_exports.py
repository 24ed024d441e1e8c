"""Exports of the admin change lists: exactly the rows the list shows under its filters and search,
limited to the user's stores, at once when small and through an export job when large."""

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from inventory import services as inventory
from inventory.models import Stock
from inventory.services import ProductQuantity
from loyalty.models import Account, EntryKind, PointsEntry
from omni.core.roles import HEAD_OFFICE, STORE_MANAGER, STORE_STAFF
from omni.reports.exports import services
from omni.reports.models import ExportJob, ExportStatus
from orders.models import (
    Fulfilment,
    Order,
    OrderLine,
    OrderReturn,
    OrderStatus,
    RefundMethod,
    ReturnCondition,
    ReturnLine,
)
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import EmployeeFactory, LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def make_order(number, *, channel, location, customer, lines, status=OrderStatus.SOLD):
    total = sum((product.price * quantity for product, quantity in lines), Decimal("0"))
    order = Order.objects.create(
        number=number,
        channel=channel,
        fulfilment=Fulfilment.IN_STORE if channel == "store" else Fulfilment.CLICK_AND_COLLECT,
        status=status,
        customer=customer,
        location=location,
        subtotal=total,
        total=total,
        paid=total if status != OrderStatus.CANCELLED else 0,
        completed_at=timezone.now() if status != OrderStatus.CANCELLED else None,
        cancelled_at=timezone.now() if status == OrderStatus.CANCELLED else None,
    )
    for product, quantity in lines:
        amount = product.price * quantity
        OrderLine.objects.create(
            order=order,
            product=product,
            sku=product.sku,
            name=product.name,
            unit_price=product.price,
            quantity=quantity,
            subtotal=amount,
            amount=amount,
            total=amount,
        )
    return order


def make_return(number, order, *, location, refund_method):
    line = order.lines.order_by("id").first()
    order_return = OrderReturn.objects.create(
        number=number,
        order=order,
        location=location,
        reason="size",
        refund_method=refund_method,
        amount=line.unit_price,
        paid_amount=line.unit_price,
        refund_amount=line.unit_price,
    )
    ReturnLine.objects.create(
        order_return=order_return,
        order_line=line,
        quantity=1,
        condition=ReturnCondition.RESELLABLE,
        amount=line.unit_price,
        paid_amount=line.unit_price,
    )
    return order_return


def make_entry(account, *, kind, points, store, cause_id, channel="store"):
    now = timezone.now()
    return PointsEntry.objects.create(
        account=account,
        kind=kind,
        bonus_type="campaign" if kind == EntryKind.BONUS else "",
        points=points,
        remaining=points,
        spendable_from=now,
        expires_at=now + datetime.timedelta(days=365),
        channel=channel,
        store=store,
        cause_type="order",
        cause_id=cause_id,
    )


@pytest.fixture
def world():
    """Two stores, A and B, each with orders, a return, customers, stock, ledger rows and points.

    | order | channel | store | customer | lines      | return                   |
    |-------|---------|-------|----------|------------|--------------------------|
    | A-1   | store   | A     | ann (A)  | P1 x2      |                          |
    | A-2   | site    | A     | ann (A)  | P2, P1     | RA at A, to points       |
    | B-1   | site    | B     | bob (B)  | P1         |                          |
    | B-2   | store   | B     | bob (B)  | P2 x3      | RB at B, to the original |

    Stock: P1 and P2 received at A (R-A), P1 at B (R-B), then P2 counted at A (C-A); P2 at A is
    below its minimum. Points: an earning at A and one at B, a bonus at B. Cyd prefers no store and
    never bought.
    """
    store_a = LocationFactory(code="a", name="Store A")
    store_b = LocationFactory(code="b", name="Store B", city="Kazan")
    p1 = ProductFactory(sku="P1", price=Decimal("100.00"))
    p2 = ProductFactory(sku="P2", price=Decimal("50.00"))
    ann = CustomerFactory(last_name="Annova", preferred_store=store_a, created_channel="store")
    bob = CustomerFactory(last_name="Bobrov", preferred_store=store_b, city="Kazan", created_channel="store")
    cyd = CustomerFactory(last_name="Cydorov", created_channel="site")

    make_order("A-1", channel="store", location=store_a, customer=ann, lines=[(p1, 2)])
    a2 = make_order("A-2", channel="site", location=store_a, customer=ann, lines=[(p2, 1), (p1, 1)])
    make_order("B-1", channel="site", location=store_b, customer=bob, lines=[(p1, 1)], status=OrderStatus.CANCELLED)
    b2 = make_order("B-2", channel="store", location=store_b, customer=bob, lines=[(p2, 3)])
    make_return("RA", a2, location=store_a, refund_method=RefundMethod.POINTS)
    make_return("RB", b2, location=store_b, refund_method=RefundMethod.ORIGINAL)

    inventory.stock_receive(
        location=store_a, lines=[ProductQuantity(p1.pk, 10), ProductQuantity(p2.pk, 5)], number="R-A"
    )
    inventory.stock_receive(location=store_b, lines=[ProductQuantity(p1.pk, 3)], number="R-B")
    inventory.stock_count(location=store_a, lines=[ProductQuantity(p2.pk, 4)], number="C-A")
    Stock.objects.filter(product=p2, location=store_a).update(min_quantity=10)

    account_a = Account.objects.create(customer=ann)
    account_b = Account.objects.create(customer=bob)
    make_entry(account_a, kind=EntryKind.EARN, points=20, store=store_a, cause_id="A-1")
    make_entry(account_b, kind=EntryKind.EARN, points=30, store=store_b, cause_id="B-2")
    make_entry(account_b, kind=EntryKind.BONUS, points=500, store=store_b, cause_id="B-bonus")
    return SimpleNamespace(store_a=store_a, store_b=store_b, p1=p1, p2=p2, ann=ann, bob=bob, cyd=cyd)


@pytest.fixture
def login(client, staff_in_role):
    def as_role(role, *locations):
        user = staff_in_role(role, locations=locations)
        client.force_login(user)
        return user

    return as_role


# Each list: its admin, the columns that name a row of its file, an admin filter with the rows it
# leaves, and a filter a manager of store A forges for store B.
LISTS = {
    "orders": SimpleNamespace(
        model="orders_order",
        key=("order", "sku"),
        query=lambda w: {"channel__exact": "site"},
        filtered={("A-2", "P2"), ("A-2", "P1"), ("B-1", "P1")},
        forged=lambda w: {"location__id__exact": w.store_b.pk},
        store_a={("A-1", "P1"), ("A-2", "P2"), ("A-2", "P1")},
    ),
    "returns": SimpleNamespace(
        model="orders_orderreturn",
        key=("return", "sku"),
        query=lambda w: {"refund_method__exact": "original"},
        filtered={("RB", "P2")},
        forged=lambda w: {"location__id__exact": w.store_b.pk},
        store_a={("RA", "P2")},
    ),
    "customers": SimpleNamespace(
        model="customers_customer",
        key=("last_name",),
        query=lambda w: {"created_channel__exact": "store"},
        filtered={("Annova",), ("Bobrov",)},
        forged=lambda w: {"q": "Bobrov"},
        store_a={("Annova",)},
    ),
    "stock": SimpleNamespace(
        model="inventory_stock",
        key=("location", "sku"),
        query=lambda w: {"low_stock": "yes"},
        filtered={("a", "P2")},
        forged=lambda w: {"location__id__exact": w.store_b.pk},
        store_a={("a", "P1"), ("a", "P2")},
    ),
    "ledger": SimpleNamespace(
        model="inventory_stockmovement",
        key=("location", "sku", "reason"),
        query=lambda w: {"reason__exact": "receipt", "q": "P1"},
        filtered={("a", "P1", "receipt"), ("b", "P1", "receipt")},
        forged=lambda w: {"location__id__exact": w.store_b.pk},
        store_a={("a", "P1", "receipt"), ("a", "P2", "receipt"), ("a", "P2", "count")},
    ),
    "points": SimpleNamespace(
        model="loyalty_pointsentry",
        key=("store", "cause_id"),
        query=lambda w: {"kind__exact": "earn"},
        filtered={("a", "A-1"), ("b", "B-2")},
        forged=lambda w: {"store__id__exact": w.store_b.pk},
        store_a={("a", "A-1")},
    ),
}


def export_url(model: str, file_format: str = "csv", query: dict | None = None) -> str:
    """The export of a change list with machine names for its columns (what these tests look up)."""
    url = reverse(f"admin:{model}_export_list", args=[file_format])
    return f"{url}?{urlencode({**(query or {}), '_headers': 'names'})}"


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def keys(rows: list[list], names: tuple[str, ...]) -> list[tuple]:
    header, body = rows[0], rows[1:]
    columns = [header.index(name) for name in names]
    return [tuple(row[column] for column in columns) for row in body]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- At once ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_an_export_has_exactly_the_rows_of_the_filtered_list(client, login, world, name):
    spec = LISTS[name]
    login(HEAD_OFFICE)

    response = client.get(export_url(spec.model, query=spec.query(world)))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = keys(csv_rows(response.content), spec.key)
    assert sorted(rows) == sorted(spec.filtered)  # each row once, none left out


@pytest.mark.parametrize("name", LISTS)
def test_a_store_manager_exports_only_their_store_even_with_a_forged_filter(client, login, world, name):
    spec = LISTS[name]
    login(STORE_MANAGER, world.store_a)

    unfiltered = client.get(export_url(spec.model))
    forged = client.get(export_url(spec.model, query=spec.forged(world)))

    assert set(keys(csv_rows(unfiltered.content), spec.key)) == spec.store_a
    assert set(keys(csv_rows(forged.content), spec.key)) <= spec.store_a


def test_a_manager_of_two_stores_filtering_for_a_third_gets_nothing(client, login, world):
    store_c = LocationFactory(code="c")
    login(STORE_MANAGER, world.store_a, store_c)  # two stores: the location filter is on the list

    response = client.get(export_url("orders_order", query={"location__id__exact": world.store_b.pk}))

    assert csv_rows(response.content)[1:] == []


def test_the_order_of_the_list_and_its_search_apply_in_xlsx(client, login, world):
    login(HEAD_OFFICE)

    response = client.get(export_url("orders_order", "xlsx", {"q": "A-", "o": "1"}))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = [
        list(row) for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert sorted(keys(rows, ("order", "sku"))) == [("A-1", "P1"), ("A-2", "P1"), ("A-2", "P2")]


@pytest.mark.parametrize("name", LISTS)
def test_the_changelist_links_to_its_export_with_its_filters(client, login, world, name):
    spec = LISTS[name]
    login(HEAD_OFFICE)

    page = client.get(reverse(f"admin:{spec.model}_changelist"), spec.query(world))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Export to CSV" in html and "Export to XLSX" in html
    link = re.search(rf'href="{reverse(f"admin:{spec.model}_export_list", args=["xlsx"])}\?([^"]*)"', html)
    assert parse_qs(unescape(link.group(1))) == parse_qs(urlencode(spec.query(world)))


@pytest.mark.parametrize("name", LISTS)
def test_without_the_export_permission_there_is_no_button_and_no_export(client, login, world, name):
    spec = LISTS[name]
    login(STORE_STAFF, world.store_a)  # may see every list, may not export

    page = client.get(reverse(f"admin:{spec.model}_changelist"))
    export = client.get(export_url(spec.model))

    assert page.status_code == 200
    assert "Export to CSV" not in page.content.decode()
    assert export.status_code == 403
    assert not ExportJob.objects.exists()


def test_the_export_permission_alone_does_not_export_a_list_one_may_not_see(client, world):
    user = EmployeeFactory(locations=[world.store_a]).user
    user.user_permissions.set(
        [
            Permission.objects.get(codename="export_reports", content_type__app_label="reports"),
            Permission.objects.get(codename="view_order", content_type__app_label="orders"),
        ]
    )
    client.force_login(user)

    assert client.get(export_url("orders_order")).status_code == 200
    assert client.get(export_url("loyalty_pointsentry")).status_code == 403


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"location__id__exact": "not-a-number"},
        {"no_such_field": "1"},
        {"customer__last_name": "Annova"},  # not a lookup the list offers
        {"created_at__year": "2026", "created_at__month": "13"},
    ],
)
def test_bad_filters_give_a_clear_message_and_export_nothing(client, login, world, query):
    login(HEAD_OFFICE)

    response = client.get(export_url("orders_order", query=query))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_changelist")
    assert any("filters are not valid" in text for text in messages_of(response))
    assert not ExportJob.objects.exists()


def test_a_nul_character_in_the_filters_is_a_bad_request_and_exports_nothing(client, login, world):
    login(HEAD_OFFICE)

    response = client.get(export_url("orders_order", query={"q": "A\x00"}))

    assert response.status_code == 400  # refused for the whole site before any view (omni.core.middleware)
    assert not ExportJob.objects.exists()


def test_an_unknown_format_is_refused_with_a_message(client, login, world):
    login(HEAD_OFFICE)

    response = client.get(export_url("orders_order", "pdf"))

    assert response.status_code == 302
    assert "Export to CSV or XLSX." in messages_of(response)


# --- Large: a job -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_a_large_export_is_a_job_whose_file_has_the_filtered_rows(
    client, login, world, settings, django_capture_on_commit_callbacks, name
):
    spec = LISTS[name]
    settings.REPORTS_ASYNC_EXPORT_ROWS = 0
    settings.REPORTS_EXPORT_CHUNK_SIZE = 1
    user = login(HEAD_OFFICE)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(export_url(spec.model, query=spec.query(world)))

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_exportjob_progress", args=[job.pk])
    assert (job.user, job.what, job.status) == (user, f"admin:{name}", ExportStatus.DONE)
    assert job.filters == {"query": urlencode(spec.query(world))}
    assert job.rows_done == job.rows_total == len(spec.filtered)
    assert b"<progress" in client.get(response["Location"]).content
    download = client.get(reverse("admin:reports_exportjob_download", args=[job.pk]))
    assert sorted(keys(csv_rows(b"".join(download.streaming_content)), spec.key)) == sorted(spec.filtered)


def test_a_store_managers_job_rebuilds_their_rows_only(client, login, world, settings):
    settings.REPORTS_ASYNC_EXPORT_ROWS = 1
    user = login(STORE_MANAGER, world.store_a)

    response = client.get(export_url("orders_order", "xlsx"))
    job = services.export_job_run(job_id=ExportJob.objects.get().pk)
    # A query string edited to name store B, stored on a job: rebuilt for the manager, it has no row of B.
    forged = ExportJob.objects.create(
        user=user,
        what="admin:orders",
        filters={"query": f"location__id__exact={world.store_b.pk}"},
        file_format="csv",
        headers="names",
    )
    forged = services.export_job_run(job_id=forged.pk)

    assert response.status_code == 302 and job.status == ExportStatus.DONE
    sheet = openpyxl.load_workbook(job.file.path).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert set(keys(rows, ("order", "sku"))) == LISTS["orders"].store_a
    assert forged.status == ExportStatus.DONE
    with forged.file.open("rb") as file:
        assert set(keys(csv_rows(file.read()), ("order", "sku"))) <= LISTS["orders"].store_a


def test_a_job_is_checked_again_when_it_runs(world, staff_in_role):
    user = staff_in_role(STORE_MANAGER, locations=[world.store_a])
    job = ExportJob.objects.create(user=user, what="admin:orders", filters={"query": ""}, file_format="csv")
    user.groups.set([Group.objects.get(name=STORE_STAFF)])  # no longer may export

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED
    assert "may no longer export" in job.error


def test_a_job_with_bad_filters_fails_and_says_why(world, staff_in_role):
    user = staff_in_role(HEAD_OFFICE)
    job = ExportJob.objects.create(
        user=user, what="admin:orders", filters={"query": "location__id__exact=x"}, file_format="csv"
    )

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED
    assert "filters are not valid" in job.error


def test_a_job_for_a_list_that_is_not_exported_fails(world, staff_in_role):
    user = staff_in_role(HEAD_OFFICE)
    job = ExportJob.objects.create(user=user, what="admin:report:x", filters={}, file_format="csv")

    job = services.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.FAILED


def test_an_admin_whose_list_is_not_an_export_fails_the_checks():
    from django.contrib.admin import AdminSite, ModelAdmin

    from inventory.models import Location
    from omni.reports.exports.admin import ListExportMixin

    class Unlisted(ListExportMixin, ModelAdmin):
        pass

    errors = Unlisted(Location, AdminSite()).check()

    assert [error.id for error in errors] == ["omni.E002"]
