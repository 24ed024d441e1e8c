"""Query-string filters of the orders API list."""

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from inventory.errors import UnknownLocation
from inventory.models import Location
from omni.core import dates
from omni.core.channels import SALES_CHANNEL_CHOICES
from orders.models import Fulfilment, Order, OrderStatus


class OrderFilter(filters.FilterSet):
    customer = filters.NumberFilter(
        field_name="customer_id", min_value=1, max_value=2**63 - 1, help_text=_("The customer's id.")
    )
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices, help_text=_("A status; repeatable."))
    channel = filters.MultipleChoiceFilter(choices=SALES_CHANNEL_CHOICES, help_text=_("A channel; repeatable."))
    fulfilment = filters.ChoiceFilter(
        choices=Fulfilment.choices, help_text=_("Delivery, click-and-collect or in store.")
    )
    location = filters.CharFilter(
        method="filter_location", help_text=_("Location code: the pickup store, the store of a sale, or the shipper.")
    )
    created_from = dates.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text=_("Placed on or after this date (YYYY-MM-DD).")
    )
    created_to = dates.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text=_("Placed on or before this date (YYYY-MM-DD).")
    )

    class Meta:
        model = Order
        fields = []

    def filter_location(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        location = Location.objects.filter(code=value.strip()).first()
        if location is None:
            raise UnknownLocation(
                gettext("Unknown location code %(code)s.") % {"code": value}, details={"locations": [value]}
            )
        return queryset.filter(location=location)
