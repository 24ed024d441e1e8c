"""What the till shows of a sale once it is made: on the result screen and the printable receipt."""

import datetime
from dataclasses import dataclass

from customers.messaging.services import Route, message_route
from customers.models import MessagePurpose
from omni.core.errors import DomainError
from orders.models import Fulfilment, Order, Payment, PaymentMethod
from orders.selectors import orders_for_display, orders_for_user
from orders.services.receipts import points_spendable_from


@dataclass(frozen=True)
class SaleResult:
    order: Order
    payments: list[Payment]
    points_earned: int
    # When the points earned become spendable: they are pending until the return window has passed.
    spendable_from: datetime.datetime | None
    # Where the receipt would be sent (the customer's channel for service messages), if anywhere.
    receipt_route: Route | None


def sold_order(user, pk: str) -> Order | None:
    """A sale in a store the user works at (the result screen and the receipt show only those)."""
    if not str(pk).isdigit():
        return None
    orders = orders_for_display(orders_for_user(user)).filter(pk=int(pk), fulfilment=Fulfilment.IN_STORE)
    return orders.first()


def sale_result(order: Order) -> SaleResult:
    route = None
    if order.customer is not None:
        try:
            route = message_route(order.customer, purpose=MessagePurpose.SERVICE)
        except DomainError:
            route = None
    return SaleResult(
        order=order,
        payments=[p for p in order.payments.all() if p.method != PaymentMethod.POINTS],
        points_earned=order.points_earned,
        spendable_from=points_spendable_from(order),
        receipt_route=route,
    )
