"""Every change of orders, payments, returns and refunds. Each function is one business action in
one transaction, all or nothing.

Locks are always taken in one order, so that no two actions can deadlock: the order row, the
customer, the promo code (``loyalty.services.promo``), the loyalty account (``loyalty.services``), the
transfers, then the stock rows (all of an action's rows in one sorted ``select_for_update``,
``lock_objects.stock_rows``) before the inventory services change them. Messages and timeline
entries are written last, in the same transaction (the messaging outbox delivers after commit).

Money: clients never send prices or totals. Lines take the catalogue price; the promo discount is
spread over lines in proportion to their subtotals and the points spent in proportion to their
amounts after discount (``orders.money``), so the lines always sum to the order. Refused and
returned units take their share of each line figure cumulatively, and refunds are computed from
what was paid for exactly those units.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers.messaging.services import message_send
from customers.models import Channel, Customer, Direction, InteractionKind, MessagePurpose
from customers.services import interaction_record, locked_customer
from inventory.errors import InsufficientStock, UnknownProducts
from inventory.models import Location, LocationKind, Product, TransferStatus
from inventory.services import (
    Cause,
    ProductQuantity,
    StockLine,
    stock_release,
    stock_reserve,
    stock_return,
    stock_sell,
    stock_sell_reserved,
    stock_write_off,
    transfer_cancel,
    transfer_create,
)
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty
from loyalty.models import BonusType
from loyalty.services import promo as loyalty_promo
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import DomainError, InvalidInput
from omni.core.services import sequence_next
from orders import states
from orders.errors import (
    CustomerRequired,
    InvalidLocation,
    InvalidOrder,
    InvalidReturn,
    InvalidTransition,
    Overpayment,
    PaymentConflict,
    PaymentMismatch,
    RefundNotPending,
    RefundToPointsNotAllowed,
    ReturnExceedsPurchase,
    ReturnsNotAccepted,
    ReturnWindowClosed,
)
from orders.lock_objects import order_for_update, stock_rows, transfers_for_update
from orders.models import (
    COMPLETED_STATUSES,
    NUMBER_PREFIXES,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderChannel,
    OrderLine,
    OrderReturn,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    ReturnCondition,
    ReturnLine,
    StatusChange,
)
from orders.money import money, spread_money, spread_units, unit_share, unit_share_points
from orders.states import Action

logger = logging.getLogger(__name__)

MAX_QUANTITY = 10_000
MAX_LINES = 200
ZERO = Decimal("0.00")

# Who may take which payment, and when.
PREPAYMENT_METHODS = (PaymentMethod.CARD_ONLINE, PaymentMethod.SBP)
STORE_METHODS = (PaymentMethod.CARD_IN_STORE, PaymentMethod.CASH, PaymentMethod.SBP)
COURIER_METHODS = (PaymentMethod.COURIER_CASH, PaymentMethod.COURIER_CARD, PaymentMethod.SBP)
# Refunds of these methods are paid out at the desk at once; the others go through the bank.
REFUNDED_AT_ONCE = (PaymentMethod.CASH, PaymentMethod.COURIER_CASH, PaymentMethod.POINTS)


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int


@dataclass(frozen=True)
class PaymentInput:
    """A payment as staff or the POS report it. Without ``amount`` it pays what is left due."""

    method: str
    amount: Decimal | None = None
    transaction_id: str = ""
    terminal: str = ""
    acquiring_bank: str = ""


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: int
    condition: str = ReturnCondition.RESELLABLE


@dataclass(frozen=True)
class Part:
    """The share of a line's figures for some of its units."""

    quantity: int
    subtotal: Decimal
    discount: Decimal
    points: int
    points_value: Decimal

    @property
    def amount(self) -> Decimal:
        return self.subtotal - self.discount

    @property
    def total(self) -> Decimal:
        return self.amount - self.points_value


@dataclass
class ReturnFigures:
    """What a return does, as the return desk previews it before confirming."""

    amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    shortfall_points: int = 0
    shortfall_value: Decimal = ZERO
    refund_amount: Decimal = ZERO
    refund_points: int = 0
    points_reversed: int = 0
    points_given_back: int = 0
    late: bool = False
    refunds: list[tuple[str, Decimal, int]] = field(default_factory=list)  # (method, amount, points)


# --- Helpers ----------------------------------------------------------------------------


def loyalty_channel(channel: str) -> str:
    """The customers' channel of an order channel: every order channel, the marketplace included,
    is one of the customers' channels (loyalty and the timeline record it as such)."""
    return Channel(channel).value


def order_number(channel: str) -> str:
    prefix = NUMBER_PREFIXES[OrderChannel(channel)]
    return f"{prefix}-{sequence_next(f'order:{prefix}'):06d}"


def line_part(line: OrderLine, *, done: int, count: int) -> Part:
    """The figures of ``count`` units of the line after its first ``done`` ones (refused first,
    then returned), each a cumulative share of the line as ordered, so the parts sum to it."""
    return Part(
        quantity=count,
        subtotal=money(line.unit_price * count),
        discount=unit_share(line.ordered_discount, quantity=line.quantity, done=done, count=count),
        points=unit_share_points(line.ordered_points, quantity=line.quantity, done=done, count=count),
        points_value=unit_share(line.ordered_points_value, quantity=line.quantity, done=done, count=count),
    )


def _take_off(order: Order, lines: Sequence[OrderLine], refused: Mapping[int, int], actor: Actor, *, reference: str):
    """Units the customer will not have (refused at handover, or that could not be brought):
    ``refused`` maps line ids to units. Each line moves their share of its figures into its
    ``refused_*`` ones, the points spent on them come back, and the order's figures become the
    sum of its lines. Returns the parts taken off."""
    parts = [
        (line, line_part(line, done=line.refused_quantity, count=refused[line.pk]))
        for line in lines
        if refused.get(line.pk)
    ]
    if parts and order.points_redeemed:
        reversal = loyalty.points_reverse(
            reference=order.number,
            return_reference=reference,
            lines=[loyalty.ReturnLine(line.product_id, part.quantity, part.amount) for line, part in parts],
            actor=actor,
        )
        _points_payment_given_back(order, reversal.value_given_back)
    for line, part in parts:
        line.refused_quantity += part.quantity
        line.refused_subtotal += part.subtotal
        line.refused_discount += part.discount
        line.refused_points += part.points
        line.refused_points_value += part.points_value
        line.refused_total += part.total
        line.subtotal -= part.subtotal
        line.discount -= part.discount
        line.amount = line.subtotal - line.discount
        line.points -= part.points
        line.points_value -= part.points_value
        line.total = line.amount - line.points_value
    OrderLine.objects.bulk_update(
        [line for line, _part in parts],
        [
            "refused_quantity",
            "refused_subtotal",
            "refused_discount",
            "refused_points",
            "refused_points_value",
            "refused_total",
            "subtotal",
            "discount",
            "amount",
            "points",
            "points_value",
            "total",
        ],
    )
    order.subtotal = sum((line.subtotal for line in lines), ZERO)
    order.discount = sum((line.discount for line in lines), ZERO)
    order.points_value = sum((line.points_value for line in lines), ZERO)
    order.total = order.subtotal - order.discount - order.points_value
    return parts


def _check_quantity(quantity, field_name: str, *, allow_zero: bool = False) -> int:
    valid = isinstance(quantity, int) and not isinstance(quantity, bool)
    if not valid or quantity < 0 or quantity > MAX_QUANTITY or (quantity == 0 and not allow_zero):
        raise InvalidInput.for_field(
            field_name,
            _("A quantity is a whole number from %(min)d to %(max)d.")
            % {"min": 0 if allow_zero else 1, "max": MAX_QUANTITY},
        )
    return quantity


def _check_choice(value, choices, field_name: str) -> str:
    if value not in choices.values:
        raise InvalidInput.for_field(field_name, _("%(value)s is not a valid choice.") % {"value": value})
    return value


def _record_status(order: Order, status_from: str, status_to: str, actor: Actor, note: str = "") -> None:
    StatusChange.objects.create(
        order=order, status_from=status_from, status_to=status_to, note=note[:255], **actor.audit_fields
    )


def _move(order: Order, action: str, actor: Actor, *, note: str = "", fields: Sequence[str] = ()) -> str:
    """Apply a transition of the state machine to the locked order and record it."""
    previous = order.status
    order.status = states.next_status(order, action)
    order.save(update_fields=["status", *fields, "updated_at"])
    _record_status(order, previous, order.status, actor, note)
    return previous


def _lock_customer(order: Order) -> Customer | None:
    """The order's customer row, locked (the second lock of every action on an order)."""
    if order.customer_id is None:
        return None
    return Customer.objects.select_for_update().get(pk=order.customer_id)


def _notify(order: Order, *, kind: str, subject: str, text: str, actor: Actor, key: str = "") -> None:
    """A service message to the order's customer; an unreachable customer is not an error."""
    customer = order.customer
    if customer is None:
        return
    try:
        with transaction.atomic():
            message_send(
                customer=customer,
                kind=kind,
                purpose=MessagePurpose.SERVICE,
                subject=subject,
                text=text,
                dedupe_key=f"{kind}:{key or order.number}",
                cause_type="order",
                cause_id=order.number,
                actor=actor,
            )
    except DomainError as exc:
        logger.info("Order %s: message %s not sent (%s).", order.number, kind, exc.code)


def _timeline(order: Order, *, kind: str, summary: str, actor: Actor, location=None, details: str = "") -> None:
    """An entry on the customer's timeline about the order (skipped for inactive profiles)."""
    if order.customer is None:
        return
    try:
        with transaction.atomic():
            interaction_record(
                customer=order.customer,
                channel=loyalty_channel(order.channel),
                kind=kind,
                direction=Direction.INBOUND,
                summary=summary,
                details=details,
                location=location,
                subject_type="order",
                subject_id=order.number,
                actor=actor,
            )
    except DomainError as exc:
        logger.info("Order %s: timeline entry not recorded (%s).", order.number, exc.code)


def _money_text(value: Decimal) -> str:
    return f"{value} {settings.OMNI_CURRENCY}"


# --- Stock allocation ---------------------------------------------------------------------


class _StoreShort(Exception):
    """The pickup store lacks some of the goods: lock the shipping locations too."""


def _shipping_locations(exclude: int | None = None) -> list[Location]:
    locations = Location.objects.active().filter(ships_orders=True).order_by("code")
    if exclude is not None:
        locations = locations.exclude(pk=exclude)
    return list(locations)


def _shortage(wanted: Mapping[int, int], available: Mapping[int, int], products: Mapping[int, Product]):
    lines = [
        {"sku": products[pid].sku, "requested": qty, "available": available.get(pid, 0)}
        for pid, qty in wanted.items()
        if available.get(pid, 0) < qty
    ]
    skus = sorted(line["sku"] for line in lines)
    return InsufficientStock(
        _("Not enough stock for %(skus)s.") % {"skus": ", ".join(skus)}, details={"skus": skus, "lines": lines}
    )


def _choose_sources(
    wanted: Mapping[int, int], available: Mapping[tuple[int, int], int], locations: Sequence[Location]
) -> list[tuple[Location, dict[int, int]]]:
    """Where to take ``wanted`` from: one location holding all of it when there is one (the one
    holding most, then by code), else the locations covering most of what is left, in turn."""
    left = {pid: qty for pid, qty in wanted.items() if qty > 0}
    if not left:
        return []

    def coverage(location: Location) -> int:
        return sum(min(qty, available.get((pid, location.pk), 0)) for pid, qty in left.items())

    whole = [loc for loc in locations if all(available.get((pid, loc.pk), 0) >= qty for pid, qty in left.items())]
    if whole:
        best = max(whole, key=lambda loc: (sum(available.get((pid, loc.pk), 0) for pid in left), -locations.index(loc)))
        return [(best, dict(left))]
    plan = []
    remaining = list(locations)
    while left and remaining:
        best = max(remaining, key=lambda loc: (coverage(loc), -locations.index(loc)))
        if coverage(best) == 0:
            break
        taken = {pid: min(qty, available.get((pid, best.pk), 0)) for pid, qty in left.items()}
        taken = {pid: qty for pid, qty in taken.items() if qty}
        plan.append((best, taken))
        for pid, qty in taken.items():
            left[pid] -= qty
        left = {pid: qty for pid, qty in left.items() if qty}
        remaining.remove(best)
    if left:
        raise _Unavailable(left)
    return plan


class _Unavailable(Exception):
    def __init__(self, left):
        self.left = left


def _availability(rows) -> dict[tuple[int, int], int]:
    return {key: row.available for key, row in rows.items()}


def _allocate_click_and_collect(order: Order, lines: Sequence[OrderLine], actor: Actor) -> bool:
    """Reserve at the pickup store what it has; reserve the rest at locations that ship and
    transfer it to the store (reserved there on receipt). Returns whether transfers were made."""
    store = order.location
    wanted = {line.product_id: line.quantity for line in lines}
    by_product = {line.product_id: line for line in lines}
    cause = Cause("order", order.number)
    try:
        with transaction.atomic():
            rows = stock_rows([(pid, store.pk) for pid in wanted])
            if any(_availability(rows).get((pid, store.pk), 0) < qty for pid, qty in wanted.items()):
                raise _StoreShort()
            plan_store, sources = dict(wanted), []
    except _StoreShort:
        shipping = _shipping_locations(exclude=store.pk)
        rows = stock_rows([(pid, loc) for pid in wanted for loc in [store.pk, *(s.pk for s in shipping)]])
        available = _availability(rows)
        plan_store = {pid: min(qty, available.get((pid, store.pk), 0)) for pid, qty in wanted.items()}
        rest = {pid: qty - plan_store[pid] for pid, qty in wanted.items()}
        try:
            sources = _choose_sources(rest, available, shipping)
        except _Unavailable:
            totals = defaultdict(int)
            for (pid, _loc), units in available.items():
                totals[pid] += max(units, 0)
            raise _shortage(wanted, totals, {line.product_id: line.product for line in lines})
    plan_store = {pid: qty for pid, qty in plan_store.items() if qty}
    allocations = []
    if plan_store:
        stock_reserve(
            lines=[StockLine(pid, store.pk, qty) for pid, qty in plan_store.items()], cause=cause, actor=actor
        )
        allocations += [
            OrderAllocation(line=by_product[pid], location=store, quantity=qty) for pid, qty in plan_store.items()
        ]
    allocations += _transfer_to_store(order, sources, by_product, actor)
    OrderAllocation.objects.bulk_create(allocations)
    return bool(sources)


def _transfer_to_store(
    order: Order, sources: Sequence[tuple[Location, dict[int, int]]], lines: Mapping[int, OrderLine], actor: Actor
) -> list[OrderAllocation]:
    """Transfers bringing ``sources`` to the pickup store, reserved there for the order on receipt;
    returns the (unsaved) allocations that wait for them."""
    allocations = []
    for source, taken in sources:
        transfer = transfer_create(
            source=source,
            destination=order.location,
            lines=[ProductQuantity(pid, qty) for pid, qty in taken.items()],
            cause=Cause("order", order.number),
            reserve_on_receipt=True,
            note=_("For click-and-collect order %(number)s.") % {"number": order.number},
            actor=actor,
        )
        allocations += [
            OrderAllocation(line=lines[pid], location=order.location, quantity=qty, transfer=transfer, pending=True)
            for pid, qty in taken.items()
        ]
    return allocations


def _allocate_delivery(order: Order, lines: Sequence[OrderLine], actor: Actor) -> Location:
    """Reserve at locations that ship, preferring one for the whole order; returns the main one."""
    wanted = {line.product_id: line.quantity for line in lines}
    by_product = {line.product_id: line for line in lines}
    shipping = _shipping_locations()
    rows = stock_rows([(pid, loc.pk) for pid in wanted for loc in shipping])
    available = _availability(rows)
    try:
        sources = _choose_sources(wanted, available, shipping)
    except _Unavailable:
        totals = defaultdict(int)
        for (pid, _loc), units in available.items():
            totals[pid] += max(units, 0)
        raise _shortage(wanted, totals, {line.product_id: line.product for line in lines})
    stock_reserve(
        lines=[StockLine(pid, source.pk, qty) for source, taken in sources for pid, qty in taken.items()],
        cause=Cause("order", order.number),
        actor=actor,
    )
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(line=by_product[pid], location=source, quantity=qty)
            for source, taken in sources
            for pid, qty in taken.items()
        ]
    )
    return sources[0][0]


def _sell_in_store(order: Order, lines: Sequence[OrderLine], actor: Actor) -> None:
    store = order.location
    stock_rows([(line.product_id, store.pk) for line in lines])
    stock_sell(
        lines=[StockLine(line.product_id, store.pk, line.quantity) for line in lines],
        cause=Cause("order", order.number),
        actor=actor,
    )
    OrderAllocation.objects.bulk_create(
        [OrderAllocation(line=line, location=store, quantity=line.quantity, sold=line.quantity) for line in lines]
    )


# --- Payments ---------------------------------------------------------------------------


def _payments(payments: Sequence[PaymentInput], due: Decimal, methods: Sequence[str], *, required: bool):
    """Check payments against what is due: methods allowed here, amounts that add up exactly.
    Returns (method, amount, input) triples."""
    if not payments:
        if required and due > 0:
            raise PaymentMismatch(
                _("%(due)s is due: record how it was paid.") % {"due": _money_text(due)},
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
            % {"given": _money_text(given), "due": _money_text(due)},
            details={"due": str(due), "given": str(given)},
        )
    for payment in payments:
        result.append((payment.method, money(payment.amount if payment.amount is not None else rest), payment))
    return result


def _record_payments(order: Order, checked, actor: Actor) -> Decimal:
    Payment.objects.bulk_create(
        [
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
    )
    return sum((amount for _m, amount, _p in checked), ZERO)


def _refund_to_payments(
    order: Order, amount: Decimal, actor: Actor, *, order_return: OrderReturn | None = None, reason: str = ""
) -> list[Refund]:
    """Refund ``amount`` to the order's money payments, in proportion to what is left of each."""
    if amount <= 0:
        return []
    payments = list(
        Payment.objects.select_for_update()
        .filter(order=order, status=PaymentStatus.PAID)
        .exclude(method=PaymentMethod.POINTS)
        .order_by("pk")
    )
    left = [payment.amount - payment.refunded for payment in payments]
    shares = spread_money(amount, left, caps=left)
    refunds = []
    for payment, share in zip(payments, shares, strict=True):
        if share <= 0:
            continue
        payment.refunded += share
        payment.save(update_fields=["refunded", "updated_at"])
        refunds.append(
            Refund(
                order=order,
                order_return=order_return,
                payment=payment,
                method=payment.method,
                amount=share,
                status=RefundStatus.DONE if payment.method in REFUNDED_AT_ONCE else RefundStatus.PENDING,
                completed_at=timezone.now() if payment.method in REFUNDED_AT_ONCE else None,
                reason=reason[:255],
                **actor.audit_fields,
            )
        )
    Refund.objects.bulk_create(refunds)
    return refunds


def _points_payment_given_back(order: Order, value: Decimal) -> None:
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
        order = _locked(order)
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
                % {"amount": _money_text(amount), "due": _money_text(due), "number": order.number},
                details={"number": order.number, "amount": str(amount), "due": str(due)},
            )
        recorded = Payment.objects.create(
            order=order,
            method=payment.method,
            amount=amount,
            transaction_id=transaction_id,
            terminal=payment.terminal.strip()[:64],
            acquiring_bank=payment.acquiring_bank.strip()[:100],
            **_payment_actor(actor),
        )
        order.paid += amount
        order.save(update_fields=["paid", "updated_at"])
    return recorded, True


# --- Refunds --------------------------------------------------------------------------------


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
                    "amount": _money_text(refund.amount),
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
        _notify(
            order,
            kind="refund_made",
            key=f"refund-{refund.pk}",
            subject=_("Refund for order %(number)s") % {"number": order.number},
            text=_("%(amount)s has been refunded to you by %(method)s for order %(number)s.")
            % {
                "amount": _money_text(refund.amount),
                "method": PaymentMethod(refund.method).label,
                "number": order.number,
            },
            actor=actor,
        )
    return refund


# --- Placing an order -------------------------------------------------------------------


def _check_location(fulfilment: str, location: Location | None, delivery_address: str) -> None:
    if fulfilment == Fulfilment.DELIVERY:
        if not delivery_address.strip():
            raise InvalidInput.for_field("delivery_address", _("A delivery needs an address."))
        return
    field_name = "pickup_location" if fulfilment == Fulfilment.CLICK_AND_COLLECT else "location"
    if location is None:
        raise InvalidLocation.for_field(field_name, _("Name the store."))
    if not location.is_active:
        raise InvalidLocation.for_field(field_name, _("%(location)s is closed.") % {"location": location.code})
    if fulfilment == Fulfilment.CLICK_AND_COLLECT and not location.is_pickup_point:
        raise InvalidLocation.for_field(
            field_name, _("%(location)s does not hand over click-and-collect orders.") % {"location": location.code}
        )
    if fulfilment == Fulfilment.IN_STORE and location.kind != LocationKind.STORE:
        raise InvalidLocation.for_field(field_name, _("%(location)s is not a store.") % {"location": location.code})


def _products(lines: Sequence[LineInput]) -> list[tuple[Product, int]]:
    """The products of the lines (same SKU twice: one line), active, in the order given."""
    if not lines:
        raise InvalidOrder.for_field("lines", _("An order needs at least one line."))
    if len(lines) > MAX_LINES:
        raise InvalidOrder.for_field("lines", _("An order has at most %(max)d lines.") % {"max": MAX_LINES})
    quantities: dict[str, int] = {}
    for index, line in enumerate(lines):
        sku = str(line.sku or "").strip()
        if not sku:
            raise InvalidInput.for_field(f"lines.{index}.sku", _("A line needs a SKU."))
        _check_quantity(line.quantity, f"lines.{index}.quantity")
        quantities[sku] = quantities.get(sku, 0) + line.quantity
        _check_quantity(quantities[sku], f"lines.{index}.quantity")
    found = {p.sku: p for p in Product.objects.filter(sku__in=list(quantities), is_active=True)}
    unknown = [sku for sku in quantities if sku not in found]
    if unknown:
        raise UnknownProducts(
            _("Unknown or discontinued SKUs: %(skus)s.") % {"skus": ", ".join(unknown)}, details={"skus": unknown}
        )
    return [(found[sku], qty) for sku, qty in quantities.items()]


def order_place(
    *,
    channel: str,
    fulfilment: str,
    lines: Sequence[LineInput],
    customer: Customer | None = None,
    location: Location | None = None,
    delivery_address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    promo_code: str = "",
    points: int = 0,
    otp_code: str = "",
    verified_code: int | None = None,
    payments: Sequence[PaymentInput] = (),
    note: str = "",
    actor: Actor = SYSTEM,
) -> Order:
    """Place an order, all or nothing: check the customer, products and locations, price the lines
    from the catalogue, apply the promo code, spend points within the programme's limit, reserve
    (or, in a store, sell) the stock, record the payments given, and tell the customer.

    Click-and-collect reserves at the pickup store and brings what it lacks from locations that
    ship (the order then awaits the transfer); delivery reserves at locations that ship, one for
    the whole order when one holds it all; a sale in a store sells at once and must be paid in full.

    Where the programme wants a one-time code for the points, it is checked first, on its own: call
    this outside any transaction, or check the code yourself before yours (``order_code_verify``)
    and pass ``verified_code``.
    """
    _check_choice(channel, OrderChannel, "channel")
    _check_choice(fulfilment, Fulfilment, "fulfilment")
    if fulfilment == Fulfilment.IN_STORE and channel != OrderChannel.STORE:
        raise InvalidInput.for_field("channel", _("A sale in a store is made through the store channel."))
    if customer is None and fulfilment != Fulfilment.IN_STORE:
        raise CustomerRequired.for_field("customer", str(CustomerRequired.message))
    if fulfilment == Fulfilment.DELIVERY:
        location = None
    _check_location(fulfilment, location, delivery_address)
    products = _products(lines)
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise InvalidInput.for_field("points", _("Points are a whole number, zero or more."))
    if points and customer is None:
        raise CustomerRequired.for_field("points", _("Points can only be spent by an identified customer."))
    if verified_code is None:
        verified_code = order_code_verify(customer=customer, channel=channel, points=points, code=otp_code)
    now = timezone.now()
    with transaction.atomic():
        if customer is not None:
            customer = locked_customer(customer)
        number = order_number(channel)
        order = Order.objects.create(
            number=number,
            channel=channel,
            fulfilment=fulfilment,
            status=states.INITIAL[fulfilment],
            customer=customer,
            location=location,
            delivery_address=delivery_address.strip(),
            contact_name=contact_name.strip()[:200],
            contact_phone=contact_phone.strip()[:32],
            note=note.strip()[:255],
            **actor.audit_fields,
        )
        order_lines = [
            OrderLine(
                order=order,
                product=product,
                sku=product.sku,
                name=product.name[:255],
                unit_price=product.price,
                quantity=qty,
                subtotal=money(product.price * qty),
                amount=money(product.price * qty),
                total=money(product.price * qty),
            )
            for product, qty in products
        ]
        _price(
            order, order_lines, promo_code=promo_code, points=points, verified_code=verified_code, actor=actor, now=now
        )
        OrderLine.objects.bulk_create(order_lines)
        _record_status(order, "", order.status, actor)

        if fulfilment == Fulfilment.CLICK_AND_COLLECT:
            if _allocate_click_and_collect(order, order_lines, actor):
                _move(order, Action.AWAIT_TRANSFER, actor)
        elif fulfilment == Fulfilment.DELIVERY:
            order.location = _allocate_delivery(order, order_lines, actor)
            order.save(update_fields=["location", "updated_at"])
        else:
            _sell_in_store(order, order_lines, actor)

        methods = STORE_METHODS if fulfilment == Fulfilment.IN_STORE else PREPAYMENT_METHODS
        checked = _payments(payments, order.total, methods, required=fulfilment == Fulfilment.IN_STORE)
        if checked:
            order.paid = _record_payments(order, checked, actor)
            order.save(update_fields=["paid", "updated_at"])

        if fulfilment == Fulfilment.IN_STORE:
            _complete(order, order_lines, actor, now)
        else:
            _timeline(
                order,
                kind=InteractionKind.ORDER,
                summary=_("Order %(number)s placed: %(total)s.")
                % {"number": number, "total": _money_text(order.total)},
                location=order.location,
                actor=actor,
            )
            _notify(
                order,
                kind="order_placed",
                subject=_("Order %(number)s is placed") % {"number": number},
                text=_placed_text(order),
                actor=actor,
            )
    return order


def order_code_verify(*, customer: Customer | None, channel: str, points: int, code: str) -> int | None:
    """Where the programme wants a one-time code for spending these points, check it in its own
    transaction, before any other: a wrong code counts as an attempt even though the order is
    refused (``loyalty.services.otp``). Returns what ``order_place(verified_code=...)`` takes."""
    from loyalty.services import code_required, otp_verify

    if customer is None or not points:
        return None
    _check_choice(channel, OrderChannel, "channel")
    account = loyalty_selectors.account_of(customer)
    if account is None or not code_required(loyalty.programme_current(), loyalty_channel(channel)):
        return None
    return otp_verify(account=account, code=code)


def _price(
    order: Order, lines: list[OrderLine], *, promo_code: str, points: int, verified_code: int | None, actor, now
) -> None:
    """Apply the promo code and the points to the lines and the order (still unsaved lines)."""
    channel = loyalty_channel(order.channel)
    subtotal = sum((line.subtotal for line in lines), ZERO)
    discount = ZERO
    if promo_code.strip():
        usage, _created = loyalty_promo.promo_apply(
            code=promo_code,
            reference=order.number,
            lines=[_cart_line(line, line.subtotal) for line in lines],
            channel=channel,
            customer=order.customer,
            actor=actor,
            now=now,
        )
        discount = min(money(usage.discount), subtotal)
        order.promo_code = usage.promo.code
    subtotals = [line.subtotal for line in lines]
    for line, share in zip(lines, spread_money(discount, subtotals, caps=subtotals), strict=True):
        line.discount = share
        line.amount = line.subtotal - share
    points_value = ZERO
    if points:
        redemption = loyalty.points_redeem(
            customer=order.customer,
            points=points,
            reference=order.number,
            lines=[_cart_line(line, line.amount) for line in lines],
            channel=channel,
            store=order.location if order.fulfilment != Fulfilment.DELIVERY else None,
            verified_code=verified_code,
            actor=actor,
            now=now,
        )
        point_value = redemption.value / redemption.points
        caps = [int(line.amount // point_value) for line in lines]
        shares = spread_units(redemption.points, [line.amount for line in lines], caps)
        for line, share in zip(lines, shares, strict=True):
            line.points = share
            line.points_value = money(share * point_value)
        points_value = sum((line.points_value for line in lines), ZERO)
        order.points_redeemed = redemption.points
        Payment.objects.create(order=order, method=PaymentMethod.POINTS, amount=points_value, **_payment_actor(actor))
    for line in lines:
        line.total = line.amount - line.points_value
    order.subtotal, order.discount, order.points_value = subtotal, discount, points_value
    order.total = subtotal - discount - points_value
    order.save(update_fields=["subtotal", "discount", "points_redeemed", "points_value", "total", "promo_code"])


def _payment_actor(actor: Actor) -> dict:
    return {"employee": actor.user, "api_key": actor.api_key}


def _cart_line(line: OrderLine, amount: Decimal, quantity: int | None = None) -> loyalty.CartLine:
    return loyalty.CartLine(
        product_id=line.product_id,
        category_id=line.product.category_id,
        quantity=line.quantity if quantity is None else quantity,
        amount=amount,
    )


def _placed_text(order: Order) -> str:
    values = {"number": order.number, "total": _money_text(order.total)}
    if order.fulfilment == Fulfilment.CLICK_AND_COLLECT:
        values["store"] = order.location.name
        return (
            _(
                "Your order %(number)s for %(total)s is placed. "
                "We will tell you when it is ready for pickup at %(store)s."
            )
            % values
        )
    return _("Your order %(number)s for %(total)s is placed. We will tell you when it is on its way.") % values


def order_preview(**kwargs) -> Order:
    """What ``order_place`` would make of this input (prices, discount, points, stock), computed
    by the service itself in a transaction that is then rolled back: the receipt shown before
    confirming is exactly what placing the order computes. The returned order is not saved.
    The one-time code is checked before that transaction, so that a wrong one counts."""
    verified_code = order_code_verify(
        customer=kwargs.get("customer"),
        channel=kwargs["channel"],
        points=kwargs.get("points", 0),
        code=kwargs.get("otp_code", ""),
    )
    with transaction.atomic():
        order = order_place(**kwargs, verified_code=verified_code)
        order.preview_lines = list(order.lines.all())
        transaction.set_rollback(True)
    return order


# --- Completion -------------------------------------------------------------------------


def _kept_lines(lines: Sequence[OrderLine]) -> list[tuple[OrderLine, Part]]:
    """Each line with the share of its figures the customer keeps (less what was refused)."""
    result = []
    for line in lines:
        kept = line.quantity - line.refused_quantity
        if kept > 0:
            result.append((line, line_part(line, done=line.refused_quantity, count=kept)))
    return result


def _complete(order: Order, lines: Sequence[OrderLine], actor: Actor, now: datetime.datetime) -> None:
    """The goods are the customer's: points are earned (pending until the return window ends) and
    the sale goes on the timeline."""
    order.completed_at = now
    kept = _kept_lines(lines)
    if order.customer is not None and kept:
        earning = loyalty.points_earn_for_order(
            customer=order.customer,
            reference=order.number,
            lines=[_cart_line(line, part.amount, part.quantity) for line, part in kept],
            channel=loyalty_channel(order.channel),
            store=order.location if order.fulfilment != Fulfilment.DELIVERY else None,
            completed_at=now,
            actor=actor,
        )
        order.points_earned = earning.points
    order.save(update_fields=["completed_at", "points_earned", "updated_at"])
    items = sum(part.quantity for _line, part in kept)
    _timeline(
        order,
        kind=InteractionKind.ORDER,
        summary=_("Order %(number)s completed (%(status)s): %(items)d items for %(total)s.")
        % {
            "number": order.number,
            "status": OrderStatus(order.status).label,
            "items": items,
            "total": _money_text(order.total + order.points_value),
        },
        details="\n".join(f"{line.sku} {line.name} × {part.quantity}: {part.total}" for line, part in kept),
        location=order.location,
        actor=actor,
    )


# --- Status actions ---------------------------------------------------------------------


def _locked(order: Order) -> Order:
    return order_for_update(order.pk)


def order_mark_ready(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Click-and-collect: the goods are set aside at the store; the customer is told where and until when."""
    with transaction.atomic():
        order = _locked(order)
        states.next_status(order, Action.READY)
        _make_ready(order, Action.READY, actor)
    return order


def _make_ready(order: Order, action: str, actor: Actor) -> None:
    now = timezone.now()
    order.ready_at = now
    order.pickup_until = now + datetime.timedelta(days=settings.ORDERS_PICKUP_DAYS)
    _move(order, action, actor, fields=["ready_at", "pickup_until"])
    store = order.location
    _notify(
        order,
        kind="order_ready",
        subject=_("Order %(number)s is ready for pickup") % {"number": order.number},
        text=_(
            "Your order %(number)s is ready for pickup at %(store)s, %(address)s (open %(hours)s). "
            "It is kept for you until %(until)s. To pay: %(due)s."
        )
        % {
            "number": order.number,
            "store": store.name,
            "address": store.address or store.city,
            "hours": store.opening_hours or "—",
            "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT"),
            "due": _money_text(order.due),
        },
        actor=actor,
    )


def order_pack(*, order: Order, actor: Actor = SYSTEM) -> Order:
    with transaction.atomic():
        order = _locked(order)
        order.packed_at = timezone.now()
        _move(order, Action.PACK, actor, fields=["packed_at"])
    return order


def order_ship(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Delivery: the goods left with the courier (they stay reserved until the door)."""
    with transaction.atomic():
        order = _locked(order)
        order.shipped_at = timezone.now()
        _move(order, Action.SHIP, actor, fields=["shipped_at"])
        _notify(
            order,
            kind="order_shipped",
            subject=_("Order %(number)s is on its way") % {"number": order.number},
            text=_("Your order %(number)s is on its way to %(address)s. To pay on delivery: %(due)s.")
            % {"number": order.number, "address": order.delivery_address, "due": _money_text(order.due)},
            actor=actor,
        )
    return order


def _open_allocations(order: Order) -> list[OrderAllocation]:
    return list(
        OrderAllocation.objects.filter(line__order=order).select_related("line", "transfer").order_by("line_id", "id")
    )


def _release_allocations(order: Order, allocations: Sequence[OrderAllocation], actor: Actor) -> None:
    """Give back every unit still held for the order: reservations released, transfers not yet
    shipped cancelled; goods in transit are released at the store when they arrive."""
    transfers = {a.transfer_id for a in allocations if a.pending and a.transfer_id and a.open_quantity}
    locked = transfers_for_update(transfers)
    held = [a for a in allocations if not a.pending and a.open_quantity]
    requested = [t for t in locked.values() if t.status == TransferStatus.REQUESTED]
    stock_rows(
        [(a.line.product_id, a.location_id) for a in held]
        + [(line.product_id, t.source_id) for t in requested for line in t.lines.all()]
    )
    for transfer in requested:
        transfer_cancel(transfer=transfer, actor=actor)
    if held:
        stock_release(
            lines=[StockLine(a.line.product_id, a.location_id, a.open_quantity) for a in held],
            cause=Cause("order", order.number),
            actor=actor,
        )
    for allocation in allocations:
        if allocation.open_quantity:
            allocation.released += allocation.open_quantity
            allocation.save(update_fields=["released"])


def _unwind(order: Order, actor: Actor, *, reason: str, suffix: str) -> None:
    """Cancel or expire: promo use released, points returned, stock released, payments refunded."""
    if order.promo_code:
        loyalty_promo.promo_release(reference=order.number, actor=actor)
    if order.points_redeemed:
        reversal = loyalty.points_reverse(
            reference=order.number, return_reference=f"{order.number}-{suffix}", actor=actor
        )
        _points_payment_given_back(order, reversal.value_given_back)
    _release_allocations(order, _open_allocations(order), actor)
    refunds = _refund_to_payments(order, order.paid - order.refunded, actor, reason=reason)
    if refunds:
        order.refunded += sum((r.amount for r in refunds), ZERO)


def order_cancel(*, order: Order, reason: str = "", actor: Actor = SYSTEM) -> Order:
    """Cancel before handover: stock released, points returned, promo use released, transfers
    not yet shipped cancelled, payments marked for refund; the customer is told."""
    with transaction.atomic():
        order = _locked(order)
        states.next_status(order, Action.CANCEL)
        _lock_customer(order)
        _unwind(order, actor, reason=reason or _("Order cancelled."), suffix="cancel")
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason.strip()[:255]
        _move(order, Action.CANCEL, actor, note=reason, fields=["cancelled_at", "cancel_reason", "refunded"])
        _timeline(
            order,
            kind=InteractionKind.ORDER,
            summary=_("Order %(number)s cancelled.") % {"number": order.number},
            details=order.cancel_reason,
            location=order.location,
            actor=actor,
        )
        text = _("Your order %(number)s is cancelled.") % {"number": order.number}
        if order.refunded:
            text += " " + _("%(amount)s will be refunded to you.") % {"amount": _money_text(order.refunded)}
        _notify(
            order,
            kind="order_cancelled",
            subject=_("Order %(number)s is cancelled") % {"number": order.number},
            text=text,
            actor=actor,
        )
    return order


def order_expire(*, order: Order, now: datetime.datetime | None = None, actor: Actor = SYSTEM) -> Order:
    """A click-and-collect order not collected in time: released like a cancellation."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        states.next_status(order, Action.EXPIRE)
        if order.pickup_until is None or order.pickup_until > now:
            raise InvalidTransition(
                _("Order %(number)s may still be collected.") % {"number": order.number},
                details={"number": order.number, "status": order.status},
            )
        _lock_customer(order)
        _unwind(order, actor, reason=_("Not collected in time."), suffix="expired")
        order.expired_at = now
        _move(order, Action.EXPIRE, actor, fields=["expired_at", "refunded"])
        _timeline(
            order,
            kind=InteractionKind.ORDER,
            summary=_("Order %(number)s was not collected in time and is cancelled.") % {"number": order.number},
            location=order.location,
            actor=actor,
        )
        _notify(
            order,
            kind="order_expired",
            subject=_("Order %(number)s is cancelled") % {"number": order.number},
            text=_("Your order %(number)s was not collected by %(until)s and is cancelled.")
            % {"number": order.number, "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT")},
            actor=actor,
        )
    return order


def order_remind_pickup(*, order: Order, now: datetime.datetime | None = None, actor: Actor = SYSTEM) -> bool:
    """Remind the customer, once, that the order waits at the store. Returns whether it was sent now."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.status != OrderStatus.READY_FOR_PICKUP or order.reminded_at is not None:
            return False
        order.reminded_at = now
        order.save(update_fields=["reminded_at", "updated_at"])
        store = order.location
        _notify(
            order,
            kind="order_pickup_reminder",
            subject=_("Order %(number)s is waiting for you") % {"number": order.number},
            text=_(
                "Your order %(number)s is waiting for you at %(store)s, %(address)s (open %(hours)s) until %(until)s."
            )
            % {
                "number": order.number,
                "store": store.name,
                "address": store.address or store.city,
                "hours": store.opening_hours or "—",
                "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT"),
            },
            actor=actor,
        )
    return True


# --- Handover -----------------------------------------------------------------------------


def order_hand_over(
    *,
    order: Order,
    refused: Mapping[str, int] | None = None,
    payments: Sequence[PaymentInput] = (),
    actor: Actor = SYSTEM,
) -> Order:
    """Hand the goods over at the pickup counter or at the door.

    ``refused`` maps SKUs to the units the customer does not take: they go back to available stock
    where they were reserved, their share of the order (discount, points, money) is taken off, and
    the points spent on them come back. The rest is sold; what is left to pay is paid now
    (``payments``), an overpayment is refunded. The order is complete: points are earned.
    """
    refused = dict(refused or {})
    with transaction.atomic():
        order = _locked(order)
        states.next_status(order, Action.HAND_OVER)
        lines = list(order.lines.select_related("product").order_by("id"))
        by_sku = {line.sku: line for line in lines}
        for sku, quantity in refused.items():
            line = by_sku.get(sku)
            if line is None:
                raise InvalidInput.for_field(
                    "refused", _("%(sku)s is not on order %(number)s.") % {"sku": sku, "number": order.number}
                )
            _check_quantity(quantity, "refused", allow_zero=True)
            if quantity > line.quantity - line.refused_quantity:
                raise InvalidInput.for_field(
                    "refused",
                    _("%(sku)s: %(refused)d refused but %(bought)d ordered.")
                    % {"sku": sku, "refused": quantity, "bought": line.quantity - line.refused_quantity},
                )
        if lines and all(refused.get(line.sku, 0) == line.quantity - line.refused_quantity for line in lines):
            raise InvalidOrder.for_field("refused", _("Everything is refused: cancel the order instead."))
        _lock_customer(order)
        _take_off(
            order,
            lines,
            {line.pk: refused.get(line.sku, 0) for line in lines},
            actor,
            reference=f"{order.number}-refused",
        )

        allocations = _open_allocations(order)
        to_release, to_sell = _split_allocations(allocations, refused)
        stock_rows([(a.line.product_id, a.location_id) for a, _q in to_release + to_sell])
        cause = Cause("order", order.number)
        if to_release:
            stock_release(
                lines=[StockLine(a.line.product_id, a.location_id, q) for a, q in to_release], cause=cause, actor=actor
            )
        if to_sell:
            stock_sell_reserved(
                lines=[StockLine(a.line.product_id, a.location_id, q) for a, q in to_sell], cause=cause, actor=actor
            )
        for allocation, quantity in to_release:
            allocation.released += quantity
        for allocation, quantity in to_sell:
            allocation.sold += quantity
        OrderAllocation.objects.bulk_update(allocations, ["sold", "released"])

        methods = STORE_METHODS if order.fulfilment == Fulfilment.CLICK_AND_COLLECT else COURIER_METHODS
        due = order.total - (order.paid - order.refunded)
        if due >= 0:
            checked = _payments(payments, due, methods, required=True)
            order.paid += _record_payments(order, checked, actor)
        else:
            if payments:
                raise PaymentMismatch(_("Nothing is due: the order was paid in advance."), details={"due": "0.00"})
            refunds = _refund_to_payments(order, -due, actor, reason=_("Goods refused at handover."))
            order.refunded += sum((r.amount for r in refunds), ZERO)
        order.save(update_fields=["subtotal", "discount", "points_value", "total", "paid", "refunded", "updated_at"])
        _move(order, Action.HAND_OVER, actor)
        _complete(order, lines, actor, timezone.now())
    return order


def _split_allocations(allocations, refused: Mapping[str, int]):
    """Which reserved units are released (the refused ones, taken from the last allocations of
    each line first) and which are sold."""
    to_release, to_sell = [], []
    by_line = defaultdict(list)
    for allocation in allocations:
        if allocation.open_quantity:
            by_line[allocation.line_id].append(allocation)
    for line_allocations in by_line.values():
        left = refused.get(line_allocations[0].line.sku, 0)
        for allocation in reversed(line_allocations):
            release = min(left, allocation.open_quantity)
            left -= release
            if release:
                to_release.append((allocation, release))
            if allocation.open_quantity - release:
                to_sell.append((allocation, allocation.open_quantity - release))
    return to_release, to_sell


# --- Transfers arriving for click-and-collect orders ---------------------------------------


def order_transfer_received(*, transfer, received: dict[int, int]) -> None:
    """``inventory.hooks`` callback, inside the receipt's transaction (which already reserved what
    arrived for the order). The order row is taken only if free: a cancellation holding it waits
    for stock rows this receipt holds, so waiting here could deadlock; then the order is updated
    right after the receipt commits instead. Units that did not arrive are sourced again after the
    commit too, in their own transaction, which locks its stock rows in the usual order."""
    if transfer.cause_type != "order" or not transfer.cause_id:
        return
    order = Order.objects.select_for_update(skip_locked=True).filter(number=transfer.cause_id).first()
    if order is None:
        if Order.objects.filter(number=transfer.cause_id).exists():
            transfer_id = transfer.pk
            transaction.on_commit(lambda: order_transfer_settle(transfer_id=transfer_id), robust=True)
        return
    if _settle_transfer(order, transfer, received, SYSTEM):
        order_id = order.pk
        transaction.on_commit(lambda: order_source_shortfall(order=Order(pk=order_id)), robust=True)


def order_transfer_settle(*, transfer_id: int, actor: Actor = SYSTEM) -> None:
    """Apply a received transfer to its order (after the receipt, or from the periodic check)."""
    from inventory.models import Transfer

    with transaction.atomic():
        transfer = Transfer.objects.get(pk=transfer_id)
        if transfer.status != TransferStatus.RECEIVED:
            return
        order = Order.objects.filter(number=transfer.cause_id).first()
        if order is None:
            return
        order = _locked(order)
        received = {line.product_id: line.received_quantity or 0 for line in transfer.lines.all()}
        shortfall = _settle_transfer(order, transfer, received, actor)
    if shortfall:
        order_source_shortfall(order=order, actor=actor)


def _settle_transfer(order: Order, transfer, received: Mapping[int, int], actor: Actor) -> bool:
    """Apply what arrived to the order's allocations waiting for the transfer. Units that did not
    arrive become an allocation waiting for a source (pending, without a transfer) for
    ``order_source_shortfall``; returns whether the order has any (this receipt's or an earlier
    one's, left waiting while another transfer was on its way)."""
    pending = list(
        OrderAllocation.objects.filter(line__order=order, transfer=transfer, pending=True).select_related("line")
    )
    if not pending:
        return False
    cause = Cause("order", order.number)
    if order.status != OrderStatus.AWAITING_TRANSFER:
        # Cancelled or expired meanwhile: what arrived was reserved for nothing.
        arrived = [(a, min(received.get(a.line.product_id, 0), a.quantity)) for a in pending]
        lines = [StockLine(a.line.product_id, transfer.destination_id, qty) for a, qty in arrived if qty]
        if lines:
            stock_release(lines=lines, cause=cause, actor=actor)
        OrderAllocation.objects.filter(pk__in=[a.pk for a in pending]).update(pending=False)
        return False
    shortfall = []
    for allocation in pending:
        arrived = min(received.get(allocation.line.product_id, 0), allocation.quantity)
        missing = allocation.quantity - arrived
        if missing:
            shortfall.append(
                OrderAllocation(
                    line=allocation.line, location_id=allocation.location_id, quantity=missing, pending=True
                )
            )
            if arrived:
                allocation.quantity = arrived
            else:
                allocation.released = allocation.quantity  # nothing came: it holds nothing
        allocation.pending = False
        allocation.save(update_fields=["quantity", "pending", "released"])
    OrderAllocation.objects.bulk_create(shortfall)
    waiting = OrderAllocation.objects.filter(line__order=order, pending=True)
    if not waiting.exists():
        _make_ready(order, Action.TRANSFER_ARRIVED, actor)
        return False
    return waiting.filter(transfer=None).exists()


def order_source_shortfall(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Source again the units of a click-and-collect order that a transfer did not bring (received
    short): the pickup store's own available stock first, then a new transfer from locations that
    ship when they hold all of the rest, reserved under the same locks as at placement. When the
    rest is nowhere and no other transfer is on its way, the order waits for staff to decide
    (``order_accept_partial`` or ``order_cancel``; it expires like a pickup if nobody does) and the
    customer is told. Run after the receipt commits, and by the hourly task for any left over."""
    with transaction.atomic():
        order = _locked(order)
        if order.status != OrderStatus.AWAITING_TRANSFER:
            return order
        allocations = _open_allocations(order)
        unsourced = [a for a in allocations if a.pending and a.transfer_id is None and a.open_quantity]
        if not unsourced:
            return order
        store = order.location
        wanted, lines = defaultdict(int), {}
        for allocation in unsourced:
            wanted[allocation.line.product_id] += allocation.open_quantity
            lines[allocation.line.product_id] = allocation.line
        shipping = _shipping_locations(exclude=store.pk)
        available = _availability(stock_rows([(pid, loc.pk) for pid in wanted for loc in [store, *shipping]]))
        from_store = {pid: min(qty, max(available.get((pid, store.pk), 0), 0)) for pid, qty in wanted.items()}
        rest = {pid: qty - from_store[pid] for pid, qty in wanted.items()}
        try:
            sources = _choose_sources(rest, available, shipping)
            missing = {}
        except _Unavailable:
            sources, missing = [], {pid: qty for pid, qty in rest.items() if qty}

        cause = Cause("order", order.number)
        replacements = [
            OrderAllocation(line=lines[pid], location=store, quantity=qty, pending=True) for pid, qty in missing.items()
        ]
        from_store = {pid: qty for pid, qty in from_store.items() if qty}
        if from_store:
            stock_reserve(
                lines=[StockLine(pid, store.pk, qty) for pid, qty in from_store.items()], cause=cause, actor=actor
            )
            replacements += [
                OrderAllocation(line=lines[pid], location=store, quantity=qty) for pid, qty in from_store.items()
            ]
        replacements += _transfer_to_store(order, sources, lines, actor)
        # The allocations waiting for a source held nothing: they are replaced by what was found.
        OrderAllocation.objects.filter(pk__in=[a.pk for a in unsourced]).delete()
        OrderAllocation.objects.bulk_create(replacements)

        waiting = OrderAllocation.objects.filter(line__order=order, pending=True)
        if not waiting.exists():
            _make_ready(order, Action.TRANSFER_ARRIVED, actor)
        elif not waiting.filter(transfer__isnull=False).exists():
            _await_decision(order, {lines[pid]: qty for pid, qty in missing.items()}, actor)
    return order


def _await_decision(order: Order, missing: Mapping[OrderLine, int], actor: Actor) -> None:
    """Goods of the order are nowhere: staff decide; what is there is kept until ``pickup_until``."""
    order.pickup_until = timezone.now() + datetime.timedelta(days=settings.ORDERS_PICKUP_DAYS)
    items = ", ".join(f"{line.name} × {qty}" for line, qty in missing.items())
    _move(order, Action.AWAIT_DECISION, actor, note=items, fields=["pickup_until"])
    _notify(
        order,
        kind="order_short",
        subject=_("Order %(number)s: some goods could not be found") % {"number": order.number},
        text=_(
            "We could not bring all of your order %(number)s to %(store)s: %(items)s could not be found. "
            "You can take what is there or cancel the order; the store will contact you. "
            "What is there is kept for you until %(until)s."
        )
        % {
            "number": order.number,
            "store": order.location.name,
            "items": items,
            "until": date_format(timezone.localtime(order.pickup_until), "DATETIME_FORMAT"),
        },
        actor=actor,
    )


def order_accept_partial(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """Go ahead with what is there for an order awaiting a decision: the missing units are taken
    off their lines (their share of the order, points given back), what was paid for them is
    refunded, and the order is ready for pickup (the customer is told, with what is left to pay)."""
    with transaction.atomic():
        order = _locked(order)
        states.next_status(order, Action.ACCEPT_PARTIAL)
        _lock_customer(order)
        lines = list(order.lines.select_related("product").order_by("id"))
        unsourced = [a for a in _open_allocations(order) if a.pending and a.open_quantity]
        missing = defaultdict(int)
        for allocation in unsourced:
            missing[allocation.line_id] += allocation.open_quantity
        if all(line.quantity - line.refused_quantity <= missing[line.pk] for line in lines):
            raise InvalidTransition(
                _("None of the goods of order %(number)s are there: cancel it instead.") % {"number": order.number},
                details={"number": order.number, "status": order.status},
            )
        _take_off(order, lines, missing, actor, reference=f"{order.number}-missing")
        for allocation in unsourced:
            allocation.released += allocation.open_quantity
            allocation.pending = False
        OrderAllocation.objects.bulk_update(unsourced, ["released", "pending"])
        excess = order.paid - order.refunded - order.total
        if excess > 0:
            refunds = _refund_to_payments(order, excess, actor, reason=_("Goods that could not be found."))
            order.refunded += sum((r.amount for r in refunds), ZERO)
        order.save(update_fields=["subtotal", "discount", "points_value", "total", "refunded", "updated_at"])
        _make_ready(order, Action.ACCEPT_PARTIAL, actor)
    return order


# --- Returns ------------------------------------------------------------------------------


def return_window_days(order: Order) -> int:
    """14 days (by default) for goods bought in a store, 7 for distance sales."""
    if order.fulfilment == Fulfilment.IN_STORE:
        return settings.ORDERS_RETURN_DAYS_STORE
    return settings.ORDERS_RETURN_DAYS_DISTANCE


def return_deadline(order: Order) -> datetime.datetime | None:
    if order.completed_at is None:
        return None
    return order.completed_at + datetime.timedelta(days=return_window_days(order))


def return_accept(
    *,
    order: Order,
    location: Location,
    lines: Sequence[ReturnLineInput],
    reason: str,
    refund_method: str = RefundMethod.ORIGINAL,
    accept_late: bool = False,
    actor: Actor = SYSTEM,
    now: datetime.datetime | None = None,
) -> OrderReturn:
    """Take goods of a completed order back at any location that accepts returns.

    Never more than bought less already refused or returned (checked with the order row locked,
    so racing returns cannot exceed it). Resellable goods go back on hand at the receiving
    location; faulty ones are returned and written off there (the ledger shows both). The refund
    is what was paid in money for exactly these units, less the value of earned points the
    customer already spent (loyalty's shortfall); to the original payments in proportion, or to
    points where the customer chooses it and the programme allows it. Within the return window,
    or later for faulty goods when a store manager accepts it (recorded on the return).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidReturn.for_field("reason", _("A return needs a reason."))
    _check_choice(refund_method, RefundMethod, "refund_method")
    if not lines:
        raise InvalidReturn.for_field("lines", _("Name at least one line to return."))
    wanted: dict[str, list[ReturnLineInput]] = defaultdict(list)
    for index, line in enumerate(lines):
        _check_quantity(line.quantity, f"lines.{index}.quantity")
        _check_choice(line.condition, ReturnCondition, f"lines.{index}.condition")
        wanted[str(line.sku).strip()].append(line)
    if not location.accepts_returns or not location.is_active:
        raise ReturnsNotAccepted(
            _("%(location)s does not accept returns.") % {"location": location.code},
            details={"location": location.code},
        )
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order)
        if order.status not in COMPLETED_STATUSES:
            raise InvalidTransition(
                _("Order %(number)s is %(status)s: only goods handed over can be returned.")
                % {"number": order.number, "status": OrderStatus(order.status).label},
                details={"number": order.number, "status": order.status},
            )
        late = now > return_deadline(order)
        if late:
            _check_late(order, lines, accept_late, actor)
        order_lines = {line.sku: line for line in order.lines.select_related("product").order_by("id")}
        unknown = sorted(sku for sku in wanted if sku not in order_lines)
        if unknown:
            raise InvalidReturn(
                _("Not on order %(number)s: %(skus)s.") % {"number": order.number, "skus": ", ".join(unknown)},
                details={"skus": unknown},
            )
        over = []
        for sku, items in wanted.items():
            line = order_lines[sku]
            quantity = sum(item.quantity for item in items)
            if quantity > line.kept_quantity:
                over.append({"sku": sku, "requested": quantity, "returnable": line.kept_quantity})
        if over:
            raise ReturnExceedsPurchase(
                _("More than was bought: %(skus)s.") % {"skus": ", ".join(item["sku"] for item in over)},
                details={"lines": over},
            )
        customer = _lock_customer(order)
        if refund_method == RefundMethod.POINTS:
            _check_refund_to_points(order, customer)

        number = f"R-{sequence_next('order_return'):06d}"
        order_return = OrderReturn.objects.create(
            number=number,
            order=order,
            location=location,
            reason=reason[:255],
            refund_method=refund_method,
            late_accepted=late,
            **actor.audit_fields,
        )
        return_lines, loyalty_lines = [], []
        for sku, items in wanted.items():
            line = order_lines[sku]
            done = line.refused_quantity + line.returned_quantity
            for item in items:
                part = line_part(line, done=done, count=item.quantity)
                done += item.quantity
                return_lines.append(
                    ReturnLine(
                        order_return=order_return,
                        order_line=line,
                        quantity=item.quantity,
                        condition=item.condition,
                        amount=part.amount,
                        paid_amount=part.total,
                    )
                )
                loyalty_lines.append(loyalty.ReturnLine(line.product_id, item.quantity, part.amount))
            line.returned_quantity += sum(item.quantity for item in items)
        ReturnLine.objects.bulk_create(return_lines)
        OrderLine.objects.bulk_update([order_lines[sku] for sku in wanted], ["returned_quantity"])

        amount = sum((rl.amount for rl in return_lines), ZERO)
        paid_amount = sum((rl.paid_amount for rl in return_lines), ZERO)
        if customer is not None:
            reversal = loyalty.points_reverse(
                reference=order.number, return_reference=number, lines=loyalty_lines, actor=actor, now=now
            )
            _points_payment_given_back(order, reversal.value_given_back)
            order_return.points_reversed = reversal.points_cancelled + reversal.points_taken_back
            order_return.points_given_back = reversal.points_given_back
            order_return.shortfall_points = reversal.shortfall_points
            order_return.shortfall_value = reversal.shortfall_value
        refundable = max(order.paid - order.refunded, ZERO)
        paid_amount = min(paid_amount, refundable)
        refund = max(paid_amount - order_return.shortfall_value, ZERO)
        order_return.amount, order_return.paid_amount, order_return.refund_amount = amount, paid_amount, refund

        _return_stock(order_return, return_lines, location, actor)
        refunds = []
        if refund > 0 and refund_method == RefundMethod.POINTS:
            refunds += _refund_to_points(order, order_return, refund, actor, now)
        in_points = sum((r.amount for r in refunds), ZERO)
        refunds += _refund_to_payments(
            order,
            refund - in_points,
            actor,
            order_return=order_return,
            reason=_("Return %(number)s") % {"number": number},
        )
        order_return.refund_points = sum(r.points for r in refunds)
        order_return.save()
        order.refunded += refund
        order.save(update_fields=["refunded", "updated_at"])

        items = sum(rl.quantity for rl in return_lines)
        _timeline(
            order,
            kind=InteractionKind.RETURN,
            summary=_("Return %(number)s of order %(order)s: %(items)d items, refund %(refund)s.")
            % {"number": number, "order": order.number, "items": items, "refund": _money_text(refund)},
            details=reason,
            location=location,
            actor=actor,
        )
        _notify(
            order,
            kind="refund_made",
            key=number,
            subject=_("Refund for order %(number)s") % {"number": order.number},
            text=_refund_text(order, order_return, refunds),
            actor=actor,
        )
    return order_return


def _check_late(order: Order, lines: Sequence[ReturnLineInput], accept_late: bool, actor: Actor) -> None:
    deadline = return_deadline(order)
    details = {"number": order.number, "deadline": deadline.isoformat(), "days": return_window_days(order)}
    refusal = _("The return window of order %(number)s ended on %(date)s.") % {
        "number": order.number,
        "date": date_format(timezone.localtime(deadline), "DATE_FORMAT"),
    }
    if not accept_late:
        raise ReturnWindowClosed(refusal, details=details)
    if any(line.condition != ReturnCondition.FAULTY for line in lines):
        raise ReturnWindowClosed(
            refusal + " " + _("Only faulty goods may be accepted after it."), details={**details, "late": True}
        )
    if actor.user is None or not actor.user.has_perm("orders.accept_late_return"):
        raise ReturnWindowClosed(
            refusal + " " + _("Only a store manager may accept a late return of faulty goods."),
            details={**details, "late": True},
        )


def _check_refund_to_points(order: Order, customer: Customer | None) -> None:
    if not settings.ORDERS_REFUND_TO_POINTS or customer is None:
        raise RefundToPointsNotAllowed()
    account = loyalty_selectors.account_of(customer)
    if account is None or not account.is_active:
        raise RefundToPointsNotAllowed(_("The customer has no active loyalty account."))


def _refund_to_points(order: Order, order_return: OrderReturn, amount: Decimal, actor: Actor, now) -> list[Refund]:
    """Credit the refund as points at the programme's value (whole points; the cents that do not
    make a point go back to the payments).

    Granted as a refund bonus caused by ``refund``/<return number>, once per return
    (``points_bonus`` is idempotent per cause); the loyalty KPIs do not count it as earned.
    """
    programme = loyalty.programme_current()
    points = int(amount // programme.point_value)
    if points <= 0:
        return []
    account = loyalty_selectors.account_of(order.customer)
    loyalty.points_bonus(
        account=account,
        points=points,
        bonus_type=BonusType.REFUND,
        cause=loyalty.Cause("refund", order_return.number),
        actor=actor,
        now=now,
    )
    refund = Refund.objects.create(
        order=order,
        order_return=order_return,
        method=PaymentMethod.POINTS,
        amount=money(points * programme.point_value),
        points=points,
        status=RefundStatus.DONE,
        completed_at=now or timezone.now(),
        reason=_("Return %(number)s") % {"number": order_return.number},
        **actor.audit_fields,
    )
    return [refund]


def _return_stock(order_return: OrderReturn, lines: Sequence[ReturnLine], location: Location, actor: Actor) -> None:
    quantities, faulty = defaultdict(int), defaultdict(int)
    for line in lines:
        quantities[line.order_line.product_id] += line.quantity
        if line.condition == ReturnCondition.FAULTY:
            faulty[line.order_line.product_id] += line.quantity
    stock_rows([(pid, location.pk) for pid in quantities], create_missing=True)
    stock_return(
        lines=[StockLine(pid, location.pk, qty) for pid, qty in quantities.items()],
        cause=Cause("return", order_return.number),
        actor=actor,
    )
    if faulty:
        stock_write_off(
            location=location,
            lines=[ProductQuantity(pid, qty) for pid, qty in faulty.items()],
            number=order_return.number,
            note=_("Faulty goods of return %(number)s") % {"number": order_return.number},
            actor=actor,
        )


def _refund_text(order: Order, order_return: OrderReturn, refunds: Sequence[Refund]) -> str:
    parts = []
    for refund in refunds:
        if refund.method == PaymentMethod.POINTS:
            parts.append(_("%(points)d points") % {"points": refund.points})
        else:
            parts.append(
                _("%(amount)s by %(method)s")
                % {"amount": _money_text(refund.amount), "method": PaymentMethod(refund.method).label}
            )
    if not parts:
        return _("Your return %(number)s of order %(order)s is accepted; nothing is left to refund.") % {
            "number": order_return.number,
            "order": order.number,
        }
    return _("Your return %(number)s of order %(order)s is accepted. Refund: %(refunds)s.") % {
        "number": order_return.number,
        "order": order.number,
        "refunds": "; ".join(parts),
    }


def return_preview(**kwargs) -> ReturnFigures:
    """What ``return_accept`` would do with this input, computed by it in a transaction that is
    then rolled back (loyalty's reversal and its shortfall included): the return desk shows it
    before the cashier confirms."""
    with transaction.atomic():
        order_return = return_accept(**kwargs)
        figures = ReturnFigures(
            amount=order_return.amount,
            paid_amount=order_return.paid_amount,
            shortfall_points=order_return.shortfall_points,
            shortfall_value=order_return.shortfall_value,
            refund_amount=order_return.refund_amount,
            refund_points=order_return.refund_points,
            points_reversed=order_return.points_reversed,
            points_given_back=order_return.points_given_back,
            late=order_return.late_accepted,
            refunds=[(r.method, r.amount, r.points) for r in order_return.refunds.all()],
        )
        transaction.set_rollback(True)
    return figures


# --- Customers: merge and personal data -----------------------------------------------------


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
