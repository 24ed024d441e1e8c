"""The orders' steps of the customers' merge, anonymisation and personal data export."""

from django.utils import timezone

from customers.models import Customer
from orders.models import (
    Order,
    StatusChange,
)


def move_orders(source: Customer, survivor: Customer) -> None:
    """Merge step: the merged profile's orders (and so their returns) belong to the survivor."""
    Order.objects.filter(customer=source).update(customer=survivor, updated_at=timezone.now())


def anonymise_orders(customer: Customer) -> None:
    """Anonymisation step: orders stay for accounting, without the address, name and phone, and
    without the free texts written on them (a cancelled order's reason, notes in its history)."""
    orders = Order.objects.filter(customer=customer)
    orders.update(
        delivery_address="", contact_name="", contact_phone="", note="", cancel_reason="", updated_at=timezone.now()
    )
    StatusChange.objects.filter(order__in=orders).exclude(note="").update(note="")


def export_orders(customer: Customer) -> list[dict]:
    """Personal data export section: the customer's orders with their lines and returns."""
    orders = (
        Order.objects.filter(customer=customer)
        .prefetch_related("lines", "returns")
        .select_related("location")
        .order_by("created_at", "id")
    )
    return [
        {
            "number": order.number,
            "channel": order.channel,
            "fulfilment": order.fulfilment,
            "status": order.status,
            "location": order.location.code if order.location else None,
            "delivery_address": order.delivery_address,
            "contact_name": order.contact_name,
            "contact_phone": order.contact_phone,
            "total": order.total,
            "paid": order.paid,
            "refunded": order.refunded,
            "created_at": order.created_at,
            "lines": [
                {"sku": line.sku, "name": line.name, "quantity": line.quantity, "total": line.total}
                for line in order.lines.all()
            ],
            "returns": [
                {"number": r.number, "refund": r.refund_amount, "created_at": r.created_at} for r in order.returns.all()
            ],
        }
        for order in orders
    ]
