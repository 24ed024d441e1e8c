"""The customers API: identify, look up and update customers; their timeline and cases.

Views parse input, call one service or selector and present the result; the rules are in
``customers.services``, and the errors they raise are rendered by ``omni.core.api.exceptions``.

An id of a customer merged into another keeps working: every ``/customers/{id}/...`` endpoint
acts on the surviving profile. Its response then carries the survivor's ``id`` and a
``Content-Location`` header with the survivor's URL, so a client can update the id it stores.
"""

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import selectors, services
from customers.api.serializers import (
    CaseInputSerializer,
    CaseMessageInputSerializer,
    CaseMessageSerializer,
    CaseSerializer,
    ConsentSerializer,
    ConsentsInputSerializer,
    CustomerSerializer,
    FeedbackInputSerializer,
    FeedbackSerializer,
    IdentifyResultSerializer,
    IdentifySerializer,
    InteractionInputSerializer,
    InteractionSerializer,
    LookupQuerySerializer,
    ProfileSerializer,
)
from customers.cases import case_add_message, case_open, feedback_record
from customers.filters import CustomerFilter, InteractionFilter
from customers.models import Case, CaseMessage, Consent, Customer, Interaction
from customers.services import ConsentChange, IdentityInput
from omni.core.actors import Actor
from omni.core.api import sync
from omni.core.api.pagination import SyncPagination
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import error_responses
from omni.core.api.serializers import represent, validated
from omni.core.errors import NotFound
from omni.core.scopes import Scope

CUSTOMERS = "customers"
CASES = "cases"

CUSTOMER_ID = OpenApiParameter(
    "id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The customer's id. The id of a profile merged into another resolves to the survivor.",
)
CASE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The case's id.")
CONTENT_LOCATION = OpenApiParameter(
    "Content-Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="Present when the id asked for was merged into another profile: the survivor's URL.",
)

# What a write on a customer's records (a contact, feedback, a case) answers when it is refused.
WRITE_REFUSALS = error_responses(
    400,
    404,
    409,
    e400="Invalid input (`invalid`): nothing was changed.",
    e409="The customer was anonymised (`customer_anonymised`).",
)

_READ = {"GET": Scope.CUSTOMERS_READ}
_WRITE = {"POST": Scope.CUSTOMERS_WRITE, "PATCH": Scope.CUSTOMERS_WRITE}


def _customer_or_404(pk: int) -> Customer:
    customer = selectors.customer_resolve(pk)
    if customer is None:
        raise NotFound(gettext("No customer has id %(id)s.") % {"id": pk}, details={"id": pk})
    return customer


def _with_location(response: Response, request, requested_id: int, customer: Customer) -> Response:
    if customer.pk != requested_id:
        response["Content-Location"] = request.build_absolute_uri(
            reverse("api:customers:customer-detail", kwargs={"pk": customer.pk})
        )
    return response


def _present(customer: Customer) -> dict:
    return represent(CustomerSerializer, selectors.customers_with_identities().get(pk=customer.pk))


# --- Customers --------------------------------------------------------------------------


class CustomerListView(generics.ListAPIView):
    required_scopes = _READ
    staff_permissions = {"GET": "customers.view_customer"}
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    pagination_class = SyncPagination

    def get_queryset(self):
        if sync.is_sync_request(self.request):  # a merge or an erasure is a change the client must see
            return selectors.customers_with_identities(Customer.objects.all())
        return selectors.customers_with_identities(Customer.objects.active())

    @extend_schema(
        operation_id="customers_list",
        summary="List customers",
        description=(
            "Active customers (neither merged nor anonymised), newest first, with their identities. "
            "`phone` accepts any form of the number. With `updated_since` or `cursor`: the customers changed "
            "since, oldest change first, merged ones (`merged_into` names the survivor) and anonymised ones "
            "(`anonymised_at`) included, and a `cursor` to resume from (README, Incremental sync). "
            "Needs the scope `customers:read`."
        ),
        responses={
            200: CustomerSerializer(many=True),
            **error_responses(
                400, e400="A malformed filter (`invalid`) or phone, e-mail or card (`invalid_phone`, ...)."
            ),
        },
        tags=[CUSTOMERS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IdentifyView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"POST": "customers.add_customer"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_identify",
        summary="Identify or create a customer",
        description=(
            "Finds the customer any of the identities (phone in any form, e-mail, card, external ids) "
            "belongs to, or creates one. Profile fields that were empty are filled; known values are never "
            "overwritten: a differing value is listed in `conflicts`. New identities are added to the "
            "customer. When the identities belong to several customers, the strongest match answers (card, "
            "phone, external id, e-mail) and the others are listed in `duplicates` for staff to review. "
            "Consents given are recorded. Concurrent calls with the same identity create one customer. "
            "Needs the scope `customers:write`."
        ),
        request=IdentifySerializer,
        responses={
            200: OpenApiResponse(IdentifyResultSerializer, description="An existing customer."),
            201: OpenApiResponse(IdentifyResultSerializer, description="A new customer."),
            **error_responses(
                400,
                409,
                e400="Invalid input (`invalid`), an invalid phone, e-mail, card or external id (`invalid_phone`, "
                "`invalid_email`, `invalid_card`, `invalid_external_id`; `details.field` names it) or no "
                "identity at all (`identity_required`): nothing was changed.",
                e409="Marketing consent without consent to personal data processing (`consent_required`).",
            ),
        },
        tags=[CUSTOMERS],
    )
    def post(self, request):
        data = dict(validated(IdentifySerializer, request.data))
        identities = []
        for name in ("phone", "email", "card"):
            value = data.pop(name, None)
            if value:
                identities.append(IdentityInput(name, value, field=name))
        for index, item in enumerate(data.pop("external_ids", [])):
            identities.append(IdentityInput("external_id", item["id"], item["system"], field=f"external_ids.{index}"))
        consents = [ConsentChange(c["purpose"], c["granted"], c["channel"]) for c in data.pop("consents", [])]
        channel, store = data.pop("channel"), data.pop("store", None)
        result = services.customer_identify(
            identities=identities,
            profile=data,
            consents=consents,
            channel=channel,
            location=store,
            actor=Actor.from_request(request),
            shown=True,
        )
        body = represent(
            IdentifyResultSerializer,
            {
                "customer": result.customer,
                "created": result.created,
                "matched": [key.as_dict() for key in result.matched],
                "attached": [key.as_dict() for key in result.attached],
                "conflicts": result.conflicts,
                "duplicates": result.duplicates,
            },
        )
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class LookupView(APIView):
    required_scopes = _READ
    staff_permissions = {"GET": "customers.view_customer"}

    @extend_schema(
        operation_id="customers_lookup",
        summary="Find a customer by phone, e-mail, card or external id",
        description=(
            "Give exactly one of `phone` (any form), `email`, `card` or `external_id` (with `system`). "
            "Needs the scope `customers:read`."
        ),
        parameters=[
            OpenApiParameter("phone", OpenApiTypes.STR, description="A phone in any form: 8 (916) 123-45-67."),
            OpenApiParameter("email", OpenApiTypes.STR, description="An e-mail, in any letter case."),
            OpenApiParameter("card", OpenApiTypes.STR, description="A loyalty card number."),
            OpenApiParameter("external_id", OpenApiTypes.STR, description="An id in another system."),
            OpenApiParameter("system", OpenApiTypes.STR, description="The system of `external_id`: shop, telegram..."),
        ],
        responses={
            200: CustomerSerializer,
            **error_responses(
                400,
                404,
                e400="Not exactly one identity (`invalid`) or an invalid one (`invalid_phone`, `invalid_email`, "
                "...; `details.field` names it).",
                e404="No customer has this identity (`not_found`).",
            ),
        },
        tags=[CUSTOMERS],
    )
    def get(self, request):
        data = validated(LookupQuerySerializer, request.query_params.dict())
        kind = next(name for name in ("phone", "email", "card", "external_id") if data.get(name))
        customer = selectors.customer_lookup(kind, data[kind], system=data.get("system", ""))
        if customer is None:
            raise NotFound(gettext("No customer has this %(kind)s.") % {"kind": kind}, details={"field": kind})
        return Response(represent(CustomerSerializer, customer))


class CustomerDetailView(APIView):
    required_scopes = {**_READ, "PATCH": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"GET": "customers.view_customer", "PATCH": "customers.change_customer"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_retrieve",
        summary="Get a customer",
        description=(
            "The profile with its identities. For the id of a merged profile, the survivor is returned "
            "(with its own `id`) and `Content-Location` names its URL. Needs the scope `customers:read`."
        ),
        parameters=[CUSTOMER_ID, CONTENT_LOCATION],
        responses={
            200: CustomerSerializer,
            **error_responses(404, e404="No customer has this id (`not_found`)."),
        },
        tags=[CUSTOMERS],
    )
    def get(self, request, pk: int):
        customer = _customer_or_404(pk)
        return _with_location(Response(_present(customer)), request, pk, customer)

    @extend_schema(
        operation_id="customers_partial_update",
        summary="Update a customer's profile",
        description=(
            "Changes the fields sent, on purpose (unlike identify, known values are replaced); an empty "
            "value clears the field. Identities are not changed here. For the id of a merged profile, the "
            "survivor is updated. Needs the scope `customers:write`."
        ),
        parameters=[CUSTOMER_ID, CONTENT_LOCATION],
        request=ProfileSerializer,
        responses={
            200: CustomerSerializer,
            **error_responses(
                400,
                404,
                409,
                e400="Invalid input (`invalid`, `details.fields` names the field): nothing was changed.",
                e409="The customer was anonymised (`customer_anonymised`).",
            ),
        },
        tags=[CUSTOMERS],
    )
    def patch(self, request, pk: int):
        serializer = ProfileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = _customer_or_404(pk)
        customer = services.customer_update(
            customer=customer, data=dict(serializer.validated_data), actor=Actor.from_request(request)
        )
        return _with_location(Response(_present(customer)), request, pk, customer)


# --- Timeline ---------------------------------------------------------------------------


class TimelineView(generics.ListAPIView):
    required_scopes = _READ
    staff_permissions = {"GET": "customers.view_interaction"}
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Interaction.objects.none()
        return selectors.timeline(_customer_or_404(self.kwargs["pk"]))

    @extend_schema(
        operation_id="customers_timeline",
        summary="A customer's timeline",
        description=(
            "Every contact with the customer, newest first: orders, returns, calls, chat messages, store "
            "visits, messages sent, case updates, feedback, notes, points. Filter by `channel` and `kind`. "
            "Needs the scope `customers:read`."
        ),
        parameters=[CUSTOMER_ID],
        responses={
            200: InteractionSerializer(many=True),
            **error_responses(400, 404, e400="A malformed filter (`invalid`).", e404="No such customer."),
        },
        tags=[CUSTOMERS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InteractionCreateView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"POST": "customers.add_interaction"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_interactions_create",
        summary="Record a contact on the timeline",
        description=(
            "For the call centre, chat and messenger integrations: a call, a chat message, a store visit... "
            "`subject_type` and `subject_id` name what it concerns (`order`, `W-2026-000001`). Needs the "
            "scope `customers:write`."
        ),
        parameters=[CUSTOMER_ID, CONTENT_LOCATION],
        request=InteractionInputSerializer,
        responses={
            201: InteractionSerializer,
            **WRITE_REFUSALS,
        },
        tags=[CUSTOMERS],
    )
    def post(self, request, pk: int):
        serializer = InteractionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = _customer_or_404(pk)
        interaction = services.interaction_record(
            customer=customer, actor=Actor.from_request(request), **serializer.validated_data
        )
        interaction = selectors.timeline(customer).get(pk=interaction.pk)
        response = Response(InteractionSerializer(interaction).data, status=status.HTTP_201_CREATED)
        return _with_location(response, request, pk, customer)


class ConsentsView(APIView):
    required_scopes = {**_READ, "POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"GET": "customers.view_consent", "POST": "customers.change_consent"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_consents_list",
        summary="A customer's consents",
        description="The current answer per purpose and channel. Needs the scope `customers:read`.",
        parameters=[CUSTOMER_ID],
        responses={200: ConsentSerializer(many=True), **error_responses(404, e404="No such customer.")},
        tags=[CUSTOMERS],
    )
    def get(self, request, pk: int):
        customer = _customer_or_404(pk)
        return Response(ConsentSerializer(Consent.objects.filter(customer=customer), many=True).data)

    @extend_schema(
        operation_id="customers_consents_record",
        summary="Record consents given or withdrawn",
        description=(
            "Each change is kept with its time, `channel` and who recorded it; repeating the current answer "
            "records nothing. Marketing needs consent to personal data processing; withdrawing that consent "
            "withdraws every marketing consent. Answers with the current consents. Needs the scope "
            "`customers:write`."
        ),
        parameters=[CUSTOMER_ID],
        request=ConsentsInputSerializer,
        responses={
            200: ConsentSerializer(many=True),
            **error_responses(
                400,
                404,
                409,
                e400="Invalid input (`invalid`): nothing was changed.",
                e409="Marketing without consent to personal data processing (`consent_required`), or the customer "
                "was anonymised (`customer_anonymised`): nothing was changed.",
            ),
        },
        tags=[CUSTOMERS],
    )
    def post(self, request, pk: int):
        serializer = ConsentsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer_or_404(pk)
        services.consents_record(
            customer=customer,
            changes=[ConsentChange(c["purpose"], c["granted"], c["channel"]) for c in data["consents"]],
            source_channel=data["channel"],
            note=data["note"],
            actor=Actor.from_request(request),
        )
        return Response(ConsentSerializer(Consent.objects.filter(customer=customer), many=True).data)


class FeedbackCreateView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"POST": "customers.add_feedback"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="customers_feedback_create",
        summary="Record feedback",
        description=(
            "A score from 0 to 10 with a comment about a store or an order. A score at or below the configured "
            "threshold (6) opens a case for the manager of the store; the answer names it in `case`. Needs the "
            "scope `customers:write`."
        ),
        parameters=[CUSTOMER_ID],
        request=FeedbackInputSerializer,
        responses={
            201: FeedbackSerializer,
            **WRITE_REFUSALS,
        },
        tags=[CUSTOMERS],
    )
    def post(self, request, pk: int):
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        feedback = feedback_record(
            customer=_customer_or_404(pk),
            score=data["score"],
            comment=data["comment"],
            channel=data["channel"],
            store=data["store"],
            order_ref=data["order"],
            actor=Actor.from_request(request),
        )
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


# --- Cases ------------------------------------------------------------------------------


def _cases_queryset(request):
    cases = Case.objects.select_related("store", "assignee").prefetch_related(
        Prefetch("messages", queryset=CaseMessage.objects.select_related("author").order_by("created_at", "id"))
    )
    if request.auth is None and request.user.is_authenticated:
        # Staff sessions: store staff see only the cases of their own stores.
        cases = cases.filter(pk__in=selectors.cases_for_user(request.user).values("pk"))
    return cases


class CustomerCasesView(generics.ListAPIView):
    required_scopes = {**_READ, "POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"GET": "customers.view_case", "POST": "customers.add_case"}
    serializer_class = CaseSerializer
    parser_classes = [JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        customer = _customer_or_404(self.kwargs["pk"])
        return _cases_queryset(self.request).filter(customer=customer).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="customers_cases_list",
        summary="A customer's cases",
        description="Questions and complaints, newest first, each with its messages in order. Scope `customers:read`.",
        parameters=[CUSTOMER_ID],
        responses={200: CaseSerializer(many=True), **error_responses(404, e404="No such customer.")},
        tags=[CASES],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="customers_cases_create",
        summary="Open a case",
        description=(
            "A question or complaint, with its first message in `body`, through any channel. Needs the scope "
            "`customers:write`."
        ),
        parameters=[CUSTOMER_ID],
        request=CaseInputSerializer,
        responses={
            201: CaseSerializer,
            **WRITE_REFUSALS,
        },
        tags=[CASES],
    )
    def post(self, request, pk: int):
        serializer = CaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = _customer_or_404(pk)
        case = case_open(customer=customer, actor=Actor.from_request(request), **serializer.validated_data)
        case = _cases_queryset(request).filter(pk=case.pk).first() or case
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)


def _case_or_404(request, pk: int) -> Case:
    case = _cases_queryset(request).filter(pk=pk).first()
    if case is None:
        raise NotFound(gettext("No case has id %(id)s.") % {"id": pk}, details={"id": pk})
    return case


class CaseDetailView(APIView):
    required_scopes = _READ
    staff_permissions = {"GET": "customers.view_case"}

    @extend_schema(
        operation_id="cases_retrieve",
        summary="Get a case with its messages",
        description="The whole story, messages in order, whatever channel they came through. Scope `customers:read`.",
        parameters=[CASE_ID],
        responses={200: CaseSerializer, **error_responses(404, e404="No such case (`not_found`).")},
        tags=[CASES],
    )
    def get(self, request, pk: int):
        return Response(CaseSerializer(_case_or_404(request, pk)).data)


class CaseMessageCreateView(APIView):
    required_scopes = {"POST": Scope.CUSTOMERS_WRITE}
    staff_permissions = {"POST": "customers.add_casemessage"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="cases_messages_create",
        summary="Add a message to a case",
        description=(
            "A message from the customer (`inbound`, the default) reopens a case that waited for them or was "
            "resolved; a reply (`outbound`) puts an open case in `waiting`; `internal` is a note for staff. "
            "Needs the scope `customers:write`."
        ),
        parameters=[CASE_ID],
        request=CaseMessageInputSerializer,
        responses={
            201: CaseMessageSerializer,
            **error_responses(400, 404, 409, e400="Invalid input (`invalid`).", e404="No such case (`not_found`)."),
        },
        tags=[CASES],
    )
    def post(self, request, pk: int):
        serializer = CaseMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = _case_or_404(request, pk)
        message = case_add_message(case=case, actor=Actor.from_request(request), **serializer.validated_data)
        return Response(CaseMessageSerializer(message).data, status=status.HTTP_201_CREATED)
