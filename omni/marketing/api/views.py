"""Campaigns over the API: list, create, read, change a draft, preview, test, send, cancel, results.

Views parse input and call ``omni.marketing.services`` and ``omni.marketing.results``; refusals
are rendered by ``omni.core.api.exceptions``.
"""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.errors import InvalidInput, NotFound
from omni.core.scopes import Scope
from omni.marketing import services
from omni.marketing.api.serializers import (
    CampaignInputSerializer,
    CampaignSerializer,
    CartInputSerializer,
    CartSerializer,
    InboundMessageSerializer,
    InboundOutcomeSerializer,
    PreviewSerializer,
    ResultsSerializer,
    TestSendSerializer,
)
from omni.marketing.carts import CartLineInput, cart_record
from omni.marketing.models import Campaign, RecipientStatus
from omni.marketing.replies import reply_receive
from omni.marketing.results import campaign_preview, campaign_results

CAMPAIGNS = "campaigns"
READ, WRITE = Scope.CAMPAIGNS_READ, Scope.CAMPAIGNS_WRITE
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The campaign's id.")
NOT_FOUND = "No campaign has this id (`not_found`)."
CREATE_EXAMPLE = OpenApiExample(
    "Points about to expire, by e-mail or SMS",
    value={
        "name": "Your points expire soon",
        "segment": 3,
        "subject_ru": "Баллы скоро сгорят",
        "subject_en": "Your points expire soon",
        "text_ru": "{{ name }}, {{ expiring_points }} баллов сгорят {{ expiring_date }}. Код: {{ promo_code }}",
        "text_en": "{{ name }}, {{ expiring_points }} points expire on {{ expiring_date }}. Code: {{ promo_code }}",
        "channels": ["email", "sms"],
        "send_at": "2026-12-10T10:00:00+03:00",
        "conversion_days": 7,
        "promo_kind": "percent",
        "promo_value": "10",
    },
    request_only=True,
)


def campaign_of(pk: int) -> Campaign:
    campaign = Campaign.objects.select_related("segment").filter(pk=pk).first()
    if campaign is None:
        raise NotFound(gettext("No campaign has the id %(id)s.") % {"id": pk})
    return campaign


def campaign_data(request) -> services.CampaignData:
    serializer = CampaignInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data["channels"] = tuple(data["channels"])
    return services.CampaignData(**data)


class CampaignListView(generics.ListAPIView):
    required_scopes = {"GET": READ, "POST": WRITE}
    staff_permissions = {"GET": "marketing.view_campaign", "POST": "marketing.add_campaign"}
    parser_classes = [JSONParser]
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.order_by("-created_at", "-id")
    filter_backends = []

    @extend_schema(
        operation_id="campaigns_list",
        summary="List campaigns",
        description="Newest first, with their status and progress. Needs `campaigns:read`.",
        responses={200: CampaignSerializer(many=True), **error_responses()},
        tags=[CAMPAIGNS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="campaigns_create",
        summary="Create a draft campaign",
        description=(
            "A message to a segment's members in Russian and English (each member gets the language of their "
            "profile), through the channels given, optionally with a personal single-use promo code per recipient "
            "or bonus points for buying within `conversion_days`. Texts are templates; an unsubscribe link is added "
            "to any text that does not place `{{ unsubscribe_url }}`. With an `Idempotency-Key`, a retry returns the "
            "first campaign. Needs `campaigns:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=CampaignInputSerializer,
        examples=[CREATE_EXAMPLE],
        responses={
            201: OpenApiResponse(CampaignSerializer, description="The draft campaign."),
            **error_responses(400, 422, e400="Invalid input or template (`invalid`): nothing was created."),
        },
        tags=[CAMPAIGNS],
    )
    def post(self, request, *args, **kwargs):
        data = campaign_data(request)

        def create():
            campaign = services.campaign_create(data=data, actor=Actor.from_request(request))
            return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

        return idempotent(request, create)


class CampaignDetailView(APIView):
    required_scopes = {"GET": READ, "PUT": WRITE}
    staff_permissions = {"GET": "marketing.view_campaign", "PUT": "marketing.change_campaign"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_retrieve",
        summary="Get a campaign",
        description="Needs `campaigns:read`.",
        parameters=[ID],
        responses={200: CampaignSerializer, **error_responses(404, e404=NOT_FOUND)},
        tags=[CAMPAIGNS],
    )
    def get(self, request, id: int):
        return Response(CampaignSerializer(campaign_of(id)).data)

    @extend_schema(
        operation_id="campaigns_update",
        summary="Replace a draft campaign",
        description="Only a draft changes (`campaign_not_editable` otherwise). Needs `campaigns:write`.",
        parameters=[ID],
        request=CampaignInputSerializer,
        examples=[CREATE_EXAMPLE],
        responses={
            200: CampaignSerializer,
            **error_responses(
                400, 404, 409, e400="Invalid input (`invalid`).", e404=NOT_FOUND, e409="Not a draft any more."
            ),
        },
        tags=[CAMPAIGNS],
    )
    def put(self, request, id: int):
        data = campaign_data(request)
        campaign = services.campaign_update(campaign=campaign_of(id), data=data, actor=Actor.from_request(request))
        return Response(CampaignSerializer(campaign).data)


class CampaignPreviewView(APIView):
    required_scopes = {"GET": READ}
    staff_permissions = {"GET": "marketing.view_campaign"}

    @extend_schema(
        operation_id="campaigns_preview",
        summary="Who the campaign would reach if sent now",
        description=(
            "Recipients per channel, members skipped per reason (`no_consent`, `no_address`, `capped`, "
            "`inactive`), those in their quiet hours and those held out, by the same rules as sending; and the "
            "message with example values in each language. Needs `campaigns:read`."
        ),
        parameters=[ID],
        responses={200: PreviewSerializer, **error_responses(404, e404=NOT_FOUND)},
        tags=[CAMPAIGNS],
    )
    def get(self, request, id: int):
        preview = campaign_preview(campaign_of(id))
        data = {
            "members": preview.members,
            "by_channel": preview.by_channel,
            "skipped": preview.skipped,
            "held": preview.held,
            "control": preview.control,
            "samples": {lang: {"subject": s, "text": t} for lang, (s, t) in preview.samples.items()},
        }
        return Response(PreviewSerializer(data).data)


class CampaignTestView(APIView):
    required_scopes = {"POST": WRITE}
    staff_permissions = {"POST": "marketing.change_campaign"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="campaigns_test",
        summary="Send the message to a staff member",
        description=(
            "The message with example values, by e-mail, to `email` or to the signed-in staff member; no customer "
            "gets it. Needs `campaigns:write`."
        ),
        parameters=[ID],
        request=TestSendSerializer,
        examples=[OpenApiExample("In Russian", value={"email": "marketing@example.com", "language": "ru"})],
        responses={202: None, **error_responses(400, 404, e400="No e-mail to send to (`invalid`).", e404=NOT_FOUND)},
        tags=[CAMPAIGNS],
    )
    def post(self, request, id: int):
        serializer = TestSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data.get("email") or getattr(request.user, "email", "")
        if not email:
            raise InvalidInput.for_field("email", gettext("Give the e-mail the test goes to."))
        services.campaign_test_send(
            campaign=campaign_of(id),
            email=email,
            language=serializer.validated_data["language"],
            actor=Actor.from_request(request),
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class CampaignSendView(APIView):
    required_scopes = {"POST": WRITE}
    staff_permissions = {"POST": "marketing.send_campaign"}

    @extend_schema(
        operation_id="campaigns_send",
        summary="Send a draft campaign, now or at its time",
        description=(
            "Each member gets the message once, through their preferred channel when they consented to marketing "
            "there, else the next consented one; in their quiet hours it waits for their morning; a member at the "
            "weekly cap is skipped. A share of members is held out to measure the lift. Needs `campaigns:write`."
        ),
        parameters=[ID],
        request=None,
        responses={
            200: CampaignSerializer,
            **error_responses(404, 409, e404=NOT_FOUND, e409="Not a draft, or the segment has no conditions."),
        },
        tags=[CAMPAIGNS],
    )
    def post(self, request, id: int):
        campaign = services.campaign_launch(campaign=campaign_of(id), actor=Actor.from_request(request))
        return Response(CampaignSerializer(campaign).data)


class CampaignCancelView(APIView):
    required_scopes = {"POST": WRITE}
    staff_permissions = {"POST": "marketing.send_campaign"}

    @extend_schema(
        operation_id="campaigns_cancel",
        summary="Stop a scheduled or sending campaign",
        description="Messages already written stay; nobody else gets it. Needs `campaigns:write`.",
        parameters=[ID],
        request=None,
        responses={200: CampaignSerializer, **error_responses(404, 409, e404=NOT_FOUND, e409="Not under way.")},
        tags=[CAMPAIGNS],
    )
    def post(self, request, id: int):
        campaign = services.campaign_cancel(campaign=campaign_of(id), actor=Actor.from_request(request))
        return Response(CampaignSerializer(campaign).data)


class CampaignResultsView(APIView):
    required_scopes = {"GET": READ}
    staff_permissions = {"GET": "marketing.view_campaign"}

    @extend_schema(
        operation_id="campaigns_results",
        summary="What the campaign achieved",
        description=(
            "Sent, delivered, failed, unsubscribed (through its links or by a stop word replied to it), skipped "
            "per reason, and conversion: recipients who placed an order (not cancelled or expired) within "
            "`conversion_days` of being sent the message, against the held-out control group over the same window, "
            "and the lift in percentage points. Needs `campaigns:read`."
        ),
        parameters=[ID],
        responses={200: ResultsSerializer, **error_responses(404, e404=NOT_FOUND)},
        tags=[CAMPAIGNS],
    )
    def get(self, request, id: int):
        results = campaign_results(campaign_of(id))
        data = {
            "members": results.members,
            "processed": results.processed,
            "sent": results.sent,
            "delivered": results.delivered,
            "failed": results.failed,
            "unsubscribed": results.unsubscribed,
            "skipped": results.skipped,
            "held": results.by_status.get(RecipientStatus.HELD, 0),
            "control": results.control,
            "converted": results.sent_converted,
            "control_converted": results.control_converted,
            "conversion_percent": results.conversion,
            "control_conversion_percent": results.control_conversion,
            "lift_points": results.lift,
        }
        return Response(ResultsSerializer(data).data)


class CartView(APIView):
    required_scopes = {"POST": Scope.CARTS_WRITE}
    staff_permissions = {"POST": "marketing.add_cart"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="carts_record",
        summary="Report a cart",
        description=(
            "The shop or the app reports a cart's whole state each time it changes, by its own `cart_id`; an "
            "anonymous cart gets its `customer_id` in a later report. A report older than the one kept changes no "
            "lines. A cart left `MARKETING_CART_REMINDER_MINUTES` without a change and without an order of its "
            "goods brings the customer one reminder through one consented channel. With an `Idempotency-Key`, a "
            "retry returns the first answer. Needs `carts:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=CartInputSerializer,
        examples=[
            OpenApiExample(
                "Two shirts in the shop's cart",
                value={
                    "channel": "site",
                    "cart_id": "c-81f2",
                    "customer_id": 42,
                    "lines": [{"sku": "SHI-0001-S", "quantity": 2}],
                    "updated_at": "2026-12-03T18:20:00+03:00",
                },
                request_only=True,
            )
        ],
        responses={
            200: OpenApiResponse(CartSerializer, description="The cart as kept."),
            **error_responses(400, 422, e400="Invalid input, an unknown SKU or customer (`invalid`): nothing changed."),
        },
        tags=["carts"],
    )
    def post(self, request):
        serializer = CartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = None
        if data["customer_id"] is not None:
            customer = Customer.objects.filter(pk=data["customer_id"]).first()
            if customer is None:
                raise InvalidInput.for_field("customer_id", gettext("No customer has this id."))

        def record():
            cart = cart_record(
                channel=data["channel"],
                external_id=data["cart_id"],
                lines=[CartLineInput(line["sku"], line["quantity"]) for line in data["lines"]],
                changed_at=data["updated_at"],
                customer=customer,
                actor=Actor.from_request(request),
            )
            return Response(CartSerializer(cart).data)

        return idempotent(request, record)


class InboundMessageView(APIView):
    required_scopes = {"POST": Scope.MESSAGES_INBOUND}
    staff_permissions = {"POST": "customers.change_consent"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="messages_inbound",
        summary="Report a message a customer sent",
        description=(
            "For the SMS gateway and the messenger bot: each message a customer sends, by the sender's phone (SMS) "
            "or their user id in the messenger (`system`: telegram, whatsapp, viber). It goes on the customer's "
            "timeline. When the whole text is a stop word (`MARKETING_STOP_WORDS`: STOP, СТОП, ОТПИСАТЬСЯ..., any "
            "case), the customer's marketing consent for that channel is withdrawn, in the consent history noted "
            "with the campaign or cart reminder it answered, which counts it as unsubscribed in the campaign's "
            "results. With an `Idempotency-Key` (the provider's message id), a retry is recorded once. Needs "
            "`messages:inbound`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=InboundMessageSerializer,
        examples=[
            OpenApiExample(
                "STOP by SMS",
                value={"channel": "sms", "sender": "+79161234567", "text": "СТОП"},
                request_only=True,
            )
        ],
        responses={
            200: OpenApiResponse(InboundOutcomeSerializer, description="Recorded; what it did."),
            **error_responses(
                400,
                404,
                409,
                422,
                e400="Invalid input: channel, phone, messenger or text (`invalid`, `invalid_phone`): nothing changed.",
                e404="No customer has this sender (`unknown_sender`): nothing was recorded.",
                e409="The profile was anonymised (`customer_anonymised`).",
            ),
        },
        tags=["messages"],
    )
    def post(self, request):
        serializer = InboundMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def receive():
            outcome = reply_receive(**data, actor=Actor.from_request(request))
            body = {
                "customer_id": outcome.customer.pk,
                "stop_word": outcome.stop_word,
                "unsubscribed": outcome.withdrawn,
                "answered": outcome.answered,
            }
            return Response(InboundOutcomeSerializer(body).data)

        return idempotent(request, receive)
