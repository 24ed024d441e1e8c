"""A small fashion retailer: two cities, three stores, a warehouse, a few hundred products."""

import random
from decimal import Decimal

from inventory.models import Category, Location, LocationKind, Product
from inventory.services import ProductData, ProductQuantity, product_upsert, stock_receive
from omni.core.barcodes import ean13_check_digit

LOCATIONS = [
    # code, name, kind, city, address, hours, pickup, returns, ships
    (
        "WH-MSK",
        "Moscow warehouse",
        LocationKind.WAREHOUSE,
        "Moscow",
        "Podolsk, Industrialnaya 5",
        "Mon–Sun 00:00–24:00",
        False,
        False,
        True,
    ),
    ("MSK-TVER", "Tverskaya", LocationKind.STORE, "Moscow", "Tverskaya 15", "Mon–Sun 10:00–22:00", True, True, False),
    ("MSK-ARBAT", "Arbat", LocationKind.STORE, "Moscow", "Arbat 24", "Mon–Sun 10:00–22:00", True, True, True),
    (
        "SPB-NEVSKY",
        "Nevsky",
        LocationKind.STORE,
        "Saint Petersburg",
        "Nevsky prospekt 48",
        "Mon–Sun 10:00–23:00",
        True,
        True,
        False,
    ),
]

CATEGORIES = {
    "clothing": ("Clothing", None),
    "shirts": ("Shirts", "clothing"),
    "trousers": ("Trousers", "clothing"),
    "outerwear": ("Outerwear", "clothing"),
    "footwear": ("Footwear", None),
    "sneakers": ("Sneakers", "footwear"),
    "boots": ("Boots", "footwear"),
    "accessories": ("Accessories", None),
    "bags": ("Bags", "accessories"),
    "socks": ("Socks", "accessories"),
}

ITEMS = {
    "shirts": (["Oxford shirt", "Linen shirt", "Flannel shirt", "Polo"], 1990),
    "trousers": (["Chinos", "Jeans", "Cargo trousers"], 3490),
    "outerwear": (["Parka", "Bomber jacket", "Trench coat"], 8990),
    "sneakers": (["Running sneakers", "Canvas sneakers"], 5490),
    "boots": (["Chelsea boots", "Hiking boots"], 7990),
    "bags": (["Backpack", "Tote bag"], 2490),
    "socks": (["Socks, 3 pairs"], 590),
}
COLOURS = ["black", "white", "navy", "olive", "grey"]
SIZES = ["S", "M", "L", "XL"]


def _ean13(n: int) -> str:
    first12 = f"2000{n:08d}"
    return first12 + str(ean13_check_digit(first12))


def seed_catalogue() -> list[Product]:
    for code, (name, parent) in CATEGORIES.items():
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "parent": Category.objects.get(code=parent) if parent else None}
        )
    products, n = [], 0
    for category, (names, base_price) in ITEMS.items():
        for name in names:
            for colour in COLOURS:
                for size in SIZES:
                    n += 1
                    sku = f"{category[:3].upper()}-{n:04d}-{size}"
                    product, _ = product_upsert(
                        data=ProductData(
                            sku=sku,
                            name=f"{name}, {colour}, {size}",
                            price=Decimal(base_price + 100 * (n % 5)),
                            category_code=category,
                            description=f"{name} in {colour}, size {size}.",
                            barcodes=(_ean13(n),),
                        )
                    )
                    products.append(product)
    return products


def seed_locations() -> list[Location]:
    locations = []
    for code, name, kind, city, address, hours, pickup, returns, ships in LOCATIONS:
        location, _ = Location.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "city": city,
                "address": address,
                "opening_hours": hours,
                "is_pickup_point": pickup,
                "accepts_returns": returns,
                "ships_orders": ships,
            },
        )
        locations.append(location)
    return locations


def seed_stock(products: list[Product], locations: list[Location]) -> None:
    """One opening receipt per location; its fixed number makes a re-run change nothing."""
    rng = random.Random(2026)
    for location in locations:
        warehouse = location.kind == LocationKind.WAREHOUSE
        lines = [
            ProductQuantity(product.pk, rng.randint(20, 200) if warehouse else rng.randint(1, 12))
            for product in products
            if warehouse or rng.random() < 0.7
        ]
        stock_receive(location=location, lines=lines, number=f"DEMO-OPENING-{location.code}", note="Opening stock")


def seed() -> dict:
    products = seed_catalogue()
    locations = seed_locations()
    seed_stock(products, locations)
    return {"products": len(products), "locations": len(locations)}
