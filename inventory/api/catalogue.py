"""The catalogue API an online shop syncs: product models with their variants, attributes and images.

Variants are products: availability and orders keep addressing them by SKU.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from inventory import selectors, services
from inventory.api.catalogue_serializers import (
    AttributeSerializer,
    AttributeUpsertSerializer,
    ProductModelSerializer,
    ProductModelUpsertSerializer,
)
from inventory.models import Attribute
from omni.core.actors import Actor
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import error_responses
from omni.core.scopes import Scope

CATALOG = "catalog"

MODEL_EXAMPLE = {
    "code": "TEE-BASIC",
    "name": "Basic T-shirt",
    "category": "t-shirts",
    "images": [{"url": "https://cdn.example.com/tee-front.jpg", "alt": "Front"}],
    "variants": [
        {
            "sku": "TEE-BASIC-M-RED",
            "name": "Basic T-shirt M red",
            "price": "990.00",
            "barcodes": ["4600000000015"],
            "attributes": {"size": "M", "colour": "#FF0000"},
        }
    ],
}


def _variant_data(variant: dict, model: dict) -> services.VariantData:
    barcodes = variant.get("barcodes")
    images = variant.get("images")
    return services.VariantData(
        product=services.ProductData(
            sku=variant["sku"],
            name=variant["name"] or model["name"],
            price=variant["price"],
            description=variant["description"],
            category_code=model["category"] or None,
            unit=variant["unit"],
            is_active=variant["is_active"],
            barcodes=None if barcodes is None else tuple(barcodes),
        ),
        attributes=variant.get("attributes"),
        images=None if images is None else tuple(services.ImageData(i["url"], i["alt"]) for i in images),
    )


def product_model_data(data: dict) -> services.ProductModelData:
    """The service's input from the validated ``ProductModelUpsertSerializer`` data."""
    images = data.get("images")
    return services.ProductModelData(
        code=data["code"],
        name=data["name"],
        description=data["description"],
        category_code=data["category"] or None,
        is_active=data["is_active"],
        images=None if images is None else tuple(services.ImageData(i["url"], i["alt"]) for i in images),
        variants=tuple(_variant_data(variant, data) for variant in data["variants"]),
    )


class ProductModelListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.CATALOG_WRITE}
    staff_permissions = {"POST": "inventory.change_product"}
    parser_classes = [JSONParser]
    serializer_class = ProductModelSerializer

    def get_queryset(self):
        return selectors.product_models_for_display()

    @extend_schema(
        operation_id="product_models_list",
        summary="List product models with their variants",
        description=(
            "Product models (styles) ordered by code, each with its images and its variants: products with "
            "their own SKU, barcodes, price and attribute values. Needs the scope `catalog:read`."
        ),
        responses={200: ProductModelSerializer(many=True), **error_responses()},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="product_models_upsert",
        summary="Create or update a product model and its variants",
        description=(
            "Creates the model with this code or updates it, and creates or updates each variant given "
            "(201 when the model was created, 200 when updated), all or nothing. Variants not given are left as "
            "they are; a SKU given here moves to this model. A variant takes the model's category. Attribute "
            "values are checked against the attribute's type (`/api/v1/attributes/`). Needs the scope "
            "`catalog:write`; staff need the permission to change products."
        ),
        request=ProductModelUpsertSerializer,
        examples=[OpenApiExample("A T-shirt in one size", value=MODEL_EXAMPLE, request_only=True)],
        responses={
            200: OpenApiResponse(ProductModelSerializer, description="The model existed and was updated."),
            201: OpenApiResponse(ProductModelSerializer, description="The model was created."),
            **error_responses(
                400,
                409,
                e400="Invalid input (`invalid`), an unknown category (`unknown_category`) or attribute "
                "(`unknown_attribute`), a value that does not fit its attribute (`invalid_attribute_value`) or a "
                "bad barcode (`invalid_barcode`): nothing was changed.",
                e409="A barcode already belongs to another product (`barcode_taken`): nothing was changed.",
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, *args, **kwargs):
        serializer = ProductModelUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model, created = services.product_model_upsert(
            data=product_model_data(serializer.validated_data), actor=Actor.from_request(request)
        )
        model = selectors.product_models_for_display().get(pk=model.pk)
        return Response(
            ProductModelSerializer(model).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ProductModelDetailView(generics.RetrieveAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ}
    serializer_class = ProductModelSerializer
    lookup_field = "code"
    lookup_url_kwarg = "model_code"

    def get_queryset(self):
        return selectors.product_models_for_display()

    @extend_schema(
        operation_id="product_models_retrieve",
        summary="Get a product model by code",
        description="One product model with its images and variants. Needs the scope `catalog:read`.",
        parameters=[
            OpenApiParameter(
                "model_code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The product model's code."
            )
        ],
        responses={200: ProductModelSerializer, **error_responses(404, e404="No model has this code (`not_found`).")},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AttributeListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.CATALOG_WRITE}
    staff_permissions = {"POST": "inventory.change_product"}
    parser_classes = [JSONParser]
    serializer_class = AttributeSerializer
    queryset = Attribute.objects.all()

    @extend_schema(
        operation_id="attributes_list",
        summary="List variant attributes",
        description=(
            "The typed attributes variants may carry (`text`, `number`, `choice` with its choices, `colour`: a "
            "name or `#RRGGBB`), ordered by code. Needs the scope `catalog:read`."
        ),
        responses={200: AttributeSerializer(many=True), **error_responses()},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="attributes_upsert",
        summary="Create or update an attribute",
        description=(
            "Creates the attribute with this code or updates its name, type and choices (201 when created, "
            "200 when updated). Needs the scope `catalog:write`."
        ),
        request=AttributeUpsertSerializer,
        examples=[
            OpenApiExample("Size", value={"code": "size", "name": "Size", "type": "choice", "choices": ["S", "M", "L"]})
        ],
        responses={
            200: OpenApiResponse(AttributeSerializer, description="The attribute existed and was updated."),
            201: OpenApiResponse(AttributeSerializer, description="The attribute was created."),
            **error_responses(400, e400="Invalid input (`invalid`): nothing was changed."),
        },
        tags=[CATALOG],
    )
    def post(self, request, *args, **kwargs):
        serializer = AttributeUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attribute, created = services.attribute_upsert(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(
            AttributeSerializer(attribute).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
