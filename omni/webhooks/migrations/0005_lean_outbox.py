import django.core.serializers.json
import django.db.models.deletion
from django.db import migrations, models

import omni.core.db


class Migration(migrations.Migration):
    """Every subscribed change writes an event and its deliveries: of their twelve indexes, four were
    never read (the event's type, its LIKE twin and object key; the delivery's event, covered by the
    unique constraint), and the subscription's plain index becomes the one the API's list reads.
    The new index is built first, without locking out writes (CONCURRENTLY: not in a transaction)."""

    atomic = False

    dependencies = [
        ("webhooks", "0004_delivery_subscription_without_constraint"),
    ]

    operations = [
        omni.core.db.AddIndexConcurrently(
            model_name="delivery",
            index=models.Index(fields=["subscription", "-created_at", "-id"], name="webhook_delivery_listed_idx"),
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="webhook_event_object_key_idx",
        ),
        migrations.AlterField(
            model_name="event",
            name="type",
            field=models.CharField(max_length=64, verbose_name="type"),
        ),
        migrations.AlterField(
            model_name="event",
            name="data",
            field=models.JSONField(
                default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder, verbose_name="data"
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="webhooks.event",
                verbose_name="event",
            ),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="subscription",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="webhooks.subscription",
                verbose_name="subscription",
            ),
        ),
    ]
