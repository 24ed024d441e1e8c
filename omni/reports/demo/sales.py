"""A loyalty programme with three tiers, accounts for the demo customers, and a few orders in
different states, so the click-and-collect desk, the till and the return desk have work."""

from decimal import Decimal

from customers.models import Customer, IdentityKind
from customers.selectors import customer_lookup
from inventory.models import Location
from loyalty.models import Tier
from loyalty.services import account_open, programme_current
from omni.core.channels import Channel
from orders.models import Fulfilment, Order, PaymentMethod
from orders.services import (
    LineInput,
    PaymentInput,
    order_hand_over,
    order_mark_ready,
    order_pack,
    order_place,
    order_ship,
)

DEMO_NOTE = "Demo order"
TIERS = [("Silver", Decimal("30000"), Decimal("7")), ("Gold", Decimal("100000"), Decimal("10"))]


def seed_loyalty() -> None:
    programme = programme_current()
    if not programme.welcome_bonus:
        programme.welcome_bonus, programme.birthday_bonus = 300, 500
        programme.save(update_fields=["welcome_bonus", "birthday_bonus"])
    for name, min_spend, rate in TIERS:
        Tier.objects.get_or_create(programme=programme, name=name, defaults={"min_spend": min_spend, "earn_rate": rate})
    for customer in Customer.objects.filter(merged_into__isnull=True):
        account_open(customer=customer, channel=Channel.STORE)


def seed_orders() -> int:
    if Order.objects.filter(note=DEMO_NOTE).exists():
        return 0
    tver = Location.objects.get(code="MSK-TVER")
    anna = customer_lookup(IdentityKind.PHONE, "+79161000001")
    ivan = customer_lookup(IdentityKind.PHONE, "+79161000002")

    # Click-and-collect waiting at the Tverskaya store.
    pickup = order_place(
        channel=Channel.SITE,
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        customer=anna,
        location=tver,
        lines=[LineInput("SHI-0001-S", 1), LineInput("SOC-0322-M", 2)],
        payments=[PaymentInput(PaymentMethod.CARD_ONLINE)],
        note=DEMO_NOTE,
    )
    if pickup.status == "placed":
        order_mark_ready(order=pickup)

    # Delivered by courier; the customer kept it all.
    delivered = order_place(
        channel=Channel.APP,
        fulfilment=Fulfilment.DELIVERY,
        customer=ivan,
        delivery_address="Moscow, Lesnaya 7, flat 12",
        lines=[LineInput("OUT-0143-L", 1)],
        note=DEMO_NOTE,
    )
    order_pack(order=delivered)
    order_ship(order=delivered)
    order_hand_over(order=delivered, payments=[PaymentInput(PaymentMethod.COURIER_CARD)])

    # An anonymous sale at the till.
    order_place(
        channel=Channel.STORE,
        fulfilment=Fulfilment.IN_STORE,
        location=tver,
        lines=[LineInput("BAG-0282-M", 1)],
        payments=[PaymentInput(PaymentMethod.CASH)],
        note=DEMO_NOTE,
    )
    return 3


def seed() -> dict:
    seed_loyalty()
    return {"orders": seed_orders()}
