"""A covering index for the dashboard's click-and-collect section on PostgreSQL.

The section sums the click-and-collect orders made ready in a period by store; with the columns it
reads included, PostgreSQL answers from the index alone (a year of a million orders: about 40 ms
instead of 220 ms, bench/RESULTS.md). Django's ``Index(include=...)`` would make every other
database warn that it cannot include columns, so the index is created here, on PostgreSQL only.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS order_ready_collect_idx ON orders_order (ready_at) "
    "INCLUDE (location_id, status, created_at) WHERE fulfilment = 'click_and_collect'"
)
DROP = "DROP INDEX IF EXISTS order_ready_collect_idx"


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return operation


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_specific_labels")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
