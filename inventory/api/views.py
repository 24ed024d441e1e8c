"""The inventory API: catalogue, locations, availability, stock receipts and counts.

Views parse input, call one service or selector and present the result; the rules are in
``inventory.services``, and the errors they raise are rendered by ``omni.core.api.exceptions``.
"""

from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.api.availability import availability_json
from inventory.api.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    LocationSerializer,
    ProductSerializer,
    ProductUpsertSerializer,
    StockChangeSerializer,
    StockCountInputSerializer,
    StockDocumentSerializer,
    StockReceiptInputSerializer,
)
from inventory.errors import UnknownLocation, UnknownProducts
from inventory.filters import LocationFilter, ProductFilter
from inventory.models import Location, Stock, StockDocument
from omni.core.actors import Actor
from omni.core.api.pagination import SyncPagination
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import error_responses
from omni.core.api.serializers import validated
from omni.core.scopes import Scope

CATALOG = "catalog"
STOCK = "stock"


def _unique(values) -> list[str]:
    """The values without repeats, in the order first given."""
    return list(dict.fromkeys(values))


def raise_unknown_skus(skus: list[str]) -> None:
    raise UnknownProducts(gettext("Unknown SKUs: %(skus)s.") % {"skus": ", ".join(skus)}, details={"skus": skus})


def raise_unknown_locations(codes: list[str]) -> None:
    raise UnknownLocation(
        gettext("Unknown location codes: %(codes)s.") % {"codes": ", ".join(codes)}, details={"locations": codes}
    )


# --- Products ---------------------------------------------------------------------------


class ProductListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.CATALOG_WRITE}
    staff_permissions = {"POST": "inventory.change_product"}
    parser_classes = [JSONParser]
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    pagination_class = SyncPagination

    def get_queryset(self):
        return selectors.products_for_display()

    @extend_schema(
        operation_id="products_list",
        summary="List products",
        description=(
            "The catalogue, page by page, ordered by SKU, with prices in the configured currency. "
            "`category` includes every category below the one named. With `updated_since` or `cursor`: the "
            "products changed since, oldest change first, deactivated ones (`is_active: false`) included, and a "
            "`cursor` to resume from (README, Incremental sync). Needs the scope `catalog:read`."
        ),
        responses={
            200: ProductSerializer(many=True),
            **error_responses(
                400,
                e400="A malformed filter (`invalid`), an unknown category (`unknown_category`) or location "
                "(`unknown_location`).",
            ),
        },
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="products_upsert",
        summary="Create or update a product",
        description=(
            "Creates the product with this SKU, or replaces the fields of the existing one (201 when "
            "created, 200 when updated). Every field but `barcodes` takes its default when omitted; "
            "omitted `barcodes` are left as they are. Computed fields (`currency`, `updated_at`) are "
            "not accepted. Needs the scope `catalog:write`; staff need the permission to change products."
        ),
        request=ProductUpsertSerializer,
        responses={
            200: OpenApiResponse(ProductSerializer, description="The product existed and was updated."),
            201: OpenApiResponse(ProductSerializer, description="The product was created."),
            **error_responses(
                400,
                409,
                e400="Invalid input (`invalid`; a SKU, category code or barcode with a control or invisible "
                "character is invalid), an unknown category (`unknown_category`) or a barcode that is not a valid "
                "EAN-13 (`invalid_barcode`): nothing was changed.",
                e409="A barcode already belongs to another product (`barcode_taken`): nothing was changed.",
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, *args, **kwargs):
        serializer = ProductUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        barcodes = data.get("barcodes")
        product, created = services.product_upsert(
            data=services.ProductData(
                sku=data["sku"],
                name=data["name"],
                price=data["price"],
                description=data["description"],
                category_code=data["category"] or None,
                unit=data["unit"],
                is_active=data["is_active"],
                barcodes=None if barcodes is None else tuple(barcodes),
            ),
            actor=Actor.from_request(request),
        )
        product = selectors.products_for_display().get(pk=product.pk)
        return Response(
            ProductSerializer(product).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ProductDetailView(generics.RetrieveAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ}
    serializer_class = ProductSerializer
    lookup_field = "sku"

    def get_queryset(self):
        return selectors.products_for_display()

    @extend_schema(
        operation_id="products_retrieve",
        summary="Get a product by SKU",
        description="One product, active or not. Needs the scope `catalog:read`.",
        parameters=[OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH, description="The SKU.")],
        responses={200: ProductSerializer, **error_responses(404, e404="No product has this SKU (`not_found`).")},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Locations --------------------------------------------------------------------------


class LocationListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ}
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    queryset = Location.objects.all()

    @extend_schema(
        operation_id="locations_list",
        summary="List stores and warehouses",
        description=(
            "Locations ordered by code; only active ones unless `active=false` is given, which lists "
            "the inactive ones. Needs the scope `catalog:read`."
        ),
        responses={200: LocationSerializer(many=True), **error_responses(400, e400="A malformed filter (`invalid`).")},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Availability -----------------------------------------------------------------------


class AvailabilityView(APIView):
    required_scopes = {"GET": Scope.CATALOG_READ}

    @extend_schema(
        operation_id="availability",
        summary="Available units per SKU and location",
        description=(
            "For each SKU asked (repeat `sku`, at most 200), the units available (on hand minus "
            "reserved) at each active location that holds or held it, and their total. Results come in "
            "the order the SKUs were asked. Narrow the locations with `location` (repeatable) or `city`. "
            "Needs the scope `catalog:read`."
        ),
        parameters=[
            OpenApiParameter(
                "sku", OpenApiTypes.STR, many=True, required=True, explode=True, description="A SKU; repeat it."
            ),
            OpenApiParameter(
                "location", OpenApiTypes.STR, many=True, explode=True, description="A location code; repeatable."
            ),
            OpenApiParameter("city", OpenApiTypes.STR, description="Only locations in this city (case-insensitive)."),
        ],
        responses={
            200: AvailabilitySerializer,
            **error_responses(
                400,
                e400="No or too many SKUs (`invalid`), unknown SKUs (`unknown_sku`, `details.skus` names them) "
                "or unknown location codes (`unknown_location`, `details.locations`).",
            ),
        },
        tags=[CATALOG],
    )
    def get(self, request):
        query = validated(AvailabilityQuerySerializer, request.query_params)
        skus = _unique(query["sku"])
        codes = _unique(query["location"])
        parts = selectors.availability_json_parts(skus=skus, location_codes=codes, city=query["city"])
        unstocked = [sku for sku in skus if sku not in parts]  # a SKU with stock rows is known
        if unstocked and (unknown := selectors.unknown_skus(unstocked)):
            raise_unknown_skus(unknown)
        if codes:
            unknown = selectors.unknown_location_codes(codes)
            if unknown:
                raise_unknown_locations(unknown)
        return HttpResponse(availability_json(skus, parts), content_type="application/json")


class AvailabilityChangesView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ}
    serializer_class = StockChangeSerializer
    pagination_class = SyncPagination
    queryset = Stock.objects.select_related("product", "location").order_by("updated_at", "id")

    @extend_schema(
        operation_id="availability_changes_list",
        summary="Stock rows by when they changed",
        description=(
            "One row per SKU and location: on hand, reserved and available, oldest change first. Every "
            "reservation, sale, release, receipt, count, write-off and transfer changes its row. With "
            "`updated_since` or `cursor`: the rows changed since, and a `cursor` to resume from (README, "
            "Incremental sync). Needs the scope `catalog:read`."
        ),
        responses={200: StockChangeSerializer(many=True), **error_responses(400, e400="A malformed cursor or time.")},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Stock documents --------------------------------------------------------------------


class StockDocumentView(APIView):
    """A receipt or a count posted by the ERP or the POS: recorded once per document number."""

    required_scopes = {"POST": Scope.STOCK_WRITE}
    parser_classes = [JSONParser]
    input_serializer_class: type = StockReceiptInputSerializer

    def record(self, **kwargs) -> tuple[StockDocument, bool]:
        raise NotImplementedError

    def create_document(self, request) -> Response:
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        location = Location.objects.filter(code=data["location"]).first()
        if location is None:
            raise_unknown_locations([data["location"]])
        self.check_location_access(request, location)
        skus = _unique(line["sku"] for line in data["lines"])
        product_ids = selectors.product_ids_by_sku(skus)
        unknown = [sku for sku in skus if sku not in product_ids]
        if unknown:
            raise_unknown_skus(sorted(unknown))

        document, created = self.record(
            location=location,
            lines=[services.ProductQuantity(product_ids[line["sku"]], line["quantity"]) for line in data["lines"]],
            number=data["number"],
            note=data["note"],
            actor=Actor.from_request(request),
        )
        document = selectors.stock_documents_for_display().get(pk=document.pk)
        return Response(
            StockDocumentSerializer(document).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @staticmethod
    def check_location_access(request, location: Location) -> None:
        """A staff member records documents only at the locations they work at (API keys are not bound)."""
        user = request.user
        is_staff_session = request.auth is None and user.is_authenticated
        if is_staff_session and not selectors.locations_for_user(user).filter(pk=location.pk).exists():
            raise PermissionDenied(gettext("You do not work at location %(code)s.") % {"code": location.code})


_DOCUMENT_RESPONSES = {
    200: OpenApiResponse(
        StockDocumentSerializer, description="A document with this number and the same contents already existed."
    ),
    201: OpenApiResponse(StockDocumentSerializer, description="The document was recorded."),
}


class StockReceiptView(StockDocumentView):
    staff_permissions = {"POST": "inventory.receive_stock"}
    input_serializer_class = StockReceiptInputSerializer

    def record(self, **kwargs):
        return services.stock_receive(**kwargs)

    @extend_schema(
        operation_id="stock_receipts_create",
        summary="Record a stock receipt",
        description=(
            "Goods arrived at a location: each line's quantity (a whole number above zero) is added to "
            "what is on hand, and the stock ledger records it. Sending the same number with the same "
            "contents again answers 200 with the first document and changes nothing. Needs the scope "
            "`stock:write`; staff need the permission to receive stock and to work at the location."
        ),
        request=StockReceiptInputSerializer,
        responses={
            **_DOCUMENT_RESPONSES,
            **error_responses(
                400,
                409,
                e400="Invalid input (`invalid`, `details.fields` names the field), unknown SKUs (`unknown_sku`, "
                "`details.skus` names them all) or an unknown location (`unknown_location`): nothing was changed.",
                e409="The number was already used for other contents (`document_number_conflict`).",
            ),
        },
        tags=[STOCK],
    )
    def post(self, request):
        return self.create_document(request)


class StockCountView(StockDocumentView):
    staff_permissions = {"POST": "inventory.count_stock"}
    input_serializer_class = StockCountInputSerializer

    def record(self, **kwargs):
        return services.stock_count(**kwargs)

    @extend_schema(
        operation_id="stock_counts_create",
        summary="Record an inventory count",
        description=(
            "What was counted at a location (a whole number, zero or more) becomes what is on hand; "
            "each line records the difference. A count below the units reserved for orders is refused. "
            "Sending the same number with the same contents again answers 200 with the first document and "
            "changes nothing. Needs the scope `stock:write`; staff need the permission to count stock and "
            "to work at the location."
        ),
        request=StockCountInputSerializer,
        responses={
            **_DOCUMENT_RESPONSES,
            **error_responses(
                400,
                409,
                e400="Invalid input (`invalid`, `details.fields` names the field), unknown SKUs (`unknown_sku`) "
                "or an unknown location (`unknown_location`): nothing was changed.",
                e409="The number was already used for other contents (`document_number_conflict`), or a count is "
                "below what is reserved (`count_below_reserved`): nothing was changed.",
            ),
        },
        tags=[STOCK],
    )
    def post(self, request):
        return self.create_document(request)
