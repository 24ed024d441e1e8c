"""Payments and refunds to them: who may take which method, checking and recording what was paid,
refunding to the payments in proportion, and payments reported after placement."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omni.core.actors import SYSTEM, Actor
from omni.core.errors import InvalidInput
from omni.core.money import money, spread_money
from orders import hooks
from orders.errors import (
    InvalidTransition,
    Overpayment,
    PaymentConflict,
    PaymentMismatch,
)
from orders.models import (
    Order,
    OrderReturn,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.services.inputs import PaymentInput
from orders.services.notices import money_text
from orders.services.transitions import order_locked

ZERO = Decimal("0.00")

# Who may take which payment, and when.
PREPAYMENT_METHODS = (PaymentMethod.CARD_ONLINE, PaymentMethod.SBP)
STORE_METHODS = (PaymentMethod.CARD_IN_STORE, PaymentMethod.CASH, PaymentMethod.SBP)
COURIER_METHODS = (PaymentMethod.COURIER_CASH, PaymentMethod.COURIER_CARD, PaymentMethod.SBP)
# Refunds of these methods are paid out at the desk at once; the others go through the bank.
REFUNDED_AT_ONCE = (PaymentMethod.CASH, PaymentMethod.COURIER_CASH, PaymentMethod.POINTS)


def payments_check(payments: Sequence[PaymentInput], due: Decimal, methods: Sequence[str], *, required: bool):
    """Check payments against what is due: methods allowed here, amounts that add up exactly.
    Returns (method, amount, input) triples."""
    if not payments:
        if required and due > 0:
            raise PaymentMismatch(
                _("%(due)s is due: record how it was paid.") % {"due": money_text(due)},
                details={"due": str(due), "paid": "0.00"},
            )
        return []
    open_amounts = [p for p in payments if p.amount is None]
    if len(open_amounts) > 1:
        raise PaymentMismatch(_("At most one payment may leave its amount to be computed."), details={"due": str(due)})
    result, given = [], ZERO
    for index, payment in enumerate(payments):
        if payment.method not in methods:
            raise InvalidInput.for_field(
                f"payments.{index}.method",
                _("%(method)s cannot be used here; use one of: %(methods)s.")
                % {"method": payment.method, "methods": ", ".join(methods)},
            )
        if payment.amount is not None:
            amount = Decimal(payment.amount)
            if not amount.is_finite() or amount <= 0 or amount != money(amount):
                raise InvalidInput.for_field(
                    f"payments.{index}.amount", _("An amount is greater than zero, with at most two decimal places.")
                )
            given += amount
    rest = due - given
    if (open_amounts and rest <= 0) or (not open_amounts and rest != 0):
        raise PaymentMismatch(
            _("The payments add up to %(given)s but %(due)s is due.")
            % {"given": money_text(given), "due": money_text(due)},
            details={"due": str(due), "given": str(given)},
        )
    for payment in payments:
        result.append((payment.method, money(payment.amount if payment.amount is not None else rest), payment))
    return result


def payments_create(order: Order, checked, actor: Actor) -> Decimal:
    Payment.objects.bulk_create(payments_build(order, checked, actor))
    return sum((amount for _m, amount, _p in checked), ZERO)


def payments_build(order: Order, checked, actor: Actor) -> list[Payment]:
    """The (unsaved) payments of ``payments_check``'s answer."""
    return [
        Payment(
            order=order,
            method=method,
            amount=amount,
            transaction_id=payment.transaction_id[:100],
            terminal=payment.terminal[:64],
            acquiring_bank=payment.acquiring_bank[:100],
            employee=actor.user,
            api_key=actor.api_key,
        )
        for method, amount, payment in checked
    ]


@dataclass(frozen=True)
class RefundShare:
    """The part of a refund paid back to one payment, or (``payment`` None) credited as points."""

    method: str
    amount: Decimal
    points: int = 0
    payment: Payment | None = None


def refundable_payments(order: Order, *, lock: bool) -> list[Payment]:
    """The order's money payments that refunds go back to, in a fixed order; locked when the
    caller is about to refund them (a preview only reads them)."""
    payments = (
        Payment.objects.filter(order=order, status=PaymentStatus.PAID)
        .exclude(method=PaymentMethod.POINTS)
        .order_by("pk")
    )
    return list(payments.select_for_update() if lock else payments)


def payment_shares(amount: Decimal, payments: Sequence[Payment]) -> list[RefundShare]:
    """``amount`` spread over ``payments`` in proportion to what is left of each, never above it."""
    if amount <= 0:
        return []
    left = [payment.amount - payment.refunded for payment in payments]
    shares = spread_money(amount, left, caps=left)
    return [
        RefundShare(method=payment.method, amount=share, payment=payment)
        for payment, share in zip(payments, shares, strict=True)
        if share > 0
    ]


def refunds_to_payments_create(
    order: Order,
    shares: Sequence[RefundShare],
    actor: Actor,
    *,
    order_return: OrderReturn | None = None,
    reason: str = "",
) -> list[Refund]:
    """Record ``shares`` as refunds of their payments (locked by the caller): paid out at once for
    cash, pending until the bank pays them back for the others."""
    refunds = []
    for share in shares:
        payment = share.payment
        payment.refunded += share.amount
        payment.save(update_fields=["refunded", "updated_at"])
        refunds.append(
            Refund(
                order=order,
                order_return=order_return,
                payment=payment,
                method=payment.method,
                amount=share.amount,
                status=RefundStatus.DONE if payment.method in REFUNDED_AT_ONCE else RefundStatus.PENDING,
                completed_at=timezone.now() if payment.method in REFUNDED_AT_ONCE else None,
                reason=reason[:255],
                **actor.audit_fields,
            )
        )
    Refund.objects.bulk_create(refunds)
    return refunds


def refund_to_payments(
    order: Order, amount: Decimal, actor: Actor, *, order_return: OrderReturn | None = None, reason: str = ""
) -> list[Refund]:
    """Refund ``amount`` to the order's money payments, in proportion to what is left of each."""
    if amount <= 0:
        return []
    shares = payment_shares(amount, refundable_payments(order, lock=True))
    return refunds_to_payments_create(order, shares, actor, order_return=order_return, reason=reason)


def points_payment_given_back(order: Order, value: Decimal) -> None:
    """Points spent that came back are recorded as refunded on the points payment."""
    if value <= 0:
        return
    payment = Payment.objects.select_for_update().filter(order=order, method=PaymentMethod.POINTS).first()
    if payment is not None:
        payment.refunded = min(payment.amount, payment.refunded + value)
        payment.save(update_fields=["refunded", "updated_at"])


# Statuses in which an order takes no more money: it was released and its payments refunded.
CLOSED_STATUSES = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def _check_payment(payment: PaymentInput) -> None:
    """The shape of a payment reported after placement: a method taken remotely, a positive amount."""
    if payment.method not in PREPAYMENT_METHODS:
        raise InvalidInput.for_field(
            "method",
            _("%(method)s cannot be used here; use one of: %(methods)s.")
            % {"method": payment.method, "methods": ", ".join(PREPAYMENT_METHODS)},
        )
    if payment.amount is not None:
        try:
            amount = Decimal(payment.amount)
        except (ArithmeticError, TypeError, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or amount <= 0 or amount != money(amount):
            raise InvalidInput.for_field(
                "amount", _("An amount is greater than zero, with at most two decimal places.")
            )


def payment_record(*, order: Order, payment: PaymentInput, actor: Actor = SYSTEM) -> tuple[Payment, bool]:
    """Record a payment received after the order was placed: the card payment a gateway confirms
    later, an SBP link paid after a call-centre order. Without ``amount`` it pays what is left due.

    Never more than is left to pay, never on a cancelled or expired order (checked with the order
    row locked, so two racing payments cannot overpay it). With a ``transaction_id`` it is
    recorded once per order: a retry returns the first payment and changes nothing. Returns the
    payment and whether it was recorded now.
    """
    _check_payment(payment)
    transaction_id = payment.transaction_id.strip()[:100]
    with transaction.atomic():
        order = order_locked(order)
        if transaction_id:
            recorded = Payment.objects.filter(order=order, transaction_id=transaction_id).order_by("pk").first()
            if recorded is not None:
                same = recorded.method == payment.method and (
                    payment.amount is None or recorded.amount == Decimal(payment.amount)
                )
                if not same:
                    raise PaymentConflict(
                        details={
                            "number": order.number,
                            "transaction_id": transaction_id,
                            "method": recorded.method,
                            "amount": str(recorded.amount),
                        }
                    )
                return recorded, False
        if order.status in CLOSED_STATUSES:
            raise InvalidTransition(
                _("Order %(number)s is %(status)s: it cannot take a payment.")
                % {"number": order.number, "status": OrderStatus(order.status).label},
                details={"number": order.number, "status": order.status},
            )
        due = order.due
        amount = due if payment.amount is None else money(Decimal(payment.amount))
        if amount <= 0 or amount > due:
            raise Overpayment(
                _("%(amount)s is more than the %(due)s left to pay for order %(number)s.")
                % {"amount": money_text(amount), "due": money_text(due), "number": order.number},
                details={"number": order.number, "amount": str(amount), "due": str(due)},
            )
        recorded = Payment.objects.create(
            order=order,
            method=payment.method,
            amount=amount,
            transaction_id=transaction_id,
            terminal=payment.terminal.strip()[:64],
            acquiring_bank=payment.acquiring_bank.strip()[:100],
            **payment_actor(actor),
        )
        order.paid += amount
        order.save(update_fields=["paid", "updated_at"])
        hooks.order_changed(order)
    return recorded, True


def payment_actor(actor: Actor) -> dict:
    return {"employee": actor.user, "api_key": actor.api_key}
