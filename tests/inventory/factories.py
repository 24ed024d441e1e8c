import factory
from django.contrib.auth import get_user_model

from inventory.models import Barcode, Category, Employee, Location, LocationKind, Product, Stock
from omni.core.barcodes import ean13_check_digit


def ean13(n: int) -> str:
    first12 = f"460{n:09d}"
    return first12 + str(ean13_check_digit(first12))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    price = factory.Faker("pydecimal", left_digits=4, right_digits=2, positive=True)


class BarcodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Barcode

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(ean13)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = LocationKind.STORE
    city = "Moscow"
    address = factory.Faker("street_address")
    opening_hours = "10:00-22:00"
    is_pickup_point = True
    accepts_returns = True
    ships_orders = False


class WarehouseFactory(LocationFactory):
    kind = LocationKind.WAREHOUSE
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    is_pickup_point = False
    accepts_returns = False
    ships_orders = True


class StockFactory(factory.django.DjangoModelFactory):
    """Only for read-side tests: it writes figures without a ledger. Build real stock with
    ``inventory.services.stock_receive``."""

    class Meta:
        model = Stock

    product = factory.SubFactory(ProductFactory)
    location = factory.SubFactory(LocationFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("password")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)
