"""Reads of stock and locations that several callers need."""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F, IntegerField, QuerySet, Sum
from django.db.models.functions import Coalesce

from inventory.models import Location, Product, Stock, StockMovement


def locations_for_user(user) -> QuerySet[Location]:
    """The locations a staff member works with: all of them for head office, else their own."""
    if user.is_superuser or user.has_perm("inventory.access_all_locations"):
        return Location.objects.all()
    return Location.objects.filter(employees__user=user)


def stock_with_available() -> QuerySet[Stock]:
    return Stock.objects.annotate(available_qty=F("on_hand") - F("reserved"))


def low_stock() -> QuerySet[Stock]:
    return stock_with_available().filter(available_qty__lt=F("min_quantity"))


def availability(
    *, skus: Sequence[str], location_codes: Sequence[str] = (), city: str = ""
) -> dict[str, dict[str, int]]:
    """Available units of each SKU at each active location, in one query: {sku: {code: units}}.

    Locations that never held a SKU are left out rather than listed at zero.
    """
    rows = Stock.objects.filter(product__sku__in=skus, location__is_active=True)
    if location_codes:
        rows = rows.filter(location__code__in=location_codes)
    if city:
        rows = rows.filter(location__city__iexact=city)
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, code, on_hand, reserved in rows.values_list("product__sku", "location__code", "on_hand", "reserved"):
        result[sku][code] = on_hand - reserved
    return {sku: dict(sorted(result.get(sku, {}).items())) for sku in skus}


def unknown_skus(skus: Sequence[str]) -> list[str]:
    known = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
    return sorted(set(skus) - known)


def stock_discrepancies() -> list[dict]:
    """Every (product, location) whose stored figures differ from the sum of its ledger."""
    ledger = {
        (row["product_id"], row["location_id"]): (row["on_hand"], row["reserved"])
        for row in StockMovement.objects.values("product_id", "location_id").annotate(
            on_hand=Coalesce(Sum("on_hand_delta"), 0, output_field=IntegerField()),
            reserved=Coalesce(Sum("reserved_delta"), 0, output_field=IntegerField()),
        )
    }
    stored = {
        (row["product_id"], row["location_id"]): (row["on_hand"], row["reserved"])
        for row in Stock.objects.values("product_id", "location_id", "on_hand", "reserved")
    }
    keys = sorted(k for k in set(ledger) | set(stored) if ledger.get(k, (0, 0)) != stored.get(k, (0, 0)))
    if not keys:
        return []
    skus = dict(Product.objects.filter(pk__in={k[0] for k in keys}).values_list("pk", "sku"))
    codes = dict(Location.objects.filter(pk__in={k[1] for k in keys}).values_list("pk", "code"))
    return [
        {
            "sku": skus[key[0]],
            "location": codes[key[1]],
            "stored_on_hand": stored.get(key, (0, 0))[0],
            "stored_reserved": stored.get(key, (0, 0))[1],
            "ledger_on_hand": ledger.get(key, (0, 0))[0],
            "ledger_reserved": ledger.get(key, (0, 0))[1],
        }
        for key in keys
    ]
