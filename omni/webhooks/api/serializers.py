from rest_framework import serializers

from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.webhooks.events import EVENT_TYPES
from omni.webhooks.models import Delivery, Subscription

EVENT_TYPE_CHOICES = list(EVENT_TYPES)


class SubscriptionInputSerializer(StrictInputSerializer):
    url = serializers.URLField(max_length=500, help_text="Where events are POSTed: https:// to a public address.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), allow_empty=False, max_length=len(EVENT_TYPES)
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    contact_email = serializers.EmailField(
        required=False, default="", allow_blank=True, help_text="Told by e-mail when the subscription is paused."
    )
    pause_after_hours = WholeNumberField(min_value=1, max_value=24 * 7, required=False)


class SubscriptionUpdateSerializer(SubscriptionInputSerializer):
    is_active = serializers.BooleanField(required=False, help_text="false pauses the subscription, true resumes it.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class SubscriptionSerializer(ModelSerializer):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "event_types",
            "description",
            "contact_email",
            "is_active",
            "paused_at",
            "paused_reason",
            "pause_after_hours",
            "failing_since",
            "created_at",
        ]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signs every delivery (HMAC-SHA256); keep it secret.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class DeliverySerializer(ModelSerializer):
    event_id = serializers.UUIDField(source="event.id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    object_type = serializers.CharField(source="event.object_type", read_only=True)
    object_id = serializers.CharField(source="event.object_id", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "object_type",
            "object_id",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


class PingResultSerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    delivery = DeliverySerializer()
