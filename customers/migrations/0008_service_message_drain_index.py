from django.db import migrations, models

import omni.core.db


class Migration(migrations.Migration):
    """The service messages' drain reads the ones not tried yet, oldest first: a partial index holds
    just those, built without locking out the writes to a table that may be large (CONCURRENTLY:
    not in a transaction)."""

    atomic = False

    dependencies = [
        ("customers", "0007_customer_language_time_zone"),
    ]

    operations = [
        omni.core.db.AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                condition=models.Q(("attempts", 0), ("purpose", "service"), ("status", "pending")),
                fields=["id"],
                name="message_service_due_idx",
            ),
        ),
    ]
