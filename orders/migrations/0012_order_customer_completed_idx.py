from django.db import migrations, models

import omni.core.db


class Migration(migrations.Migration):
    """The dashboard's customer figures read each customer's completed orders from this index
    alone. Built without locking out orders on PostgreSQL (CONCURRENTLY: not in a transaction)."""

    atomic = False

    dependencies = [
        ("orders", "0011_sync_updated_at_index"),
    ]

    operations = [
        omni.core.db.AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(("customer__isnull", False), ("status__in", ("collected", "delivered", "sold"))),
                fields=["customer", "completed_at"],
                include=("channel", "paid", "refunded", "location"),
                name="order_customer_completed_idx",
            ),
        ),
    ]
