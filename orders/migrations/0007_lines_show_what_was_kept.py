"""Lines refused in part before 0006 still show their figures as ordered: move the refused units'
share of each figure into the line's ``refused_*`` figures, as the handover now does, so that every
order's lines sum to the order."""

from django.db import migrations

from omni.core.money import money, unit_share, unit_share_points


def move_refused_shares(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    lines = OrderLine.objects.filter(refused_quantity__gt=0, refused_subtotal=0, refused_total=0)
    for line in lines.iterator():
        count = line.refused_quantity
        subtotal = money(line.unit_price * count)
        discount = unit_share(line.discount, quantity=line.quantity, done=0, count=count)
        points = unit_share_points(line.points, quantity=line.quantity, done=0, count=count)
        points_value = unit_share(line.points_value, quantity=line.quantity, done=0, count=count)
        line.refused_subtotal, line.refused_discount = subtotal, discount
        line.refused_points, line.refused_points_value = points, points_value
        line.refused_total = subtotal - discount - points_value
        line.subtotal -= subtotal
        line.discount -= discount
        line.amount = line.subtotal - line.discount
        line.points -= points
        line.points_value -= points_value
        line.total = line.amount - line.points_value
        line.save()


def restore_ordered_figures(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    for line in OrderLine.objects.filter(refused_quantity__gt=0).iterator():
        line.subtotal += line.refused_subtotal
        line.discount += line.refused_discount
        line.amount = line.subtotal - line.discount
        line.points += line.refused_points
        line.points_value += line.refused_points_value
        line.total = line.amount - line.points_value
        line.refused_subtotal = line.refused_discount = line.refused_points_value = line.refused_total = 0
        line.refused_points = 0
        line.save()


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_line_refused_figures")]

    operations = [migrations.RunPython(move_refused_shares, restore_ordered_figures)]
