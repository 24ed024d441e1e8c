"""Orders test data, built through the services (stock, points and orders keep their ledgers)."""

from decimal import Decimal

from inventory.services import ProductQuantity, stock_receive
from loyalty import services as loyalty
from loyalty.models import BonusType
from omni.core.channels import Channel
from orders import services
from orders.models import Fulfilment
from orders.services import LineInput, PaymentInput
from tests.inventory.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.loyalty.factories import customer

__all__ = ["customer"]


def store(**kwargs):
    return LocationFactory(**kwargs)


def warehouse(**kwargs):
    return WarehouseFactory(**kwargs)


def product(price="1000.00", **kwargs):
    return ProductFactory(price=Decimal(price), **kwargs)


def stock(location, item, quantity: int) -> None:
    stock_receive(location=location, lines=[ProductQuantity(item.pk, quantity)])


def points_for(person, points: int):
    """A loyalty member with ``points`` spendable at once."""
    account, _created = loyalty.account_open(customer=person)
    loyalty.points_bonus(
        account=account, points=points, bonus_type=BonusType.CAMPAIGN, cause=loyalty.Cause("test", str(person.pk))
    )
    return account


def lines(*items) -> list[LineInput]:
    """``lines((shirt, 2), (socks, 1))``."""
    return [LineInput(sku=item.sku, quantity=quantity) for item, quantity in items]


def collect(person, pickup, *items, **kwargs):
    """A click-and-collect order from the site."""
    return services.order_place(
        channel=kwargs.pop("channel", Channel.SITE),
        fulfilment=Fulfilment.CLICK_AND_COLLECT,
        customer=person,
        location=pickup,
        lines=lines(*items),
        **kwargs,
    )


def deliver(person, *items, **kwargs):
    return services.order_place(
        channel=kwargs.pop("channel", Channel.SITE),
        fulfilment=Fulfilment.DELIVERY,
        customer=person,
        delivery_address=kwargs.pop("delivery_address", "Moscow, Tverskaya 1, flat 2"),
        lines=lines(*items),
        **kwargs,
    )


def sell(shop, *items, person=None, payments=None, **kwargs):
    """A sale in the store, paid in cash unless said otherwise."""
    return services.order_place(
        channel=Channel.STORE,
        fulfilment=Fulfilment.IN_STORE,
        customer=person,
        location=shop,
        lines=lines(*items),
        payments=payments if payments is not None else [PaymentInput(method="cash")],
        **kwargs,
    )


def cash(amount=None) -> list[PaymentInput]:
    return [PaymentInput(method="cash", amount=None if amount is None else Decimal(amount))]
