"""Query-string filters of the customers API lists."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from customers.identities import identity_key
from customers.models import Customer, Direction, IdentityKind, Interaction, InteractionKind
from omni.core import dates
from omni.core.channels import Channel


class CustomerFilter(filters.FilterSet):
    city = filters.CharFilter(field_name="city", lookup_expr="iexact", help_text=_("City, case-insensitive."))
    created_channel = filters.ChoiceFilter(choices=Channel.choices, help_text=_("Where the profile was created."))
    preferred_store = filters.CharFilter(field_name="preferred_store__code", help_text=_("A store's code."))
    phone = filters.CharFilter(method="filter_identity", help_text=_("A phone in any form."))
    email = filters.CharFilter(method="filter_identity", help_text=_("An e-mail, in any letter case."))
    card = filters.CharFilter(method="filter_identity", help_text=_("A loyalty card number."))

    class Meta:
        model = Customer
        fields = []

    def filter_identity(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        kind = {"phone": IdentityKind.PHONE, "email": IdentityKind.EMAIL, "card": IdentityKind.CARD}[name]
        key = identity_key(kind, value, field=name)  # an invalid value is a 400 naming the field
        return queryset.filter(identities__kind=key.kind, identities__system="", identities__value=key.value)


class InteractionFilter(filters.FilterSet):
    channel = filters.ChoiceFilter(choices=Channel.choices, help_text=_("Only contacts through this channel."))
    kind = filters.ChoiceFilter(choices=InteractionKind.choices, help_text=_("Only contacts of this kind."))
    direction = filters.ChoiceFilter(choices=Direction.choices, help_text=_("Only contacts in this direction."))
    since = dates.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", help_text=_("At or after (ISO 8601)."))
    until = dates.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text=_("Before (ISO 8601)."))

    class Meta:
        model = Interaction
        fields = []
