"""The category tree over the API: list it, create a category, rename or move one. The rules are
in ``inventory.categories``; reading needs ``catalog:read``, writing ``catalog:write``."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import categories
from inventory.api.views import CATALOG
from inventory.models import Category
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer
from omni.core.scopes import Scope

CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The category's code.")
_E400 = (
    "Invalid input (`invalid`: a blank name, a move under itself or its subcategories) or an unknown parent "
    "(`unknown_category`): nothing was changed."
)


class CategorySerializer(ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text=_("The parent's code; null at the top.")
    )
    children = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text=_("Codes of the categories right below.")
    )

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "children", "is_active", "updated_at"]
        read_only_fields = fields


class CategoryUpdateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    parent = serializers.SlugField(
        max_length=64, required=False, allow_null=True, help_text=_("The new parent's code; null moves it to the top.")
    )


class CategoryInputSerializer(StrictInputSerializer):
    code = serializers.SlugField(max_length=64, help_text=_("The category's key; it never changes."))
    name = serializers.CharField(max_length=200)
    parent = serializers.SlugField(
        max_length=64, required=False, allow_null=True, default=None, help_text=_("The parent's code; null: top.")
    )


def categories_for_display():
    return Category.objects.select_related("parent").prefetch_related("children").order_by("code")


def _detail(category: Category, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CategorySerializer(categories_for_display().get(pk=category.pk)).data, status=status_code)


class CategoryListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.CATALOG_WRITE}
    staff_permissions = {"POST": "inventory.add_category"}
    parser_classes = [JSONParser]
    serializer_class = CategorySerializer

    def get_queryset(self):
        return categories_for_display()

    @extend_schema(
        operation_id="categories_list",
        summary="List the category tree",
        description=(
            "Every category by code, with its parent and children, to rebuild the tree. Needs the scope `catalog:read`."
        ),
        responses={200: CategorySerializer(many=True), **error_responses(400)},
        tags=[CATALOG],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="categories_create",
        summary="Create a category",
        description=(
            "A category at the top or under a parent. With an `Idempotency-Key`, a retry returns the first "
            "category. Needs the scope `catalog:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=CategoryInputSerializer,
        examples=[
            OpenApiExample(
                "Under Kitchen", value={"code": "mugs", "name": "Mugs", "parent": "kitchen"}, request_only=True
            )
        ],
        responses={
            201: OpenApiResponse(CategorySerializer, description="The category."),
            **error_responses(
                400, 409, 422, e400=_E400, e409="Another category has this code (`category_code_taken`)."
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, *args, **kwargs):
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create():
            category = categories.category_create(
                code=data["code"], name=data["name"], parent_code=data["parent"], actor=Actor.from_request(request)
            )
            return _detail(category, status_code=status.HTTP_201_CREATED)

        return idempotent(request, create)


class CategoryDetailView(APIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "PATCH": Scope.CATALOG_WRITE}
    staff_permissions = {"PATCH": "inventory.change_category"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="categories_retrieve",
        summary="Get a category",
        description="Needs the scope `catalog:read`.",
        parameters=[CODE_PARAMETER],
        responses={200: CategorySerializer, **error_responses(404, e404="No category has this code (`not_found`).")},
        tags=[CATALOG],
    )
    def get(self, request, code: str):
        return _detail(get_object_or_404(Category, code=code))

    @extend_schema(
        operation_id="categories_update",
        summary="Rename or move a category",
        description=(
            "Changes the name, or moves the category with its subtree under another parent (`parent`), never "
            "under itself or its own subcategories; its products move with it. Needs the scope `catalog:write`."
        ),
        parameters=[CODE_PARAMETER],
        request=CategoryUpdateSerializer,
        examples=[OpenApiExample("Move to the top", value={"parent": None}, request_only=True)],
        responses={
            200: CategorySerializer,
            **error_responses(400, 404, e400=_E400, e404="No category has this code (`not_found`)."),
        },
        tags=[CATALOG],
    )
    def patch(self, request, code: str):
        serializer = CategoryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = get_object_or_404(Category, code=code)
        category = categories.category_update(
            category=category, changes=dict(serializer.validated_data), actor=Actor.from_request(request)
        )
        return _detail(category)


class CategoryDeactivateView(APIView):
    required_scopes = {"POST": Scope.CATALOG_WRITE}
    staff_permissions = {"POST": "inventory.change_category"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="categories_deactivate",
        summary="Deactivate a category",
        description=(
            "The category stays in the tree (`is_active: false`) for history and sync, and takes no new "
            "subcategories. Refused while active subcategories, products or product models are in it. "
            "Deactivating a deactivated category changes nothing. Needs the scope `catalog:write`."
        ),
        parameters=[CODE_PARAMETER],
        request=None,
        responses={
            200: CategorySerializer,
            **error_responses(
                404,
                409,
                e404="No category has this code (`not_found`).",
                e409="Active subcategories, products or product models are in it (`category_in_use`).",
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, code: str):
        category = get_object_or_404(Category, code=code)
        category = categories.category_deactivate(category=category, actor=Actor.from_request(request))
        return _detail(category)
