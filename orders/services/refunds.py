"""Pending refunds the bank has paid back."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omni.core.actors import SYSTEM, Actor
from orders.errors import (
    RefundNotPending,
)
from orders.models import (
    PaymentMethod,
    Refund,
    RefundStatus,
)
from orders.services.notices import customer_notify, money_text


def refund_complete(*, refund: Refund, transaction_id: str = "", actor: Actor = SYSTEM) -> Refund:
    """The bank (or the gateway) has paid a pending refund back: it is marked refunded, with the
    bank's transaction id, and the customer is told. A refund already made is refused.

    The order's ``refunded`` figure already counts the refund since it was created; only its
    state changes here, with the refund row locked so that two clerks cannot both complete it.
    """
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("order__customer", "order_return")
            .get(pk=refund.pk)
        )
        if refund.status != RefundStatus.PENDING:
            raise RefundNotPending(
                _("The refund of %(amount)s for order %(number)s is already %(status)s.")
                % {
                    "amount": money_text(refund.amount),
                    "number": refund.order.number,
                    "status": RefundStatus(refund.status).label,
                },
                details={"refund": refund.pk, "number": refund.order.number, "status": refund.status},
            )
        refund.status = RefundStatus.DONE
        refund.transaction_id = transaction_id.strip()[:100]
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "transaction_id", "completed_at", "updated_at"])
        order = refund.order
        customer_notify(
            order,
            kind="refund_made",
            key=f"refund-{refund.pk}",
            subject=_("Refund for order %(number)s") % {"number": order.number},
            text=_("%(amount)s has been refunded to you by %(method)s for order %(number)s.")
            % {
                "amount": money_text(refund.amount),
                "method": PaymentMethod(refund.method).label,
                "number": order.number,
            },
            actor=actor,
        )
    return refund
