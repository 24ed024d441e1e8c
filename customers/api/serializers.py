"""Shapes of the customers API. They validate form only; the rules live in ``customers.services``."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.models import (
    Case,
    CaseMessage,
    Consent,
    ConsentPurpose,
    ContactChannel,
    Customer,
    Direction,
    Feedback,
    Gender,
    Identity,
    Interaction,
    InteractionKind,
    PaymentMethod,
)
from inventory.models import Location
from omni.core import dates
from omni.core.api.serializers import ModelSerializer, StrictInputSerializer, WholeNumberField
from omni.core.channels import Channel

MAX_TAGS = 50
MAX_EXTERNAL_IDS = 10


class LocationCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("A store's code."))
        super().__init__(slug_field="code", queryset=Location.objects.all(), **kwargs)


# --- Reading ----------------------------------------------------------------------------


class IdentitySerializer(ModelSerializer):
    class Meta:
        model = Identity
        fields = ["kind", "system", "value"]


class CustomerSerializer(ModelSerializer):
    preferred_store = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    identities = IdentitySerializer(many=True, read_only=True)
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "middle_name",
            "full_name",
            "birthday",
            "gender",
            "city",
            "preferred_store",
            "preferred_channel",
            "preferred_payment_method",
            "language",
            "time_zone",
            "tags",
            "notes",
            "acquisition_channel",
            "acquisition_campaign",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "created_channel",
            "identities",
            "merged_into",
            "merged_at",
            "anonymised_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InteractionSerializer(ModelSerializer):
    location = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    staff = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    summary = serializers.CharField(
        source="text",
        read_only=True,
        help_text="In the request's language (Accept-Language) when the system wrote it; as typed otherwise.",
    )
    event = serializers.CharField(
        read_only=True, help_text="The event code of an entry the system wrote (order.placed); empty for a contact."
    )
    params = serializers.JSONField(read_only=True, help_text="The event's parameters, for machines.")

    class Meta:
        model = Interaction
        fields = [
            "id",
            "occurred_at",
            "channel",
            "kind",
            "direction",
            "summary",
            "event",
            "params",
            "details",
            "location",
            "subject_type",
            "subject_id",
            "staff",
        ]
        read_only_fields = fields


class CaseMessageSerializer(ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CaseMessage
        fields = ["id", "created_at", "channel", "direction", "body", "author"]
        read_only_fields = fields


class CaseSerializer(ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    store = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    messages = CaseMessageSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "customer",
            "subject",
            "status",
            "channel",
            "store",
            "assignee",
            "created_at",
            "resolved_at",
            "messages",
        ]
        read_only_fields = fields


# --- Writing ----------------------------------------------------------------------------


class ProfileSerializer(StrictInputSerializer):
    """Profile fields a client may send; all optional."""

    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    middle_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    birthday = dates.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(Gender.choices, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    preferred_store = LocationCodeField(required=False, allow_null=True)
    preferred_channel = serializers.ChoiceField(ContactChannel.choices, required=False, allow_blank=True)
    preferred_payment_method = serializers.ChoiceField(PaymentMethod.choices, required=False, allow_blank=True)
    language = serializers.ChoiceField(
        settings.LANGUAGES, required=False, allow_blank=True, help_text=_("Messages are written in it.")
    )
    time_zone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=_("For example Asia/Yekaterinburg; for quiet hours.")
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_TAGS, required=False, help_text=_("Preferences.")
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    acquisition_channel = serializers.ChoiceField(Channel.choices, required=False, allow_blank=True)
    acquisition_campaign = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_medium = serializers.CharField(max_length=200, required=False, allow_blank=True)
    utm_campaign = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ExternalIdSerializer(StrictInputSerializer):
    system = serializers.CharField(max_length=32, help_text=_("Where the id comes from: shop, app, telegram..."))
    id = serializers.CharField(max_length=200)


class ConsentInputSerializer(StrictInputSerializer):
    purpose = serializers.ChoiceField(ConsentPurpose.choices)
    channel = serializers.ChoiceField(
        ContactChannel.choices, required=False, allow_blank=True, default="", help_text=_("Only for marketing.")
    )
    granted = serializers.BooleanField()


class IdentifySerializer(ProfileSerializer):
    phone = serializers.CharField(max_length=64, required=False, help_text=_("In any form: 8 (916) 123-45-67."))
    email = serializers.CharField(max_length=254, required=False)
    card = serializers.CharField(max_length=64, required=False, help_text=_("A loyalty card number."))
    external_ids = ExternalIdSerializer(many=True, required=False, max_length=MAX_EXTERNAL_IDS)
    channel = serializers.ChoiceField(
        Channel.choices, required=False, default=Channel.SYSTEM, help_text=_("Where the customer is now.")
    )
    store = LocationCodeField(required=False, allow_null=True, help_text=_("The store, for a visit."))
    consents = ConsentInputSerializer(many=True, required=False)


class IdentifyResultSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    created = serializers.BooleanField()
    matched = IdentitySerializer(many=True, help_text=_("The known identities that matched."))
    attached = IdentitySerializer(many=True, help_text=_("Identities added to the customer by this call."))
    conflicts = serializers.DictField(
        help_text=_("Fields sent with a value other than the known one: {field: {known, given}}; not changed.")
    )
    duplicates = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("Other customers some identities belong to, listed for review.")
    )


class LookupQuerySerializer(StrictInputSerializer):
    phone = serializers.CharField(required=False)
    email = serializers.CharField(required=False)
    card = serializers.CharField(required=False)
    external_id = serializers.CharField(required=False)
    system = serializers.CharField(required=False, help_text=_("The system of external_id."))

    def validate(self, attrs):
        given = [name for name in ("phone", "email", "card", "external_id") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Give exactly one of phone, email, card, external_id.")]}
            )
        if given[0] == "external_id" and not attrs.get("system"):
            raise serializers.ValidationError({"system": [_("external_id needs its system.")]})
        return attrs


class InteractionInputSerializer(StrictInputSerializer):
    channel = serializers.ChoiceField(Channel.choices)
    kind = serializers.ChoiceField(InteractionKind.choices)
    direction = serializers.ChoiceField(Direction.choices, required=False, default=Direction.INBOUND)
    summary = serializers.CharField(max_length=255)
    details = serializers.CharField(required=False, allow_blank=True, default="")
    occurred_at = dates.DateTimeField(required=False, allow_null=True, default=None)
    location = LocationCodeField(required=False, allow_null=True, default=None)
    subject_type = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    subject_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class CaseInputSerializer(StrictInputSerializer):
    subject = serializers.CharField(max_length=255)
    channel = serializers.ChoiceField(Channel.choices)
    body = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("The first message."))
    store = LocationCodeField(required=False, allow_null=True, default=None)


class CaseMessageInputSerializer(StrictInputSerializer):
    body = serializers.CharField()
    channel = serializers.ChoiceField(Channel.choices)
    direction = serializers.ChoiceField(Direction.choices, required=False, default=Direction.INBOUND)


class ConsentsInputSerializer(StrictInputSerializer):
    channel = serializers.ChoiceField(Channel.choices, help_text=_("Where the customer said it."))
    consents = ConsentInputSerializer(many=True, allow_empty=False)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ConsentSerializer(ModelSerializer):
    class Meta:
        model = Consent
        fields = ["purpose", "channel", "granted", "changed_at"]
        read_only_fields = fields


class FeedbackInputSerializer(StrictInputSerializer):
    score = WholeNumberField(min_value=0, max_value=10)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(Channel.choices)
    store = LocationCodeField(required=False, allow_null=True, default=None)
    order = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class FeedbackSerializer(ModelSerializer):
    store = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    order = serializers.CharField(source="order_ref", read_only=True)
    case = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)

    class Meta:
        model = Feedback
        fields = ["id", "score", "comment", "channel", "store", "order", "case", "created_at"]
        read_only_fields = fields
