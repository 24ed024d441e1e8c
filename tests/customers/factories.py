import factory

from customers.identities import match_key
from customers.models import Customer, Identity, IdentityKind
from omni.core.channels import Channel


def phone(n: int) -> str:
    """A valid Russian mobile number in E.164."""
    return f"+7916{n % 10_000_000:07d}"


class CustomerFactory(factory.django.DjangoModelFactory):
    """Only for setting up state: real customers are made with ``customer_identify``."""

    class Meta:
        model = Customer

    first_name = factory.Sequence(lambda n: f"Ivan{n}")
    last_name = factory.Sequence(lambda n: f"Petrov{n}")
    city = "Moscow"
    created_channel = Channel.SITE


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.PHONE
    value = factory.Sequence(phone)
    match_key = factory.LazyAttribute(lambda o: match_key(o.kind, o.value))


class EmailFactory(IdentityFactory):
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.com")
