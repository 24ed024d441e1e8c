"""The read replica (``DATABASE_REPLICA_URL``): the dashboard reads from it, nothing else does.

In the tests the alias ``replica`` is a second connection to the test database (``TEST["MIRROR"]``,
tests/settings.py); the tests run outside a test transaction so that both connections see the rows.
"""

import datetime
import json
import os
import subprocess
import sys

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from omni.core.db import REPLICA, reporting_alias, reporting_reads
from omni.reports import selectors
from omni.reports.filters import ReportFilters
from omni.reports.summaries import summaries_refresh_pending
from orders.models import Order, OrderStatus
from tests.loyalty.factories import ProgrammeFactory
from tests.orders.factories import customer, product, stock, store

both = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


def sql_of(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries]


def captured():
    return CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]), CaptureQueriesContext(connections[REPLICA])


def place_order(client_with_scopes) -> Order:
    ProgrammeFactory()
    shop, shirt = store(code="msk-1"), product("1500.00")
    stock(shop, shirt, 10)
    body = {
        "channel": "site",
        "fulfilment": "click_and_collect",
        "customer": customer().pk,
        "pickup_location": shop.code,
        "lines": [{"sku": shirt.sku, "quantity": 2}],
    }
    primary, replica = captured()
    with primary, replica:
        response = client_with_scopes("orders:read", "orders:write").post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.content
    assert sql_of(replica) == []
    assert any("INSERT INTO" in sql and "orders_order" in sql for sql in sql_of(primary))
    return Order.objects.get(number=response.json()["number"])


@both
def test_placing_an_order_reads_and_writes_the_primary_only(client_with_scopes):
    place_order(client_with_scopes)


@both
def test_the_dashboard_reads_from_the_replica_and_folds_changes_in_on_the_primary(client_with_scopes):
    order = place_order(client_with_scopes)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COLLECTED, completed_at=timezone.now())
    summaries_refresh_pending()
    today = timezone.localdate()
    filters = ReportFilters(date_from=today - datetime.timedelta(days=29), date_to=today)
    primary, replica = captured()
    with primary, replica:
        sections = selectors.dashboard(filters)
    assert sections["sales"]["figures"][1].value == 0  # the update above bypassed the services
    report_tables = ("omni_dailysales", "omni_customersales", "omni_dailyproductsales", "inventory_stock")
    assert all(any(table in sql for sql in sql_of(replica)) for table in report_tables)
    assert not any(table in sql for sql in sql_of(primary) for table in report_tables)
    assert any("omni_summarychange" in sql for sql in sql_of(primary))  # the pending changes, read on the primary


@both
def test_inside_a_transaction_on_the_primary_reporting_reads_stay_there():
    """What a report calls inside a write transaction (the summaries' refresh, under an export
    wrapped in reporting_reads) reads what that transaction sees, never a lagging copy."""
    primary, replica = captured()
    with reporting_reads():
        assert reporting_alias() == REPLICA
        with primary, replica:
            with transaction.atomic():
                assert reporting_alias() == DEFAULT_DB_ALIAS
                Order.objects.exists()
            summaries_refresh_pending()
            Order.objects.exists()
    assert reporting_alias() == DEFAULT_DB_ALIAS
    assert len(sql_of(replica)) == 1
    assert sql_of(primary)


def test_without_a_replica_reporting_reads_use_the_primary(monkeypatch):
    monkeypatch.delitem(connections.settings, REPLICA)
    with reporting_reads():
        assert reporting_alias() == DEFAULT_DB_ALIAS


def test_outside_reporting_reads_everything_uses_the_primary():
    assert reporting_alias() == DEFAULT_DB_ALIAS


def settings_with(**env) -> dict:
    """The DATABASES and routers the real settings make of these environment variables."""
    code = (
        "import json, omni.settings as s; "
        "print(json.dumps({'databases': s.DATABASES, 'routers': s.DATABASE_ROUTERS}, default=str))"
    )
    environment = {**os.environ, "SECRET_KEY": "tests-only", "DATABASE_URL": "postgresql://u@primary:5432/omni"}
    environment.pop("DATABASE_REPLICA_URL", None)
    environment.pop("DB_TRANSACTION_POOLER", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env={**environment, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_the_replica_alias_comes_from_database_replica_url_and_pooling_turns_server_side_cursors_off():
    plain = settings_with()
    assert set(plain["databases"]) == {"default"}
    assert plain["routers"] == ["omni.core.routers.ReportingReplicaRouter"]
    assert not plain["databases"]["default"].get("DISABLE_SERVER_SIDE_CURSORS")

    pooled = settings_with(DATABASE_REPLICA_URL="postgresql://u@standby:5432/omni", DB_TRANSACTION_POOLER="1")
    assert pooled["databases"]["replica"]["HOST"] == "standby"
    assert all(database["DISABLE_SERVER_SIDE_CURSORS"] for database in pooled["databases"].values())


@both
def test_an_export_job_reads_its_rows_from_the_replica_and_keeps_its_own_row_on_the_primary(shop, manager_of):
    from omni.reports.exports import services as exports
    from omni.reports.models import ExportJob, ExportStatus

    job = ExportJob.objects.create(user=manager_of(role="Head office"), what="orders", filters={}, file_format="csv")
    primary, replica = captured()
    with primary, replica:
        job = exports.export_job_run(job_id=job.pk)

    assert job.status == ExportStatus.DONE, job.error
    assert any("orders_order" in sql for sql in sql_of(replica))
    assert not any("exportjob" in sql for sql in sql_of(replica))
    assert any("UPDATE" in sql and "exportjob" in sql for sql in sql_of(primary))
