"""Duplicates over the API: the pairs of profiles that probably are one person, merging two
customers (``customers.merge.customer_merge``, which locks both in id order and asks every app to
move its rows) and dismissing a pair (``customers.services.duplicate_dismiss``)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import merge, services
from customers.api.serializers import CustomerSerializer
from customers.models import Customer, DuplicateCandidate, DuplicateReason, DuplicateStatus
from customers.selectors import customers_with_identities
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer
from omni.core.errors import InvalidInput
from omni.core.scopes import Scope

DUPLICATES = "duplicates"
MAX_ID = 2**63 - 1


class DuplicateCandidateSerializer(ModelSerializer):
    first_id = serializers.IntegerField(read_only=True, help_text=_("The customer with the lower id."))
    second_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "first_id", "second_id", "reason", "status", "created_at", "reviewed_at"]
        read_only_fields = fields


class DuplicateFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DuplicateStatus.choices, help_text=_("Omitted: the pairs to review."))
    reason = filters.ChoiceFilter(choices=DuplicateReason.choices)

    class Meta:
        model = DuplicateCandidate
        fields = []

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=DuplicateStatus.OPEN)
        return super().filter_queryset(queryset)


class MergeInputSerializer(StrictInputSerializer):
    survivor_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("The profile that stays."))
    merged_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("The profile merged into it; its id then resolves to the survivor.")
    )


def _customer(pk: int, field: str) -> Customer:
    customer = Customer.objects.filter(pk=pk).first()
    if customer is None:
        raise InvalidInput.for_field(field, gettext("No customer has id %(id)s.") % {"id": pk})
    return customer


class DuplicateListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.CUSTOMERS_READ}
    staff_permissions = {"GET": "customers.view_duplicatecandidate"}
    serializer_class = DuplicateCandidateSerializer
    filterset_class = DuplicateFilter
    queryset = DuplicateCandidate.objects.all()

    @extend_schema(
        operation_id="duplicates_list",
        summary="List probable duplicates",
        description=(
            "Pairs of profiles that probably are one person, newest first; by default those still to review. "
            "Needs the scope `customers:read`."
        ),
        responses={200: DuplicateCandidateSerializer(many=True), **error_responses(400)},
        tags=[DUPLICATES],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DuplicateDismissView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_MERGE}
    staff_permissions = {"POST": "customers.merge_customer"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="duplicates_dismiss",
        summary="Mark a pair as two different people",
        description="Needs the scope `customers:merge`.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The pair's id.")],
        request=None,
        responses={
            200: DuplicateCandidateSerializer,
            **error_responses(
                404,
                409,
                e404="No pair has this id (`not_found`).",
                e409="The pair was already reviewed (`already_reviewed`).",
            ),
        },
        tags=[DUPLICATES],
    )
    def post(self, request, pk: int):
        candidate = get_object_or_404(DuplicateCandidate, pk=pk)
        candidate = services.duplicate_dismiss(candidate=candidate, actor=Actor.from_request(request))
        return Response(DuplicateCandidateSerializer(candidate).data)


class MergeView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_MERGE}
    staff_permissions = {"POST": "customers.merge_customer"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_merge",
        summary="Merge two customers",
        description=(
            "Everything of the merged profile (identities, consents, timeline, cases, loyalty account and points, "
            "orders) moves to the survivor, all or nothing; the merged id then resolves to the survivor, and a "
            "listed pair of the two is marked merged. With an `Idempotency-Key`, a retry returns the first result. "
            "Needs the scope `customers:merge`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=MergeInputSerializer,
        examples=[OpenApiExample("Keep the older profile", value={"survivor_id": 12, "merged_id": 57})],
        responses={
            200: CustomerSerializer,
            **error_responses(
                400,
                409,
                422,
                e400="Invalid input (`invalid`: an unknown id; `merge_same_customer`): nothing was changed.",
                e409="A profile was already merged (`customer_merged`) or anonymised (`customer_anonymised`), or "
                "an app refused to move its rows: nothing was changed.",
            ),
        },
        tags=[DUPLICATES],
    )
    def post(self, request):
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        survivor = _customer(data["survivor_id"], "survivor_id")
        merged = _customer(data["merged_id"], "merged_id")

        def run():
            kept = merge.customer_merge(survivor=survivor, merged=merged, actor=Actor.from_request(request))
            return Response(CustomerSerializer(customers_with_identities().get(pk=kept.pk)).data)

        return idempotent(request, run)
