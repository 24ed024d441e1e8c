"""The PostgreSQL sequences of order numbers, created once here so that placing an order draws
its number with a plain ``nextval`` (``omni.core.services.sequence_next_created``), without the
savepoint that would otherwise catch a sequence not created yet. ``IF NOT EXISTS`` keeps the
value of a sequence an earlier order already created."""

from django.db import migrations

PREFIXES = ["W", "A", "S", "C", "M", "N", "P"]  # orders.models.NUMBER_PREFIXES, as of this migration


def create_sequences(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for prefix in PREFIXES:
        schema_editor.execute(f'CREATE SEQUENCE IF NOT EXISTS "omni_seq_order_{prefix.lower()}"')


class Migration(migrations.Migration):
    dependencies = [("orders", "0012_order_customer_completed_idx")]

    operations = [migrations.RunPython(create_sequences, migrations.RunPython.noop)]
