"""Pending refunds paid back: by the bank or the gateway, at the store's card terminal, or in
cash at the desk."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omni.core.actors import SYSTEM, Actor
from omni.core.errors import InvalidInput
from orders import hooks
from orders.errors import (
    RefundNotPending,
)
from orders.models import (
    OrderReturn,
    PaymentMethod,
    Refund,
    RefundPayout,
    RefundStatus,
)
from orders.services.notices import customer_notify, money_text


def refund_complete(
    *,
    refund: Refund,
    transaction_id: str = "",
    terminal: str = "",
    payout: str = RefundPayout.BANK,
    actor: Actor = SYSTEM,
) -> Refund:
    """A pending refund has been paid back: it is marked refunded and the customer is told.

    ``payout`` says how: by the bank or the gateway (``transaction_id`` its id, if it gave one);
    to the card at the store's terminal (the terminal's ``transaction_id`` is required, and the
    ``terminal`` recorded); or in cash at the desk (the refund's method becomes cash). A refund
    already made is refused, whoever made it.

    The order's ``refunded`` figure already counts the refund since it was created; only its
    state changes here, with the refund row locked so that two clerks cannot both complete it.
    """
    transaction_id, terminal = _check_payout(payout, transaction_id, terminal)
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
        if payout == RefundPayout.CASH:
            refund.method = PaymentMethod.CASH
        refund.status = RefundStatus.DONE
        refund.transaction_id = transaction_id
        refund.terminal = terminal
        refund.completed_at = timezone.now()
        refund.save(update_fields=["method", "status", "transaction_id", "terminal", "completed_at", "updated_at"])
        if refund.order_return_id:  # the return shows its refunds: incremental sync must see it change
            OrderReturn.objects.filter(pk=refund.order_return_id).update(updated_at=refund.completed_at)
        _announce_refund(refund, actor)
        hooks.refund_completed(refund)
    return refund


def _check_payout(payout: str, transaction_id: str, terminal: str) -> tuple[str, str]:
    """The payout's shape: a known way, and the terminal's transaction id for a card refund made
    at the store. Returns the transaction id and the terminal as recorded."""
    if payout not in RefundPayout.values:
        raise InvalidInput.for_field(
            "payout",
            _("%(payout)s is not a way to pay a refund back; use one of: %(payouts)s.")
            % {"payout": payout, "payouts": ", ".join(RefundPayout.values)},
        )
    transaction_id = (transaction_id or "").strip()[:100]
    if payout == RefundPayout.CASH:
        return "", ""
    if payout == RefundPayout.TERMINAL and not transaction_id:
        raise InvalidInput.for_field(
            "transaction_id", _("Enter the transaction id the terminal printed for the refund to the card.")
        )
    return transaction_id, (terminal or "").strip()[:64] if payout == RefundPayout.TERMINAL else ""


def _announce_refund(refund: Refund, actor: Actor) -> None:
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
