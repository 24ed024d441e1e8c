import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import TruncMonth

import omni.core.db


def fill_months(apps, schema_editor):
    """The months of the day summaries already kept, summed as ``omni.reports.summaries`` sums them."""
    daily = apps.get_model("reports", "DailyProductSales")
    sums = (
        daily.objects.annotate(month=TruncMonth("day"))
        .values("month", "product_id")
        .annotate(units=Sum("units"), value=Sum("value"))
        .order_by()
    )
    sql, params = sums.query.sql_with_params()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO omni_monthlyproductsales (month, product_id, units, value) {sql}", params)


class Migration(migrations.Migration):
    """The month-by-product summary of the whole business's top products, filled from the day
    summaries; and the day summaries' index by product and day, which keeps a month up to date,
    built without locking out the summaries' refresh on PostgreSQL (CONCURRENTLY: not in a
    transaction) before the product's own index goes.

    Workers of the release before this one do not write the months: stop them before migrating,
    or run ``manage.py rebuild_report_summaries`` once the new release runs."""

    atomic = False

    dependencies = [
        ("inventory", "0010_erp_ids"),
        ("reports", "0003_customer_rfm"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyProductSales",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(help_text="Its first day.", verbose_name="month")),
                ("units", models.IntegerField(default=0, verbose_name="units kept")),
                ("value", models.DecimalField(decimal_places=2, default=0, max_digits=16, verbose_name="value")),
                (
                    "product",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="inventory.product",
                        verbose_name="product",
                    ),
                ),
            ],
            options={
                "verbose_name": "monthly product sales",
                "verbose_name_plural": "monthly product sales",
                "db_table": "omni_monthlyproductsales",
                "indexes": [models.Index(fields=["month", "product"], name="monthly_product_month_idx")],
            },
        ),
        migrations.RunPython(fill_months, migrations.RunPython.noop, atomic=True),
        omni.core.db.AddIndexConcurrently(
            model_name="dailyproductsales",
            index=models.Index(fields=["product", "day"], name="daily_product_product_day_idx"),
        ),
        migrations.AlterField(
            model_name="dailyproductsales",
            name="product",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="inventory.product",
                verbose_name="product",
            ),
        ),
    ]
