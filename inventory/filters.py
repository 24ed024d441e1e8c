"""Query-string filters of the inventory API lists."""

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from inventory.errors import UnknownCategory, UnknownLocation
from inventory.models import Barcode, Category, Location, LocationKind, Product, Transfer, TransferStatus
from inventory.selectors import category_subtree_ids, products_in_stock_at


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not a silently ignored filter."""

    default_error_messages = {"invalid": _("Enter true or false.")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)  # django-filter's BooleanWidget turns "maybe" into None
        super().__init__(*args, **kwargs)


class ProductFilter(filters.FilterSet):
    category = filters.CharFilter(
        method="filter_category",
        help_text=_("Category code; products of every category below it are included."),
    )
    search = filters.CharFilter(
        method="filter_search",
        help_text=_("Part of the SKU or of the name (case-insensitive), or a whole barcode."),
    )
    active = StrictBooleanFilter(field_name="is_active", help_text=_("true: active products only; false: inactive."))
    in_stock_at = filters.CharFilter(
        method="filter_in_stock_at",
        help_text=_("Location code; only products with available units there (on hand minus reserved)."),
    )

    class Meta:
        model = Product
        fields = []

    def filter_category(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        category = Category.objects.filter(code=value.strip()).first()
        if category is None:
            raise UnknownCategory(
                gettext("Unknown category code %(code)s.") % {"code": value}, details={"category": value}
            )
        return queryset.filter(category_id__in=category_subtree_ids(category))

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        term = value.strip()
        if not term:
            return queryset
        by_barcode = Barcode.objects.filter(code=term).values("product_id")
        return queryset.filter(Q(sku__icontains=term) | Q(name__icontains=term) | Q(pk__in=by_barcode))

    def filter_in_stock_at(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        location = Location.objects.filter(code=value.strip()).first()
        if location is None:
            raise UnknownLocation(
                gettext("Unknown location code %(code)s.") % {"code": value}, details={"locations": [value]}
            )
        return products_in_stock_at(queryset, location)


class LocationFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=LocationKind.choices, help_text=_("Store or warehouse."))
    city = filters.CharFilter(field_name="city", lookup_expr="iexact", help_text=_("City, case-insensitive."))
    click_and_collect = StrictBooleanFilter(
        field_name="is_pickup_point", help_text=_("true: only locations that hand over click-and-collect orders.")
    )
    active = StrictBooleanFilter(
        field_name="is_active", help_text=_("Active locations are listed by default; false lists the inactive ones.")
    )

    class Meta:
        model = Location
        fields = []

    def filter_queryset(self, queryset: QuerySet[Location]) -> QuerySet[Location]:
        if self.form.cleaned_data.get("active") is None:
            queryset = queryset.filter(is_active=True)
        return super().filter_queryset(queryset)


class TransferFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=TransferStatus.choices, help_text=_("Only transfers in this status."))
    location = filters.CharFilter(
        method="filter_location", help_text=_("Location code; transfers it sends or receives.")
    )

    class Meta:
        model = Transfer
        fields = []

    def filter_location(self, queryset, name: str, value: str):
        location = Location.objects.filter(code=value.strip()).first()
        if location is None:
            raise UnknownLocation(
                gettext("Unknown location code %(code)s.") % {"code": value}, details={"locations": [value]}
            )
        return queryset.filter(Q(source=location) | Q(destination=location))
