"""Loyalty test data, built through the services where the ledger matters."""

import datetime
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from loyalty import services
from loyalty.models import Account, BonusType, Programme, PromoCode, PromoKind, Tier
from loyalty.services import CartLine, Cause
from tests.customers.factories import CustomerFactory, IdentityFactory

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 12, 0))
_causes = itertools.count(1)


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    """An active programme with three tiers: Base 5 %, Silver 7 % from 10,000, Gold 10 % from 50,000."""

    class Meta:
        model = Programme
        skip_postgeneration_save = True

    name = "Test programme"
    is_active = True
    point_value = Decimal("1.00")
    max_redeem_percent = Decimal("30")
    holding_days = 14
    expiry_days = 365
    tier_period_days = 365
    welcome_bonus = 0
    birthday_bonus = 0

    @factory.post_generation
    def tiers(self, create, extracted, **kwargs):
        if not create:
            return
        for name, min_spend, rate in extracted or (("Base", 0, 5), ("Silver", 10_000, 7), ("Gold", 50_000, 10)):
            Tier.objects.create(programme=self, name=name, min_spend=Decimal(min_spend), earn_rate=Decimal(rate))


class PromoCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromoCode

    code = factory.Sequence(lambda n: f"PROMO{n}")
    kind = PromoKind.PERCENT
    value = Decimal("10")
    valid_from = NOW - days(30)


def customer(**kwargs):
    """A customer who can be reached (a phone), so messages to them can be sent."""
    person = CustomerFactory(**kwargs)
    IdentityFactory(customer=person)
    return person


def member(person=None, *, now=NOW, **kwargs) -> Account:
    account, _created = services.account_open(customer=person or customer(), now=now, **kwargs)
    return account


def give(account: Account, points: int, *, now=NOW):
    """Points spendable at once (a campaign bonus), expiring after the programme's expiry."""
    entry, _created = services.points_bonus(
        account=account, points=points, bonus_type=BonusType.CAMPAIGN, cause=Cause("test", str(next(_causes))), now=now
    )
    return entry


def cart(*amounts, category=None, product=None) -> list[CartLine]:
    return [
        CartLine(
            product_id=product.pk if product else None,
            category_id=category.pk if category else None,
            quantity=1,
            amount=Decimal(str(amount)),
        )
        for amount in amounts
    ]


def line(product, amount, quantity=1) -> CartLine:
    return CartLine(
        product_id=product.pk, category_id=product.category_id, quantity=quantity, amount=Decimal(str(amount))
    )
