"""What the orders admin's screens share: who acts, and the read-only rows of an order."""

from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyInline
from orders.models import (
    OrderLine,
    Payment,
    Refund,
    StatusChange,
)


def actor_of(request) -> Actor:
    return Actor(user=request.user)


class ParentViewInline(ReadOnlyInline):
    """Rows of an order or a return: whoever may see it sees them."""

    parent_permission = "orders.view_order"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.parent_permission)


class OrderLineInline(ParentViewInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "unit_price",
        "quantity",
        "discount",
        "points",
        "points_value",
        "total",
        "refused_quantity",
        "refused_total",
        "returned_quantity",
    ]
    readonly_fields = fields


class PaymentInline(ParentViewInline):
    model = Payment
    fields = ["method", "amount", "refunded", "status", "transaction_id", "terminal", "acquiring_bank", "employee"]
    readonly_fields = fields


class RefundInline(ParentViewInline):
    model = Refund
    fields = ["method", "amount", "points", "status", "order_return", "reason", "created_at", "completed_at"]
    readonly_fields = fields


class StatusChangeInline(ParentViewInline):
    model = StatusChange
    fields = ["created_at", "status_from", "status_to", "note", "created_by", "api_key"]
    readonly_fields = fields
