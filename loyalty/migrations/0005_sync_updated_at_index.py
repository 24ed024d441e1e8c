"""Incremental sync: cards read by (updated_at, id), points entries by when they were written.

Entries written before this migration get its time as ``recorded_at`` (a constant default, no
rewrite of the ledger): a client's first sync after the upgrade receives them once.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0004_drop_loyalty_kpis_permission"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="card",
            index=models.Index(fields=["updated_at", "id"], name="card_sync_idx"),
        ),
        migrations.AddField(
            model_name="pointsentry",
            name="recorded_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now, verbose_name="recorded at"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="pointsentry",
            index=models.Index(fields=["recorded_at", "id"], name="entry_sync_idx"),
        ),
    ]
