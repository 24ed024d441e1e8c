"""The key's own webhook subscriptions: list, subscribe, read, change, delete, ping, deliveries."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent, idempotent_replay
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.errors import NotFound
from omni.core.models import ApiKey
from omni.core.scopes import Scope
from omni.webhooks import services
from omni.webhooks.api.serializers import (
    DeliverySerializer,
    PingResultSerializer,
    SubscriptionInputSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
    SubscriptionWithSecretSerializer,
)
from omni.webhooks.models import Delivery, Subscription

WEBHOOKS = "webhooks"
MANAGE = Scope.WEBHOOKS_MANAGE
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The subscription's id.")
NOT_FOUND = "No subscription of this key has this id (`not_found`)."
SUBSCRIBE_EXAMPLE = OpenApiExample(
    "Orders of the online shop",
    value={
        "url": "https://shop.example.com/omni/webhooks",
        "event_types": ["order.created", "order.status_changed", "refund.completed"],
        "contact_email": "integrations@shop.example.com",
    },
    request_only=True,
)


def visible_subscriptions(request):
    """An integration sees its own key's subscriptions; staff allowed to view them in the admin see all."""
    if isinstance(request.auth, ApiKey):
        return Subscription.objects.filter(api_key=request.auth)
    return Subscription.objects.all()


def subscription_of(request, pk: int) -> Subscription:
    subscription = visible_subscriptions(request).filter(pk=pk).first()
    if subscription is None:
        raise NotFound(gettext("No subscription of this key has the id %(id)s.") % {"id": pk})
    return subscription


class SubscriptionListView(generics.ListAPIView):
    required_scopes = {"GET": MANAGE, "POST": MANAGE}
    staff_permissions = {"GET": "webhooks.view_subscription", "POST": "webhooks.add_subscription"}
    parser_classes = [JSONParser]
    serializer_class = SubscriptionSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return visible_subscriptions(self.request).order_by("id")

    @extend_schema(
        operation_id="webhooks_list",
        summary="List the key's webhook subscriptions",
        description="The subscriptions of the calling API key, without their secrets. Needs `webhooks:manage`.",
        responses={200: SubscriptionSerializer(many=True), **error_responses()},
        tags=[WEBHOOKS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe to events",
        description=(
            "Events of the given types are POSTed to `url` (https, a public address: loopback, private, "
            "link-local and reserved addresses are refused) signed with the returned `secret` "
            '(`Omni-Signature: t=<unix>,v1=<HMAC-SHA256 hex of "t.body">`). The secret is shown here and '
            "when the subscription is read by its key, never in lists. Needs `webhooks:manage`; only an API key "
            "can subscribe."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=SubscriptionInputSerializer,
        examples=[SUBSCRIBE_EXAMPLE],
        responses={
            201: OpenApiResponse(SubscriptionWithSecretSerializer, description="The subscription, with its secret."),
            **error_responses(400, e400="Invalid input or a refused URL (`invalid`): nothing was created."),
        },
        tags=[WEBHOOKS],
    )
    def post(self, request, *args, **kwargs):
        if not isinstance(request.auth, ApiKey):
            raise PermissionDenied(gettext("Only an integration's API key can subscribe; staff use the admin."))
        replay = idempotent_replay(request)
        if replay is not None:
            return replay
        serializer = SubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)

        def create():
            subscription = services.subscription_create(api_key=request.auth, actor=Actor.from_request(request), **data)
            return Response(SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)

        return idempotent(request, create)


class SubscriptionDetailView(APIView):
    required_scopes = {"GET": MANAGE, "PATCH": MANAGE, "DELETE": MANAGE}
    staff_permissions = {
        "GET": "webhooks.view_subscription",
        "PATCH": "webhooks.change_subscription",
        "DELETE": "webhooks.delete_subscription",
    }
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Get a subscription, with its secret",
        description="Needs `webhooks:manage`.",
        parameters=[ID],
        responses={200: SubscriptionWithSecretSerializer, **error_responses(404, e404=NOT_FOUND)},
        tags=[WEBHOOKS],
    )
    def get(self, request, id: int):
        return Response(SubscriptionWithSecretSerializer(subscription_of(request, id)).data)

    @extend_schema(
        operation_id="webhooks_update",
        summary="Change a subscription, pause or resume it",
        description="Only the fields sent change. `is_active: true` resumes a paused subscription. "
        "Needs `webhooks:manage`.",
        parameters=[ID],
        request=SubscriptionUpdateSerializer,
        examples=[OpenApiExample("Resume", value={"is_active": True}, request_only=True)],
        responses={
            200: SubscriptionSerializer,
            **error_responses(400, 404, e400="Invalid input or a refused URL (`invalid`).", e404=NOT_FOUND),
        },
        tags=[WEBHOOKS],
    )
    def patch(self, request, id: int):
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = subscription_of(request, id)
        subscription = services.subscription_update(
            subscription=subscription, changes=dict(serializer.validated_data), actor=Actor.from_request(request)
        )
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete a subscription and its deliveries",
        description="Needs `webhooks:manage`.",
        parameters=[ID],
        responses={204: None, **error_responses(404, e404=NOT_FOUND)},
        tags=[WEBHOOKS],
    )
    def delete(self, request, id: int):
        subscription_of(request, id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionPingView(APIView):
    required_scopes = {"POST": MANAGE}
    staff_permissions = {"POST": "webhooks.change_subscription"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="webhooks_ping",
        summary="Send a test ping",
        description="A `ping` event to this subscription alone, sent after the answer (watch its delivery "
        "in the deliveries list). Needs `webhooks:manage`.",
        parameters=[ID],
        request=None,
        responses={202: PingResultSerializer, **error_responses(404, e404=NOT_FOUND)},
        tags=[WEBHOOKS],
    )
    def post(self, request, id: int):
        event = services.subscription_ping(subscription_of(request, id))
        delivery = event.deliveries.get()
        return Response({"event_id": str(event.id), "delivery": DeliverySerializer(delivery).data}, status=202)


class DeliveryListView(generics.ListAPIView):
    required_scopes = {"GET": MANAGE}
    staff_permissions = {"GET": "webhooks.view_delivery"}
    serializer_class = DeliverySerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        subscription = subscription_of(self.request, self.kwargs["id"])
        return subscription.deliveries.select_related("event").order_by("-created_at", "-id")

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="Recent deliveries of a subscription",
        description="Newest first: status, attempts, the receiver's last response code and error. "
        "Needs `webhooks:manage`.",
        parameters=[ID],
        responses={200: DeliverySerializer(many=True), **error_responses(404, e404=NOT_FOUND)},
        tags=[WEBHOOKS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
