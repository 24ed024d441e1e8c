"""The loyalty API's setup: the programme's rules and tiers, and promo codes (create, deactivate,
read their use). Views parse input and call ``loyalty.services.setup``; its refusals are rendered
by ``omni.core.api.exceptions``."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty import selectors
from loyalty.models import PromoCode, PromoKind, PromoUsage, PromoUsageStatus, Tier
from loyalty.services import programme_current
from loyalty.services import setup as services
from omni.core import dates
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.core.channels import SALES_CHANNEL_CHOICES
from omni.core.scopes import Scope

LOYALTY = "loyalty"
MAX_TIERS = 20
MAX_DAYS = 36_500
MAX_BONUS = 10**9


# --- Shapes -----------------------------------------------------------------------------


class ProgrammeTierSerializer(ModelSerializer):
    class Meta:
        model = Tier
        fields = ["name", "min_spend", "earn_rate"]
        read_only_fields = fields


class ProgrammeSerializer(serializers.Serializer):
    name = serializers.CharField()
    point_value = serializers.DecimalField(max_digits=10, decimal_places=2)
    max_redeem_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    holding_days = serializers.IntegerField()
    expiry_days = serializers.IntegerField()
    tier_period_days = serializers.IntegerField()
    welcome_bonus = serializers.IntegerField()
    birthday_bonus = serializers.IntegerField()
    otp_required = serializers.BooleanField()
    tiers = ProgrammeTierSerializer(many=True, help_text=_("From the lowest qualifying spend up."))


class TierInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=100, help_text=_("The tier's key: a tier by this name is updated."))
    min_spend = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    earn_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)


class ProgrammeUpdateSerializer(StrictInputSerializer):
    point_value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), required=False)
    max_redeem_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    holding_days = WholeNumberField(min_value=0, max_value=MAX_DAYS, required=False)
    expiry_days = WholeNumberField(min_value=1, max_value=MAX_DAYS, required=False)
    tier_period_days = WholeNumberField(min_value=1, max_value=MAX_DAYS, required=False)
    welcome_bonus = WholeNumberField(min_value=0, max_value=MAX_BONUS, required=False)
    birthday_bonus = WholeNumberField(min_value=0, max_value=MAX_BONUS, required=False)
    otp_required = serializers.BooleanField(required=False)
    tiers = TierInputSerializer(
        many=True,
        required=False,
        max_length=MAX_TIERS,
        help_text=_("Tiers by name: each is updated, or added when none has its name; tiers not named stay."),
    )


class PromoUsageSummarySerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text=_("Orders that used the code and were not cancelled."))
    discount_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    points_total = serializers.IntegerField(help_text=_("Extra points given."))
    order_total = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Those orders' totals."))
    released = serializers.IntegerField(help_text=_("Uses given back by cancelled orders."))


class PromoCodeSerializer(ModelSerializer):
    usage = serializers.SerializerMethodField()

    class Meta:
        model = PromoCode
        fields = [
            "code",
            "description",
            "kind",
            "value",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "min_order_total",
            "channels",
            "is_active",
            "used_count",
            "usage",
        ]
        read_only_fields = fields

    def get_usage(self, promo: PromoCode) -> PromoUsageSummarySerializer:
        return PromoUsageSummarySerializer(services.promo_usage(promo)).data


class PromoCodeInputSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=32, help_text=_("Stored in capitals."))
    kind = serializers.ChoiceField(choices=PromoKind.choices)
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("A percentage, an amount or extra points."),
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    valid_from = dates.DateTimeField(required=False, allow_null=True, default=None, help_text=_("Omitted: now."))
    valid_until = dates.DateTimeField(required=False, allow_null=True, default=None)
    max_uses = WholeNumberField(min_value=1, max_value=2_147_483_647, required=False, allow_null=True, default=None)
    max_uses_per_customer = WholeNumberField(
        min_value=1, max_value=2_147_483_647, required=False, allow_null=True, default=None
    )
    min_order_total = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, default=0)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=SALES_CHANNEL_CHOICES),
        required=False,
        default=list,
        max_length=20,
        help_text=_("Where the code is valid; empty: everywhere."),
    )


class PromoUsageSerializer(ModelSerializer):
    order = serializers.CharField(source="reference", read_only=True)

    class Meta:
        model = PromoUsage
        fields = ["order", "channel", "order_total", "discount", "points", "status", "created_at", "released_at"]
        read_only_fields = fields


# --- Programme --------------------------------------------------------------------------


def _programme_data() -> dict:
    programme = programme_current()
    data = {name: getattr(programme, name) for name in ("name", *services.PROGRAMME_FIELDS)}
    data["tiers"] = sorted(programme.tiers.all(), key=lambda tier: tier.min_spend)
    return ProgrammeSerializer(data).data


class ProgrammeView(APIView):
    required_scopes = {"GET": Scope.LOYALTY_READ, "PATCH": Scope.LOYALTY_ADMIN}
    staff_permissions = {"PATCH": "loyalty.change_programme"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_programme_retrieve",
        summary="The loyalty programme and its tiers",
        description="The active programme's rules and tiers. Needs the scope `loyalty:read`.",
        responses={200: ProgrammeSerializer, **error_responses()},
        tags=[LOYALTY],
    )
    def get(self, request):
        return Response(_programme_data())

    @extend_schema(
        operation_id="loyalty_programme_update",
        summary="Change the programme's rules and tiers",
        description=(
            "Changes the rules sent (the others stay) and sets tiers by name, all or nothing. Changes apply to new "
            "operations: points already earned keep their rate and dates, and an account's tier follows new "
            "thresholds at its next purchase or return, or overnight. Needs the scope `loyalty:admin`."
        ),
        request=ProgrammeUpdateSerializer,
        examples=[
            OpenApiExample(
                "Longer holding, a gold tier",
                value={
                    "holding_days": 21,
                    "max_redeem_percent": "30.00",
                    "tiers": [{"name": "Gold", "min_spend": "50000.00", "earn_rate": "7.00"}],
                },
                request_only=True,
            )
        ],
        responses={
            200: ProgrammeSerializer,
            **error_responses(
                400, e400="Invalid input (`invalid`; two tiers with one threshold or name): nothing was changed."
            ),
        },
        tags=[LOYALTY],
    )
    def patch(self, request):
        serializer = ProgrammeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        tiers = [services.TierData(**tier) for tier in changes.pop("tiers", [])]
        services.programme_update(
            programme=programme_current(), changes=changes, tiers=tiers, actor=Actor.from_request(request)
        )
        return Response(_programme_data())


# --- Promo codes ------------------------------------------------------------------------

CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The promo code.")
_NOT_FOUND = "No promo code is written like this (`not_found`)."


def _promo(code: str) -> PromoCode:
    return get_object_or_404(PromoCode, code=code.strip().upper())


class PromoCodeListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.LOYALTY_READ, "POST": Scope.PROMO_WRITE}
    staff_permissions = {"POST": "loyalty.add_promocode"}
    parser_classes = [JSONParser]
    serializer_class = PromoCodeSerializer

    def get_queryset(self):
        return selectors.promo_codes_with_usage()

    @extend_schema(
        operation_id="promo_codes_list",
        summary="List promo codes",
        description="Promo codes, newest first, with their use. Needs the scope `loyalty:read`.",
        responses={200: PromoCodeSerializer(many=True), **error_responses(400)},
        tags=[LOYALTY],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="promo_codes_create",
        summary="Create a promo code",
        description=(
            "A code for a percentage or an amount off the order, or extra points, valid between its dates, in its "
            "channels, from a minimum total, a limited number of times. With an `Idempotency-Key`, a retry returns "
            "the first code. Needs the scope `promo:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=PromoCodeInputSerializer,
        examples=[
            OpenApiExample(
                "10 % off on the site, 500 uses",
                value={"code": "SPRING10", "kind": "percent", "value": "10", "max_uses": 500, "channels": ["site"]},
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(PromoCodeSerializer, description="The promo code."),
            **error_responses(
                400,
                409,
                422,
                e400="Invalid input (`invalid`): nothing was changed.",
                e409="A code is already written like this (`promo_code_taken`).",
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request, *args, **kwargs):
        serializer = PromoCodeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["channels"] = tuple(data["channels"])

        def create():
            promo = services.promo_create(data=services.PromoData(**data), actor=Actor.from_request(request))
            return Response(PromoCodeSerializer(promo).data, status=status.HTTP_201_CREATED)

        return idempotent(request, create)


class PromoCodeDetailView(APIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}

    @extend_schema(
        operation_id="promo_codes_retrieve",
        summary="Get a promo code and its use",
        description="Needs the scope `loyalty:read`.",
        parameters=[CODE_PARAMETER],
        responses={200: PromoCodeSerializer, **error_responses(404, e404=_NOT_FOUND)},
        tags=[LOYALTY],
    )
    def get(self, request, code: str):
        return Response(PromoCodeSerializer(_promo(code)).data)


class PromoCodeDeactivateView(APIView):
    required_scopes = {"POST": Scope.PROMO_WRITE}
    staff_permissions = {"POST": "loyalty.change_promocode"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="promo_codes_deactivate",
        summary="Deactivate a promo code",
        description=(
            "No order can use the code from now on; orders that used it keep their discount. Deactivating an "
            "inactive code changes nothing. Needs the scope `promo:write`."
        ),
        parameters=[CODE_PARAMETER],
        request=None,
        responses={200: PromoCodeSerializer, **error_responses(404, e404=_NOT_FOUND)},
        tags=[LOYALTY],
    )
    def post(self, request, code: str):
        promo = services.promo_deactivate(promo=_promo(code), actor=Actor.from_request(request))
        return Response(PromoCodeSerializer(promo).data)


class PromoCodeUsagesView(generics.ListAPIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}
    serializer_class = PromoUsageSerializer
    queryset = PromoUsage.objects.none()  # for the schema; the code's uses are below

    def get_queryset(self):
        return _promo(self.kwargs["code"]).usages.order_by("-created_at", "-id")

    @extend_schema(
        operation_id="promo_codes_usages",
        summary="Orders that used a promo code",
        description=(
            f"Each use, newest first; `status` `{PromoUsageStatus.RELEASED}` is a use given back by a cancelled "
            "order. Needs the scope `loyalty:read`."
        ),
        parameters=[CODE_PARAMETER],
        responses={200: PromoUsageSerializer(many=True), **error_responses(400, 404, e404=_NOT_FOUND)},
        tags=[LOYALTY],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
