"""Every list endpoint of the API answers a page of 100 rows in as many queries as a page of one.

The endpoints are listed here with a way to add rows (with what each row shows: lines, cards,
a store...); ``test_every_list_endpoint_is_covered`` checks the list against the OpenAPI schema,
so that a new list endpoint cannot be left out.
"""

import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from customers import cases as customer_cases
from customers import services as customer_services
from customers.models import DuplicateCandidate, DuplicateReason, InteractionKind
from inventory import services as inventory_services
from inventory.models import Attribute, Category, ProductImage, ProductModel
from inventory.services import ProductQuantity
from loyalty import services as loyalty
from loyalty.models import BonusType, PromoUsage
from omni.core.channels import Channel
from omni.core.scopes import Scope
from omni.webhooks.models import Delivery, Event, Subscription
from orders import services as order_services
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import BarcodeFactory, CategoryFactory, LocationFactory, ProductFactory
from tests.loyalty.factories import PromoCodeFactory
from tests.orders.factories import cash, points_for, sell, stock

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


class World:
    """What the rows of every list hang on: a store, a customer with an account, a promo code."""

    def __init__(self, api_key):
        self.api_key = api_key
        self.store = LocationFactory(code="msk-01")
        self.other_store = LocationFactory(code="spb-01")
        self.customer = CustomerFactory()
        self.account = points_for(self.customer, 1_000)
        self.promo = PromoCodeFactory(code="LIST")
        self.subscription = Subscription.objects.create(
            api_key=api_key, url="https://shop.example.com/hooks", event_types=["order.placed"]
        )

    def product(self, **kwargs):
        n = next(_numbers)
        product = ProductFactory(sku=f"L-{n:04d}", category=CategoryFactory(code=f"cat-{n}"), **kwargs)
        BarcodeFactory(product=product)
        return product

    def sale(self):
        shirt = self.product()
        stock(self.store, shirt, 5)
        return sell(self.store, (shirt, 2), person=self.customer, payments=cash())


def add_products(world: World, n: int) -> str:
    for _ in range(n):
        world.product()
    return "/api/v1/products/"


def add_product_models(world: World, n: int) -> str:
    for _ in range(n):
        model = ProductModel.objects.create(code=f"M-{next(_numbers)}", name="Shirt", category=Category.objects.first())
        ProductImage.objects.create(model=model, url="https://img.example.com/1.jpg")
        world.product(model=model)
    return "/api/v1/product-models/"


def add_attributes(world: World, n: int) -> str:
    for _ in range(n):
        Attribute.objects.create(code=f"attr-{next(_numbers)}", name="Size")
    return "/api/v1/attributes/"


def add_categories(world: World, n: int) -> str:
    parent = CategoryFactory(code="root")
    for _ in range(n):
        child = CategoryFactory(code=f"c-{next(_numbers)}", parent=parent)
        CategoryFactory(code=f"c-{next(_numbers)}", parent=child)
    return "/api/v1/categories/"


def add_locations(world: World, n: int) -> str:
    for _ in range(n):
        LocationFactory()
    return "/api/v1/locations/"


def add_stock_changes(world: World, n: int) -> str:
    for _ in range(n):
        stock(world.store, world.product(), 3)
    return "/api/v1/availability/changes/"


def add_transfers(world: World, n: int) -> str:
    for _ in range(n):
        items = [world.product(), world.product()]
        for item in items:
            stock(world.store, item, 5)
        inventory_services.transfer_create(
            source=world.store, destination=world.other_store, lines=[ProductQuantity(item.pk, 1) for item in items]
        )
    return "/api/v1/transfers/"


def add_customers(world: World, n: int) -> str:
    for _ in range(n):
        customer_services.customer_identify(
            identities=[customer_services.IdentityInput("phone", f"+7916{next(_numbers):07d}")],
            profile={"preferred_store": world.store},
        )
    return "/api/v1/customers/"


def add_timeline(world: World, n: int) -> str:
    for _ in range(n):
        customer_services.interaction_record(
            customer=world.customer,
            channel=Channel.STORE,
            kind=InteractionKind.STORE_VISIT,
            summary="Tried on a coat",
            location=world.store,
        )
    return f"/api/v1/customers/{world.customer.pk}/timeline/"


def add_cases(world: World, n: int) -> str:
    for _ in range(n):
        customer_cases.case_open(
            customer=world.customer, subject="Where is it?", channel=Channel.SITE, body="Hello", store=world.store
        )
    return f"/api/v1/customers/{world.customer.pk}/cases/"


def add_consents(world: World, n: int) -> str:
    from customers.models import ConsentPurpose, ContactChannel

    changes = [customer_services.ConsentChange(ConsentPurpose.PERSONAL_DATA, True)]
    changes += [
        customer_services.ConsentChange(ConsentPurpose.MARKETING, True, channel)
        for channel in ContactChannel.values
        if channel
    ]
    # There are only so many purposes and channels: "many" is all of them.
    customer_services.consents_record(
        customer=world.customer, changes=changes[: min(n, len(changes))], source_channel=Channel.STORE
    )
    return f"/api/v1/customers/{world.customer.pk}/consents/"


def add_duplicates(world: World, n: int) -> str:
    for _ in range(n):
        first, second = sorted([CustomerFactory(), CustomerFactory()], key=lambda customer: customer.pk)
        DuplicateCandidate.objects.create(first=first, second=second, reason=DuplicateReason.SAME_NAME_BIRTHDAY)
    return "/api/v1/customers/duplicates/"


def add_entries(world: World, n: int) -> str:
    for _ in range(n):
        loyalty.points_bonus(
            account=world.account,
            points=10,
            bonus_type=BonusType.CAMPAIGN,
            cause=loyalty.Cause("test", str(next(_numbers))),
        )
    return f"/api/v1/loyalty/accounts/{world.customer.pk}/entries/"


def add_cards(world: World, n: int) -> str:
    for _ in range(n):
        account = points_for(CustomerFactory(), 10)
        loyalty.card_issue(account=account, store=world.store)
    return "/api/v1/loyalty/cards/"


def add_promo_codes(world: World, n: int) -> str:
    for _ in range(n):
        promo = PromoCodeFactory()
        _use(promo, world)
    return "/api/v1/loyalty/promo-codes/"


def _use(promo, world: World) -> None:
    PromoUsage.objects.create(
        promo=promo,
        customer=world.customer,
        reference=f"W-{next(_numbers)}",
        channel=Channel.SITE,
        order_total=Decimal("1000"),
        discount=Decimal("100"),
    )


def add_promo_usages(world: World, n: int) -> str:
    for _ in range(n):
        _use(world.promo, world)
    return f"/api/v1/loyalty/promo-codes/{world.promo.code}/usages/"


def add_orders(world: World, n: int) -> str:
    for _ in range(n):
        world.sale()
    return "/api/v1/orders/"


def add_returns(world: World, n: int) -> str:
    for _ in range(n):
        order = world.sale()
        line = order.lines.first()
        order_services.return_accept(
            order=order,
            location=world.store,
            lines=[order_services.ReturnLineInput(line.sku, 1)],
            reason="Too small",
        )
    return "/api/v1/returns/"


def add_webhooks(world: World, n: int) -> str:
    for _ in range(n):
        Subscription.objects.create(
            api_key=world.api_key, url=f"https://shop.example.com/{next(_numbers)}", event_types=["order.placed"]
        )
    return "/api/v1/webhooks/"


def add_deliveries(world: World, n: int) -> str:
    for _ in range(n):
        event = Event.objects.create(type="order.placed", object_type="order", object_id=str(next(_numbers)))
        Delivery.objects.create(event=event, subscription=world.subscription, next_attempt_at=timezone.now())
    return f"/api/v1/webhooks/{world.subscription.pk}/deliveries/"


def add_campaigns(world: World, n: int) -> str:
    from tests.marketing.factories import campaign, segment

    for _ in range(n):
        campaign(segment(), name=f"Campaign {next(_numbers)}")
    return "/api/v1/campaigns/"


LISTS: dict[str, Callable[[World, int], str]] = {
    "products_list": add_products,
    "product_models_list": add_product_models,
    "attributes_list": add_attributes,
    "categories_list": add_categories,
    "locations_list": add_locations,
    "availability_changes_list": add_stock_changes,
    "transfers_list": add_transfers,
    "customers_list": add_customers,
    "customers_timeline": add_timeline,
    "customers_cases_list": add_cases,
    "customers_consents_list": add_consents,
    "duplicates_list": add_duplicates,
    "loyalty_accounts_entries_list": add_entries,
    "loyalty_cards_list": add_cards,
    "promo_codes_list": add_promo_codes,
    "promo_codes_usages": add_promo_usages,
    "orders_list": add_orders,
    "returns_list": add_returns,
    "webhooks_list": add_webhooks,
    "webhooks_deliveries": add_deliveries,
    "campaigns_list": add_campaigns,
}


def _is_list(schema: dict, components: dict) -> bool:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return True
    pages = schema.get("anyOf", [schema])  # a SyncPagination answer is pages or changes
    return any("results" in page.get("properties", {}) and "count" in page.get("properties", {}) for page in pages)


def test_every_list_endpoint_is_covered():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    lists = set()
    for operations in schema["paths"].values():
        operation = operations.get("get")
        if operation is None:
            continue
        for content in operation["responses"].get("200", {}).get("content", {}).values():
            if _is_list(content["schema"], components):
                lists.add(operation["operationId"])
    assert lists == set(LISTS)


def _queries(client, url: str) -> int:
    client.get(url)  # the key checked and marked used just before: not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 500} if "consents" not in url else {})
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    rows = body if isinstance(body, list) else body["results"]
    assert rows, url
    return len(queries)


@pytest.mark.parametrize("operation", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_one_row_and_a_hundred(client_with_scopes, operation):
    client = client_with_scopes(*Scope.values)
    world = World(client.api_key)
    add = LISTS[operation]
    url = add(world, 1)
    one = _queries(client, url)

    add(world, 99)
    hundred = _queries(client, url)

    assert hundred == one, f"{operation}: {one} queries for one row, {hundred} for a hundred"
