"""Reads of stock and locations that several callers need."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

from inventory.models import (
    AttributeValue,
    Barcode,
    Category,
    Location,
    Product,
    ProductModel,
    Stock,
    StockDocument,
    StockDocumentLine,
    StockMovement,
    TransferLine,
    TransferStatus,
)
from omni.core.db import equals_any, instances_where
from omni.core.validators import is_identifier_text


def locations_for_user(user) -> QuerySet[Location]:
    """The locations a staff member works with: all of them for head office, else their own."""
    if user.is_superuser or user.has_perm("inventory.access_all_locations"):
        return Location.objects.all()
    return Location.objects.filter(employees__user=user)


# Low stock: the available quantity (on hand − reserved) is below the item's minimum. The one
# place for the rule: the stock list, its filter and the dashboard's stock section all use it.
# A subtraction, not ``on_hand < reserved + min_quantity``, which could pass the integer's range.
LOW_STOCK = Q(LessThan(F("on_hand") - F("reserved"), F("min_quantity")))


def availability(
    *, skus: Sequence[str], location_codes: Sequence[str] = (), city: str = ""
) -> dict[str, dict[str, int]]:
    """Available units of each SKU at each active location, in one query: {sku: {code: units}}.

    Locations that never held a SKU are left out rather than listed at zero.
    """
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, code, units in availability_rows(skus=skus, location_codes=location_codes, city=city):
        result[sku][code] = units
    return {sku: dict(sorted(result.get(sku, {}).items())) for sku in skus}


def availability_rows(
    *, skus: Sequence[str], location_codes: Sequence[str] = (), city: str = ""
) -> list[tuple[str, str, int]]:
    """The figures of ``availability`` as (SKU, location code, available units) rows, unordered,
    as the driver returns them (``availability_sql``)."""
    sql, params = availability_sql(skus=skus, location_codes=location_codes, city=city)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def availability_sql(*, skus: Sequence[str], location_codes: Sequence[str] = (), city: str = "") -> tuple[str, list]:
    """The query of ``availability_rows`` and its parameters (at least one SKU), written by hand:
    through the ORM, building it cost 0.3 ms for 50 SKUs, and reading its 10,000 rows through the
    ORM's iterables 2 µs a row, about a third of the query's own time."""
    skus_asked, params = equals_any('p."sku"', skus)
    locations_asked, location_params = _locations_asked(location_codes, city)
    return (
        f'SELECT p."sku", l."code", s."on_hand" - s."reserved" FROM "{Stock._meta.db_table}" AS s '
        f'JOIN "{Product._meta.db_table}" AS p ON p."id" = s."product_id" '
        f'JOIN "{Location._meta.db_table}" AS l ON l."id" = s."location_id" '
        f"WHERE {skus_asked} AND {locations_asked}"
    ), params + location_params


def _locations_asked(location_codes: Sequence[str], city: str) -> tuple[str, list]:
    """The condition on the locations ``l`` of an availability query, and its parameters: active,
    and among the codes or in the city asked."""
    conditions, params = ['l."is_active"'], []
    if location_codes:
        condition, values = equals_any('l."code"', location_codes)
        conditions.append(condition)
        params += values
    if city:
        conditions.append('UPPER(l."city") = UPPER(%s)')  # case-insensitive as the city filters elsewhere
        params.append(city)
    return " AND ".join(conditions), params


# What no location's JSON text holds (JSON escapes every control character), so it can join them.
LOCATIONS_SEPARATOR = "\x01"

# Each database's way to write a code as a JSON string, and to join a group's texts.
_JSON_STRING = {"postgresql": "to_json({})::text", "sqlite": "json_quote({})"}
_JOINED = {"postgresql": "string_agg({}, %s)", "sqlite": "group_concat({}, %s)"}


def availability_json_parts(
    *, skus: Sequence[str], location_codes: Sequence[str] = (), city: str = ""
) -> dict[str, tuple[int, str]]:
    """The figures of ``availability`` as the database writes them in JSON: for each SKU with stock
    rows at the locations asked, its total available units and its locations'
    ``{"location":<code>,"available":<units>`` (each without its closing brace), joined by
    ``LOCATIONS_SEPARATOR`` in no particular order.

    One string per SKU instead of three values per figure: for 10,000 figures, the database
    writing the text costs less than the driver reading the figures alone (bench/RESULTS.md,
    "Issue 15, fourth pass"). Each code is made JSON once per location, in the
    materialized ``l``, not once per figure.
    """
    skus_asked, sku_params = equals_any('p."sku"', skus)
    locations_asked, location_params = _locations_asked(location_codes, city)
    code_json = _JSON_STRING[connection.vendor].format('l."code"')
    units = 's."on_hand" - s."reserved"'
    located = _JOINED[connection.vendor].format(f"""'{{"location":' || l."code_json" || ',"available":' || ({units})""")
    sql = (
        f'WITH l AS MATERIALIZED (SELECT l."id", {code_json} AS "code_json" '
        f'FROM "{Location._meta.db_table}" AS l WHERE {locations_asked}) '
        f'SELECT p."sku", SUM({units}), {located} FROM "{Stock._meta.db_table}" AS s '
        f'JOIN "{Product._meta.db_table}" AS p ON p."id" = s."product_id" '
        f'JOIN l ON l."id" = s."location_id" '
        f'WHERE {skus_asked} GROUP BY p."sku"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*location_params, LOCATIONS_SEPARATOR, *sku_params])
        return {sku: (total, located) for sku, total, located in cursor}


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


# --- Catalogue and documents as the API presents them -----------------------------------


def products_for_display() -> QuerySet[Product]:
    """Products with their category and barcodes, fetched for a whole page at once."""
    return Product.objects.select_related("category", "model").prefetch_related(
        Prefetch("barcodes", queryset=Barcode.objects.order_by("code")),
        Prefetch("attribute_values", queryset=AttributeValue.objects.select_related("attribute")),
        "images",
    )


def product_models_for_display() -> QuerySet[ProductModel]:
    """Product models with their images and variants as ``products_for_display`` shows them."""
    return ProductModel.objects.select_related("category").prefetch_related(
        "images", Prefetch("variants", queryset=products_for_display())
    )


def category_subtree_ids(category: Category) -> list[int]:
    """The category and every category below it, however deep the tree, in one query."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, stack = {category.pk}, [category.pk]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:  # a cycle in bad data must not loop forever
                found.add(child)
                stack.append(child)
    return sorted(found)


def products_in_stock_at(products: QuerySet[Product], location: Location) -> QuerySet[Product]:
    """The products with at least one available (on hand, not reserved) unit at the location."""
    in_stock = Stock.objects.filter(product=OuterRef("pk"), location=location, on_hand__gt=F("reserved"))
    return products.filter(Exists(in_stock))


def product_ids_by_sku(skus: Iterable[str]) -> dict[str, int]:
    return dict(Product.objects.filter(sku__in=set(skus)).values_list("sku", "pk"))


def location_by_code(code: str) -> Location | None:
    """The location with this code, or None (read on the order's path: ``instances_where``)."""
    found = instances_where(Location, 't."code" = %s', [code])
    return found[0] if found else None


def active_products_by_sku(skus: Sequence[str]) -> dict[str, Product]:
    """The active products among these SKUs (at least one), by SKU (read on the order's path:
    ``instances_where``)."""
    condition, params = equals_any('t."sku"', skus)
    return {product.sku: product for product in instances_where(Product, f'{condition} AND t."is_active"', params)}


def unknown_location_codes(codes: Iterable[str]) -> list[str]:
    codes = set(codes)
    known = set(Location.objects.filter(code__in=codes).values_list("code", flat=True))
    return sorted(codes - known)


def stock_documents_for_display() -> QuerySet[StockDocument]:
    """Stock documents with their location and lines (and each line's product) in three queries."""
    return StockDocument.objects.select_related("location").prefetch_related(
        Prefetch("lines", queryset=StockDocumentLine.objects.select_related("product").order_by("id"))
    )


# --- Location scoping, stock lists and product look-ups (admin, imports) -------------------


def user_sees_all_locations(user) -> bool:
    """Head office, administrators and superusers work with every location."""
    return user.is_superuser or user.has_perm("inventory.access_all_locations")


@dataclass(frozen=True)
class VisibleLocations:
    """The locations a user may see: every one (``ids`` is None) or those they work at.

    Every report, export and KPI view takes its stores from here (``visible_locations``): the
    choice of stores it offers, whether a store asked for is one of them, and which rows it reads.
    """

    ids: frozenset[int] | None

    @property
    def every(self) -> bool:
        return self.ids is None

    def includes(self, location_id: int) -> bool:
        """Whether a location asked for (a store filter, a stored export) is one the user may see."""
        return self.ids is None or location_id in self.ids

    def locations(self) -> QuerySet[Location]:
        return Location.objects.all() if self.ids is None else Location.objects.filter(pk__in=self.ids)


def visible_locations(user) -> VisibleLocations:
    """Every location for head office, administrators and superusers, else the user's own."""
    if user_sees_all_locations(user):
        return VisibleLocations(None)
    return VisibleLocations(frozenset(locations_for_user(user).values_list("pk", flat=True)))


def filter_for_user_locations(queryset: QuerySet, user, lookups: Sequence[str]) -> QuerySet:
    """The rows of ``queryset`` that concern the locations the user works with.

    ``lookups`` are the paths from the model to a location (``"location"``, or ``"source"`` and
    ``"destination"``): a row is kept when any of them is one of the user's locations.
    """
    if not lookups:
        raise ValueError("Name at least one path to a location.")
    if user_sees_all_locations(user):
        return queryset
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": locations_for_user(user)})
    return queryset.filter(condition)


def stock_levels(queryset: QuerySet[Stock] | None = None) -> QuerySet[Stock]:
    """Stock rows with their product and location, annotated with ``available_qty`` and
    ``is_low`` (available below the minimum quantity)."""
    queryset = Stock.objects.all() if queryset is None else queryset
    return queryset.select_related("product", "location").annotate(
        available_qty=F("on_hand") - F("reserved"),
        is_low=ExpressionWrapper(LOW_STOCK, output_field=BooleanField()),
    )


def with_units_in_transit(queryset: QuerySet[Stock]) -> QuerySet[Stock]:
    """Stock rows annotated with ``in_transit_qty``: units shipped to their location, not yet received."""
    shipped = (
        TransferLine.objects.filter(
            transfer__status=TransferStatus.IN_TRANSIT,
            transfer__destination=OuterRef("location"),
            product=OuterRef("product"),
        )
        .order_by()
        .values("product")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return queryset.annotate(in_transit_qty=Coalesce(Subquery(shipped), 0, output_field=IntegerField()))


def products_by_code(codes: Iterable[str]) -> dict[str, Product]:
    """The products that codes name, by SKU or else by barcode, in at most two queries.

    Returns ``{code as given: product}``; codes that name no product are left out, and a code with
    an invisible character (which no product has) is not even looked up.
    """
    wanted = {code for code in codes if code and is_identifier_text(code)}
    found = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
    rest = wanted - set(found)
    if rest:
        for barcode in Barcode.objects.filter(code__in=rest).select_related("product"):
            found[barcode.code] = barcode.product
    return found


# --- A count before it is posted --------------------------------------------------------------


@dataclass(frozen=True)
class CountPreviewLine:
    """One counted product beside what the system holds of it now."""

    product: Product
    on_hand: int
    reserved: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_hand

    @property
    def below_reserved(self) -> bool:
        return self.counted < self.reserved


def count_preview(location: Location, counted: dict[int, int]) -> list[CountPreviewLine]:
    """Each counted product (product id → units counted) with its on hand and reserved units at
    the location now; a product the location never held stands at zero. In SKU order."""
    figures = {
        product_id: (on_hand, reserved)
        for product_id, on_hand, reserved in Stock.objects.filter(
            location=location, product_id__in=counted
        ).values_list("product_id", "on_hand", "reserved")
    }
    products = Product.objects.filter(pk__in=counted).order_by("sku")
    return [
        CountPreviewLine(product, *figures.get(product.pk, (0, 0)), counted=counted[product.pk]) for product in products
    ]


def uncounted_items(location: Location, counted: Iterable[int]) -> int:
    """How many products held at the location (on hand) a count of ``counted`` leaves as they are."""
    return Stock.objects.filter(location=location, on_hand__gt=0).exclude(product_id__in=set(counted)).count()


def available_at(location_id: int, product_ids: Iterable[int]) -> dict[int, int]:
    """Units on hand and not reserved of each product at a location; products it never held are left out."""
    rows = Stock.objects.filter(location_id=location_id, product_id__in=set(product_ids))
    return {pid: on_hand - reserved for pid, on_hand, reserved in rows.values_list("product_id", "on_hand", "reserved")}
