"""Placing an order: checks, prices from the catalogue, promo code and points, stock, payments."""

from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, InteractionKind
from customers.selectors import customer_resolve
from customers.services import check_active, locked_customer
from inventory.errors import UnknownProducts
from inventory.models import Location, LocationKind, Product
from inventory.selectors import active_products_by_sku
from loyalty import selectors as loyalty_selectors
from loyalty import services as loyalty
from loyalty.services import promo as loyalty_promo
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import SALES_CHANNELS, Channel
from omni.core.db import instance_from_row, prepared_cursor, rows_write_together, select_columns, service_atomic
from omni.core.errors import InvalidInput
from omni.core.money import money, spread_money, spread_units
from omni.core.services import sequence_name, sequence_next_created
from orders import hooks, states
from orders.errors import (
    CustomerRequired,
    InvalidLocation,
    InvalidOrder,
)
from orders.models import (
    NUMBER_PREFIXES,
    Fulfilment,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    StatusChange,
)
from orders.services.allocation import allocate_click_and_collect, allocate_delivery, sell_in_store
from orders.services.fulfilment import completion_record
from orders.services.inputs import MAX_LINES, LineInput, PaymentInput, check_choice, check_one_of, check_quantity
from orders.services.lines import cart_line
from orders.services.notices import customer_notify, money_text, timeline_entry
from orders.services.payments import (
    PREPAYMENT_METHODS,
    STORE_METHODS,
    ZERO,
    payment_actor,
    payments_build,
    payments_check,
)
from orders.services.transitions import status_move
from orders.states import Action


def order_number(channel: str) -> str:
    prefix = NUMBER_PREFIXES[Channel(channel)]
    return f"{prefix}-{sequence_next_created(f'order:{prefix}'):06d}"


def _customer_and_number(customer: Customer | None, customer_id: int | None, channel: str):
    """The order's customer, locked, and its number."""
    if customer_id is not None:
        return _customer_locked_with_number(customer_id, channel)
    return (locked_customer(customer) if customer is not None else None), order_number(channel)


def _write_placed(order: Order, lines: list[OrderLine], payments: list[Payment], history, actor: Actor) -> None:
    """The order once, with its number and totals, its lines, payments and first status, and a
    click-and-collect order's timeline entry and notice (before the stock, whose rows then stay
    locked until the commit): one statement on PostgreSQL."""
    timeline, notice = [], []
    if order.fulfilment == Fulfilment.CLICK_AND_COLLECT:
        timeline = [entry for entry in [_placed_timeline_entry(order, actor)] if entry is not None]
        _notify_placed(order, actor, written_with=notice)
    rows_write_together([order], lines, payments, history, timeline, ctes=notice)


def _customer_by_id(customer_id: int) -> Customer:
    customer = customer_resolve(customer_id)
    if customer is None:
        raise InvalidInput.for_field("customer", _("No customer has this id."))
    return customer


def _customer_locked_with_number(customer_id: int, channel: str) -> tuple[Customer, str]:
    """The customer by id (a merged profile's survivor), locked and checked to be active, and
    the order's number: one statement on PostgreSQL (the number drawn with the row). An unknown
    id is refused on the ``customer`` field."""
    if connection.vendor != "postgresql":
        return locked_customer(_customer_by_id(customer_id)), order_number(channel)
    prefix = NUMBER_PREFIXES[Channel(channel)]
    with prepared_cursor() as cursor:
        cursor.execute(_CUSTOMER_WITH_NUMBER, [sequence_name(f"order:{prefix}"), customer_id])
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput.for_field("customer", _("No customer has this id."))
    customer, number = instance_from_row(Customer, row[:-1]), f"{prefix}-{row[-1]:06d}"
    if customer.merged_into_id is not None:  # an old id: its survivor's row is the one to lock
        customer = locked_customer(_customer_by_id(customer.merged_into_id))
    check_active(customer)
    return customer, number


_CUSTOMER_WITH_NUMBER = (
    f'SELECT {select_columns(Customer, "t")}, nextval(%s) FROM "{Customer._meta.db_table}" AS t '
    'WHERE t."id" = %s FOR UPDATE'
)


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
        check_quantity(line.quantity, f"lines.{index}.quantity")
        quantities[sku] = quantities.get(sku, 0) + line.quantity
        check_quantity(quantities[sku], f"lines.{index}.quantity")
    found = active_products_by_sku(list(quantities))
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
    customer_id: int | None = None,
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

    ``customer_id`` instead of ``customer``: found (a merged profile's survivor), locked and the
    number drawn in one statement, in the transaction (``_customer_locked_with_number``).
    """
    if fulfilment == Fulfilment.DELIVERY:
        location = None
    if customer_id is not None and verified_code is None and points and loyalty.code_may_be_required(channel):
        customer, customer_id = _customer_by_id(customer_id), None  # the code is checked before the transaction
    named = customer if customer_id is None else customer_id
    _check_order_input(
        channel=channel, fulfilment=fulfilment, customer=named, location=location, address=delivery_address
    )
    products = _products(lines)
    _check_points(points, named)
    if verified_code is None:
        verified_code = order_code_verify(customer=customer, channel=channel, points=points, code=otp_code)
    now = timezone.now()
    with service_atomic():
        customer, number = _customer_and_number(customer, customer_id, channel)
        order = Order(
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
        order_lines = _new_lines(order, products)
        points_paid = _price(
            order, order_lines, promo_code=promo_code, points=points, verified_code=verified_code, actor=actor, now=now
        )
        checked = _payments_given(order, payments)
        written = ([] if points_paid is None else [points_paid]) + payments_build(order, checked, actor)
        history = [StatusChange(order=order, status_from="", status_to=order.status, **actor.audit_fields)]
        _write_placed(order, order_lines, written, history, actor)
        if _allocate(order, order_lines, actor):
            history = list(StatusChange.objects.filter(order=order).order_by("created_at", "id"))
        if fulfilment == Fulfilment.IN_STORE:
            completion_record(order, order_lines, actor, now)
        elif fulfilment == Fulfilment.DELIVERY:
            _announce_placed(order, actor)  # from the location chosen to ship it
        order.written = {"lines": order_lines, "payments": written, "history": history, "refunds": [], "returns": []}
        hooks.order_placed(order)
        hooks.order_changed(order)
    return order


def order_as_written(order: Order) -> Order:
    """The order ``order_place`` returned, with the rows it wrote attached as if prefetched (as
    ``orders.selectors.order_for_display`` would read them), to be shown without reading it
    back. Only for showing it at once: a later change of those rows is not seen.

    The related managers read a prefetched result by name and never filter it, so each result is a
    bare queryset of its model (building ``order.lines.all()`` for it cost 50 µs a relation, on the
    path of every order placed over the API and of every order.created webhook)."""
    cache = dict(getattr(order, "_prefetched_objects_cache", {}))
    for name, rows in order.written.items():
        queryset = QuerySet(model=order._meta.get_field(name).related_model)
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        cache[name] = queryset
    order._prefetched_objects_cache = cache
    return order


def _check_order_input(*, channel: str, fulfilment: str, customer, location: Location | None, address: str) -> None:
    check_one_of(channel, SALES_CHANNELS, "channel")
    check_choice(fulfilment, Fulfilment, "fulfilment")
    if fulfilment == Fulfilment.IN_STORE and channel != Channel.STORE:
        raise InvalidInput.for_field("channel", _("A sale in a store is made through the store channel."))
    if customer is None and fulfilment != Fulfilment.IN_STORE:
        raise CustomerRequired.for_field("customer", str(CustomerRequired.message))
    _check_location(fulfilment, location, address)


def _check_points(points, customer) -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise InvalidInput.for_field("points", _("Points are a whole number, zero or more."))
    if points and customer is None:
        raise CustomerRequired.for_field("points", _("Points can only be spent by an identified customer."))


def _new_lines(order: Order, products: Sequence[tuple[Product, int]]) -> list[OrderLine]:
    """The order's lines at the catalogue price (unsaved; ``_price`` adds discount and points)."""
    return [
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


def _allocate(order: Order, lines: Sequence[OrderLine], actor: Actor) -> bool:
    """Reserve (or sell) the goods; returns whether the order moved on (it awaits a transfer)."""
    if order.fulfilment == Fulfilment.CLICK_AND_COLLECT:
        if allocate_click_and_collect(order, lines, actor):
            status_move(order, Action.AWAIT_TRANSFER, actor)
            return True
    elif order.fulfilment == Fulfilment.DELIVERY:
        order.location = allocate_delivery(order, lines, actor)
        order.save(update_fields=["location", "updated_at"])
    else:
        sell_in_store(order, lines, actor)
    return False


def _payments_given(order: Order, payments: Sequence[PaymentInput]):
    """Check the payments given at placing (prepayments, or the whole of a sale in a store) and
    count them as paid on the order, before it is written."""
    in_store = order.fulfilment == Fulfilment.IN_STORE
    methods = STORE_METHODS if in_store else PREPAYMENT_METHODS
    checked = payments_check(payments, order.total, methods, required=in_store)
    order.paid = sum((amount for _method, amount, _payment in checked), ZERO)
    return checked


def _announce_placed(order: Order, actor: Actor) -> None:
    entry = _placed_timeline_entry(order, actor)
    if entry is not None:
        entry.save(force_insert=True)
    _notify_placed(order, actor)


def _placed_timeline_entry(order: Order, actor: Actor):
    return timeline_entry(
        order,
        kind=InteractionKind.ORDER,
        event="order.placed",
        params={"number": order.number, "total": str(order.total)},
        location=order.location,
        actor=actor,
    )


def _notify_placed(order: Order, actor: Actor, written_with: list | None = None) -> None:
    customer_notify(
        order,
        kind="order_placed",
        subject=_("Order %(number)s is placed") % {"number": order.number},
        text=_placed_text(order),
        actor=actor,
        customer_locked=True,  # by order_place
        written_with=written_with,
    )


def order_code_verify(*, customer: Customer | None, channel: str, points: int, code: str) -> int | None:
    """Where the programme wants a one-time code for spending these points, check it in its own
    transaction, before any other: a wrong code counts as an attempt even though the order is
    refused (``loyalty.services.otp``). Returns what ``order_place(verified_code=...)`` takes."""
    from loyalty.services import code_required, otp_verify

    if customer is None or not points or not loyalty.code_may_be_required(channel):
        return None
    check_one_of(channel, SALES_CHANNELS, "channel")
    account = loyalty_selectors.account_of(customer)
    if account is None or not code_required(loyalty.programme_current(), channel):
        return None
    return otp_verify(account=account, code=code)


def _price(
    order: Order, lines: list[OrderLine], *, promo_code: str, points: int, verified_code: int | None, actor, now
) -> Payment | None:
    """Apply the promo code and the points to the lines and the order (both still unsaved);
    returns the (unsaved) payment by points, if any."""
    subtotal = sum((line.subtotal for line in lines), ZERO)
    points_paid = None
    discount = ZERO
    if promo_code.strip():
        usage, _created = loyalty_promo.promo_apply(
            code=promo_code,
            reference=order.number,
            lines=[cart_line(line, line.subtotal) for line in lines],
            channel=order.channel,
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
            lines=[cart_line(line, line.amount) for line in lines],
            channel=order.channel,
            store=order.location if order.fulfilment != Fulfilment.DELIVERY else None,
            verified_code=verified_code,
            actor=actor,
            now=now,
            new_reference=True,
        )
        point_value = redemption.value / redemption.points
        caps = [int(line.amount // point_value) for line in lines]
        shares = spread_units(redemption.points, [line.amount for line in lines], caps)
        for line, share in zip(lines, shares, strict=True):
            line.points = share
            line.points_value = money(share * point_value)
        points_value = sum((line.points_value for line in lines), ZERO)
        order.points_redeemed = redemption.points
        points_paid = Payment(order=order, method=PaymentMethod.POINTS, amount=points_value, **payment_actor(actor))
    for line in lines:
        line.total = line.amount - line.points_value
    order.subtotal, order.discount, order.points_value = subtotal, discount, points_value
    order.total = subtotal - discount - points_value
    return points_paid


def _placed_text(order: Order) -> str:
    values = {"number": order.number, "total": money_text(order.total)}
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
