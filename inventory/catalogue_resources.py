"""Import and export of the catalogue with variants: one row per variant (a product), with its model's
code and name, one ``attr:<code>`` column per attribute and its image URLs. All or nothing, as
every import of ``inventory.resources``; a bad cell is named by row and column.

A row without ``model_code`` is a product without a model (one it already has is kept). An empty
``attr:<code>`` cell removes that value; a column left out of the file leaves the values as they are.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import widgets
from import_export.fields import Field

from inventory.forms import domain_error_messages, normalize_cell
from inventory.models import Attribute, AttributeValue, Barcode, Product, ProductModel
from inventory.resources import ProductResource
from inventory.services import (
    ImageData,
    ProductData,
    ProductModelData,
    VariantData,
    images_set,
    product_model_upsert,
    product_upsert,
    variant_attributes_set,
)
from omni.core.errors import DomainError

ATTRIBUTE_PREFIX = "attr:"


def _cell(row, column: str) -> str:
    return normalize_cell(row.get(column))


class AttributeField(Field):
    """The value of one attribute of the variant, from its prefetched values."""

    def __init__(self, code: str):
        super().__init__(attribute=None, column_name=f"{ATTRIBUTE_PREFIX}{code}", readonly=True)
        self.code = code

    def get_value(self, obj):
        if obj is None:
            return ""
        return next((v.value for v in obj.attribute_values.all() if v.attribute.code == self.code), "")


class ImageListWidget(widgets.Widget):
    """Image URLs in one cell, separated by spaces, in display order."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else " ".join(image.url for image in value.all())


class CatalogueResource(ProductResource):
    model_code = Field(attribute="model__code", column_name="model_code")
    model_name = Field(attribute="model__name", column_name="model_name")
    images = Field(attribute="images", column_name="images", widget=ImageListWidget())

    optional_columns = (*ProductResource.optional_columns, "model_code", "model_name", "images")

    class Meta(ProductResource.Meta):
        name = _("Catalogue with variants")
        fields = (*ProductResource.Meta.fields, "model_code", "model_name", "images")
        export_order = fields

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attribute_codes = list(Attribute.objects.values_list("code", flat=True))
        for code in self.attribute_codes:
            self.fields[f"{ATTRIBUTE_PREFIX}{code}"] = AttributeField(code)

    def get_export_order(self):
        return (*self._meta.export_order, *(f"{ATTRIBUTE_PREFIX}{code}" for code in self.attribute_codes))

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("category", "model").prefetch_related(
            Prefetch("barcodes", queryset=Barcode.objects.order_by("code")),
            Prefetch("attribute_values", queryset=AttributeValue.objects.select_related("attribute")),
            "images",
        )

    def columns_problem(self, headers: list[str]) -> str | None:
        unknown = [h[len(ATTRIBUTE_PREFIX) :] for h in headers if h.startswith(ATTRIBUTE_PREFIX)]
        unknown = [code for code in unknown if code not in self.attribute_codes]
        if unknown:
            return gettext("The file names attributes that do not exist: %(codes)s.") % {"codes": ", ".join(unknown)}
        return super().columns_problem([h for h in headers if not h.startswith(ATTRIBUTE_PREFIX)])

    def save_product(self, data: ProductData, row) -> tuple[Product, bool]:
        attributes = self.row_attributes(row)
        images = self.row_images(row)
        model_code = _cell(row, "model_code")
        try:
            if not model_code:
                product, created = product_upsert(data=data, actor=self.actor)
                if attributes is not None:
                    variant_attributes_set(product=product, values=attributes)
                if images is not None:
                    images_set(owner=product, images=images)
                return product, created
            created = not Product.objects.filter(sku=data.sku).exists()
            product_model_upsert(data=self.model_data(row, data, attributes, images), actor=self.actor)
        except DomainError as exc:
            raise self.column_error(exc)
        return Product.objects.get(sku=data.sku), created

    def row_attributes(self, row) -> dict[str, str] | None:
        columns = [c for c in row if str(c).startswith(ATTRIBUTE_PREFIX)]
        if not columns:
            return None
        values = {c[len(ATTRIBUTE_PREFIX) :]: _cell(row, c) for c in columns}
        return {code: value for code, value in values.items() if value}

    def row_images(self, row) -> tuple[ImageData, ...] | None:
        if "images" not in row:
            return None
        return tuple(ImageData(url) for url in _cell(row, "images").split())

    def model_data(self, row, data: ProductData, attributes, images) -> ProductModelData:
        code = _cell(row, "model_code")
        existing = ProductModel.objects.filter(code=code).first()
        name = _cell(row, "model_name") or (existing.name if existing else data.name)
        return ProductModelData(
            code=code,
            name=name,
            description=existing.description if existing else "",
            category_code=data.category_code,
            is_active=existing.is_active if existing else True,
            variants=(VariantData(product=data, attributes=attributes, images=images),),
        )

    @staticmethod
    def column_error(exc: DomainError) -> ValidationError:
        """A refusal named by its column: ``attr:<code>`` for an attribute's value, ``model_code``."""
        if exc.code == "invalid_attribute_value":
            return ValidationError({f"{ATTRIBUTE_PREFIX}{exc.details['attribute']}": domain_error_messages(exc)})
        fields = exc.details.get("fields")
        if exc.code == "invalid" and isinstance(fields, dict) and set(fields) == {"code"}:
            return ValidationError({"model_code": [str(text) for text in fields["code"]]})
        return exc
