"""The locations API's writes: an integration creates, updates and closes its stores, warehouses
and pickup points. Listing stays in ``inventory.api.views`` under ``catalog:read``; the rules are
in ``inventory.locations``."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import locations
from inventory.api.serializers import LocationSerializer
from inventory.api.views import CATALOG, LocationListView
from inventory.models import Location, LocationKind
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import StrictInputSerializer
from omni.core.scopes import Scope

CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The location's code.")
_E400 = (
    "Invalid input (`invalid`, `details.fields` names the field: a blank name or city, an unknown kind, one "
    "coordinate without the other, a coordinate out of range): nothing was changed."
)


class LocationChangesSerializer(StrictInputSerializer):
    """A location's fields; on update, only those sent change."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=LocationKind.choices)
    city = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    opening_hours = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text=_("For example: Mon–Sun 10:00–22:00")
    )
    latitude = serializers.DecimalField(
        max_digits=8, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True, default=None
    )
    is_pickup_point = serializers.BooleanField(
        required=False, default=False, help_text=_("Hands over click-and-collect orders.")
    )
    accepts_returns = serializers.BooleanField(required=False, default=False)
    ships_orders = serializers.BooleanField(required=False, default=False, help_text=_("Ships delivery orders."))


class LocationUpdateSerializer(LocationChangesSerializer):
    is_active = serializers.BooleanField(
        required=False, help_text=_("false closes the location (refused while it holds reservations).")
    )


class LocationInputSerializer(LocationChangesSerializer):
    code = serializers.SlugField(max_length=32, help_text=_("The location's key; it never changes."))


class LocationListCreateView(LocationListView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.LOCATIONS_WRITE}
    staff_permissions = {"POST": "inventory.add_location"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="locations_create",
        summary="Create a store, warehouse or pickup point",
        description=(
            "A new location with its address, opening hours, coordinates and what it does (hands over "
            "click-and-collect orders, accepts returns, ships orders). With an `Idempotency-Key`, a retry returns "
            "the first location. Needs the scope `locations:write`; staff need the permission to add locations."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=LocationInputSerializer,
        examples=[
            OpenApiExample(
                "A store that hands over orders",
                value={
                    "code": "msk-arbat",
                    "name": "Arbat",
                    "kind": "store",
                    "city": "Moscow",
                    "address": "Arbat St, 10",
                    "opening_hours": "Mon–Sun 10:00–22:00",
                    "latitude": "55.751244",
                    "longitude": "37.618423",
                    "is_pickup_point": True,
                    "accepts_returns": True,
                },
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(LocationSerializer, description="The location."),
            **error_responses(
                400, 409, 422, e400=_E400, e409="Another location has this code (`location_code_taken`)."
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, *args, **kwargs):
        serializer = LocationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        code = data.pop("code")

        def create():
            location = locations.location_create(
                code=code, data=locations.LocationData(**data), actor=Actor.from_request(request)
            )
            return Response(LocationSerializer(location).data, status=status.HTTP_201_CREATED)

        return idempotent(request, create)


class LocationDetailView(APIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "PATCH": Scope.LOCATIONS_WRITE}
    staff_permissions = {"PATCH": "inventory.change_location"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="locations_retrieve",
        summary="Get a location",
        description="One location, active or not. Needs the scope `catalog:read`.",
        parameters=[CODE_PARAMETER],
        responses={200: LocationSerializer, **error_responses(404, e404="No location has this code (`not_found`).")},
        tags=[CATALOG],
    )
    def get(self, request, code: str):
        return Response(LocationSerializer(get_object_or_404(Location, code=code)).data)

    @extend_schema(
        operation_id="locations_update",
        summary="Update a location",
        description=(
            "Changes the fields sent; the others stay. Changing one coordinate keeps the other; `null` for both "
            "removes the point. `is_active: false` closes the location, refused while it holds reservations or "
            "has transfers under way. Needs the scope `locations:write`; staff need the permission to change "
            "locations."
        ),
        parameters=[CODE_PARAMETER],
        request=LocationUpdateSerializer,
        examples=[
            OpenApiExample(
                "New hours, now ships orders",
                value={"opening_hours": "Mon–Fri 09:00–21:00", "ships_orders": True},
                request_only=True,
            )
        ],
        responses={
            200: LocationSerializer,
            **error_responses(
                400,
                404,
                409,
                e400=_E400,
                e404="No location has this code (`not_found`).",
                e409="The location holds reservations or has transfers under way (`location_in_use`).",
            ),
        },
        tags=[CATALOG],
    )
    def patch(self, request, code: str):
        serializer = LocationUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        location = get_object_or_404(Location, code=code)
        location = locations.location_update(
            location=location, changes=dict(serializer.validated_data), actor=Actor.from_request(request)
        )
        return Response(LocationSerializer(location).data)


class LocationDeactivateView(APIView):
    required_scopes = {"POST": Scope.LOCATIONS_WRITE}
    staff_permissions = {"POST": "inventory.change_location"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="locations_deactivate",
        summary="Close a location",
        description=(
            "The location leaves the lists, availability and pickup choices; its history stays. Refused while "
            "it holds reservations or has transfers under way. Closing a closed location changes nothing. Needs "
            "the scope `locations:write`."
        ),
        parameters=[CODE_PARAMETER],
        request=None,
        responses={
            200: LocationSerializer,
            **error_responses(
                404,
                409,
                e404="No location has this code (`not_found`).",
                e409="The location holds reservations or has transfers under way (`location_in_use`).",
            ),
        },
        tags=[CATALOG],
    )
    def post(self, request, code: str):
        location = get_object_or_404(Location, code=code)
        location = locations.location_deactivate(location=location, actor=Actor.from_request(request))
        return Response(LocationSerializer(location).data)
