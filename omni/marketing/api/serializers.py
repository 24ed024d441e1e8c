from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.models import MessageChannel, Segment
from loyalty.models import PromoKind
from omni.core import dates
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.core.channels import SALES_CHANNEL_CHOICES
from omni.marketing.models import Campaign, Cart
from omni.marketing.services import MAX_CONVERSION_DAYS

MAX_TEXT = 5000


class CampaignSerializer(ModelSerializer):
    segment = serializers.PrimaryKeyRelatedField(read_only=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=MessageChannel.choices))

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "segment",
            "subject_ru",
            "subject_en",
            "text_ru",
            "text_en",
            "channels",
            "send_at",
            "conversion_days",
            "promo_kind",
            "promo_value",
            "bonus_points",
            "status",
            "control_percent",
            "launched_at",
            "started_at",
            "finished_at",
            "total",
            "processed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CampaignInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), help_text=_("The segment's id."))
    subject_ru = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    subject_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    text_ru = serializers.CharField(
        max_length=MAX_TEXT,
        help_text=_(
            "A template with {{ name }}, {{ balance }}, {{ expiring_points }}, {{ expiring_date }}, "
            "{{ promo_code }} and {{ unsubscribe_url }}."
        ),
    )
    text_en = serializers.CharField(max_length=MAX_TEXT)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=MessageChannel.choices), min_length=1, max_length=4
    )
    send_at = dates.DateTimeField(required=False, allow_null=True, default=None, help_text=_("Omitted: when sent."))
    conversion_days = WholeNumberField(min_value=1, max_value=MAX_CONVERSION_DAYS, required=False, default=7)
    promo_kind = serializers.ChoiceField(choices=PromoKind.choices, required=False, allow_blank=True, default="")
    promo_value = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True, default=None
    )
    bonus_points = WholeNumberField(min_value=0, max_value=10**9, required=False, default=0)


class TestSendSerializer(StrictInputSerializer):
    email = serializers.EmailField(required=False, help_text=_("Omitted: the signed-in staff member's e-mail."))
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="ru")


class PreviewSerializer(serializers.Serializer):
    members = serializers.IntegerField()
    by_channel = serializers.DictField(child=serializers.IntegerField(), help_text=_("Recipients per channel."))
    skipped = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Members skipped per reason: no_consent, no_address, capped.")
    )
    held = serializers.IntegerField(help_text=_("Recipients in their quiet hours now: sent in their morning."))
    control = serializers.IntegerField(help_text=_("Members held out as the control group."))
    samples = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text=_("The message with example values, per language: subject and text."),
    )


class ResultsSerializer(serializers.Serializer):
    members = serializers.IntegerField()
    processed = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text=_("Handed over to the provider."))
    failed = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.IntegerField())
    held = serializers.IntegerField()
    control = serializers.IntegerField()
    converted = serializers.IntegerField(help_text=_("Recipients who bought within the window."))
    control_converted = serializers.IntegerField()
    conversion_percent = serializers.FloatField(allow_null=True)
    control_conversion_percent = serializers.FloatField(allow_null=True)
    lift_points = serializers.FloatField(
        allow_null=True, help_text=_("Conversion minus the control group's, in percentage points.")
    )


class CartReportLineSerializer(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = WholeNumberField(min_value=1, max_value=10_000)


class CartInputSerializer(StrictInputSerializer):
    channel = serializers.ChoiceField(choices=SALES_CHANNEL_CHOICES, help_text=_("Where the cart is: site or app."))
    cart_id = serializers.CharField(max_length=64, help_text=_("The shop's own id of the cart."))
    customer_id = WholeNumberField(
        min_value=1, required=False, allow_null=True, default=None, help_text=_("Omitted while the cart is anonymous.")
    )
    lines = CartReportLineSerializer(
        many=True, max_length=200, help_text=_("The whole cart as it is now; empty: emptied.")
    )
    updated_at = dates.DateTimeField(help_text=_("When the customer last changed the cart."))


class CartSerializer(ModelSerializer):
    cart_id = serializers.CharField(source="external_id")
    customer_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Cart
        fields = [
            "id",
            "channel",
            "cart_id",
            "customer_id",
            "lines",
            "changed_at",
            "status",
            "reminded_at",
            "recovered_order",
            "recovered_total",
        ]
        read_only_fields = fields


class InboundMessageSerializer(StrictInputSerializer):
    channel = serializers.ChoiceField(
        choices=[MessageChannel.SMS, MessageChannel.MESSENGER],
        help_text=_("Where the customer wrote: sms or messenger."),
    )
    sender = serializers.CharField(
        max_length=128, help_text=_("The sender's phone (SMS) or their user id in the messenger.")
    )
    system = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The messenger (telegram, whatsapp, viber); not for SMS."),
    )
    text = serializers.CharField(max_length=2000, help_text=_("The message as the customer wrote it."))
    received_at = dates.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("When it arrived; now when omitted.")
    )


class InboundOutcomeSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    stop_word = serializers.BooleanField(help_text=_("The text was a stop word."))
    unsubscribed = serializers.BooleanField(
        help_text=_("The channel's marketing consent is recorded as withdrawn now (false: it already was).")
    )
    answered = serializers.CharField(
        help_text=_("What the reply answered: campaign:<id>, cart:<id>, or empty when no recent marketing message.")
    )
