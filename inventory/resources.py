"""Import and export of the catalogue and of stock, with django-import-export.

An import is all or nothing and goes through the services: a file with any bad row imports
nothing, and each error names the row and the reason. Rows are numbered as in the file, the way a
spreadsheet shows them: the header is row 1, the first product or stock line under it row 2, and a
blank line of a CSV file counts as a row.

django-import-export does not give that by default, so ``AtomicImportMixin`` makes it so:

- the library rolls back a confirmed import only on *errors*; rows that fail validation are
  skipped and the rest is committed unless ``rollback_on_validation_errors`` is passed, which its
  admin confirm step does not do. The mixin always imports in a transaction and always rolls back
  on invalid rows, whoever calls ``import_data``;
- the library ignores a missing column (the field is simply not set). The mixin checks the
  columns before reading any row;
- a service's refusal (``DomainError``) becomes a validation error of the row it concerns;
- the library numbers the rows under the header from 1; the mixin reports the file's row.

The dry run of the admin's first step runs the same code in a transaction that is always rolled
back, so it shows the same errors and changes nothing.
"""

import csv
import io
import logging
from collections import defaultdict

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from inventory.forms import (
    domain_error_messages,
    normalize_cell,
    parse_bool,
    parse_decimal,
    parse_quantity,
    stock_line_message,
)
from inventory.models import Barcode, Location, Product, Stock, StockDocumentKind, StockMovement, Unit
from inventory.selectors import filter_for_user_locations, products_by_code
from inventory.services import ProductData, ProductQuantity, product_upsert, stock_documents_record
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import DomainError
from omni.core.validators import is_identifier_text, validate_identifier, validate_storable_text

logger = logging.getLogger(__name__)


class SpreadsheetCSV(base_formats.CSV):
    """CSV as spreadsheets save it: separated by commas, or by semicolons (Excel in Russian) or tabs.

    The separator is the one the header line uses most. Unlike tablib, a blank line is kept as an
    empty row (which the import skips), so that rows keep the numbers they have in the file.
    """

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes) and self.encoding:
            in_stream = in_stream.decode(self.encoding)
        header = in_stream.split("\n", 1)[0]
        kwargs.setdefault("delimiter", max(",;\t", key=header.count))
        rows = csv.reader(io.StringIO(in_stream, newline=""), **kwargs)
        dataset = tablib.Dataset(headers=next(rows, None))
        for row in rows:
            # Short rows are padded as tablib pads them; a longer one is refused by the dataset.
            dataset.append(row + [""] * (dataset.width - len(row)) if len(row) < dataset.width else row)
        return dataset


class ImportFileError(Exception):
    """A problem with the file as a whole (its columns, a document that cannot be recorded)."""


def import_error_messages(result) -> list[str]:
    """Every error of an import result as a sentence that names the row and the reason."""
    messages = [str(error.error) for error in result.base_errors]
    for row in result.invalid_rows:
        for column, errors in row.error_dict.items():
            for reason in errors:
                if column == NON_FIELD_ERRORS:
                    messages.append(gettext("Row %(row)s: %(reason)s") % {"row": row.number, "reason": reason})
                else:
                    messages.append(
                        gettext("Row %(row)s, column %(column)s: %(reason)s")
                        % {"row": row.number, "column": column, "reason": reason}
                    )
    for row in result.error_rows:
        messages += [
            gettext("Row %(row)s could not be imported because of an unexpected error.") % {"row": row.number}
            for _error in row.errors
        ]
    return messages


#: The file's row of the library's row 1 (the first under the header).
FIRST_ROW = 2


def _cell(row, column: str) -> str:
    return normalize_cell(row.get(column))


def _identifier_errors(code: str) -> list[str]:
    """Why ``code`` cannot be a SKU, barcode or location code (it holds an invisible character)."""
    try:
        validate_identifier(code)
    except ValidationError as exc:
        return exc.messages
    return []


def _is_blank(row) -> bool:
    return all(normalize_cell(value) == "" for value in row.values())


class AtomicImportMixin:
    """All-or-nothing imports with their columns checked first (see the module docstring)."""

    #: Columns every file must have.
    required_columns: tuple[str, ...] = ()
    #: Columns a file may have; with ``ignore_unknown_columns`` off, any other column is an error.
    optional_columns: tuple[str, ...] = ()
    ignore_unknown_columns = False

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def import_data_inner(self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs):
        dataset.headers = [normalize_cell(header).lower() for header in dataset.headers or []]
        problem = self.columns_problem(dataset.headers)
        if problem is None:
            result = super().import_data_inner(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )
            for row in [*result.invalid_rows, *result.error_rows]:
                row.number += FIRST_ROW - 1
            return result
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        self.handle_import_error(result, ImportFileError(problem), raise_errors)
        return result

    def columns_problem(self, headers: list[str]) -> str | None:
        present = [header for header in headers if header]
        missing = [column for column in self.required_columns if column not in present]
        if missing:
            return gettext("The file has no column %(missing)s. It needs the columns %(required)s.") % {
                "missing": ", ".join(missing),
                "required": ", ".join(self.required_columns),
            }
        known = set(self.required_columns) | set(self.optional_columns)
        unknown = [header for header in present if header not in known]
        if unknown and not self.ignore_unknown_columns:
            return gettext("The file has columns this import does not know: %(unknown)s. Known columns: %(known)s.") % {
                "unknown": ", ".join(unknown),
                "known": ", ".join([*self.required_columns, *self.optional_columns]),
            }
        duplicated = sorted({header for header in present if present.count(header) > 1})
        if duplicated:
            return gettext("The file has the column %(columns)s more than once.") % {"columns": ", ".join(duplicated)}
        return None

    def unstorable_cells(self, row) -> ValidationError | None:
        """Cells holding what no text can hold (NUL), named by column before the row is read."""
        errors: dict[str, list[str]] = {}
        for column in (*self.required_columns, *self.optional_columns):
            try:
                validate_storable_text(_cell(row, column))
            except ValidationError as exc:
                errors[column] = exc.messages
        return ValidationError(errors) if errors else None

    def import_row(self, row, instance_loader, **kwargs):
        """Whatever the import: a blank row is skipped, a row with a cell no text can hold is refused;
        the others are read by ``import_readable_row``."""
        row_result = self.get_row_result_class()()
        if _is_blank(row):
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return row_result
        if error := self.unstorable_cells(row):
            return self.invalid(row_result, error)
        return self.import_readable_row(row, row_result, kwargs["row_number"])

    def import_readable_row(self, row, row_result: RowResult, number: int) -> RowResult:
        raise NotImplementedError

    def invalid(self, row_result: RowResult, error: ValidationError) -> RowResult:
        row_result.import_type = RowResult.IMPORT_TYPE_INVALID
        row_result.validation_error = error
        return row_result

    def unexpected(self, row_result: RowResult, exc: Exception, row, number: int) -> RowResult:
        # As the library does: an error row makes the whole import roll back.
        logger.exception("Row %s of an import failed unexpectedly", number + FIRST_ROW - 1)
        row_result.import_type = RowResult.IMPORT_TYPE_ERROR
        row_result.errors.append(self.get_error_result_class()(exc, row=row, number=number))
        return row_result


# --- Products -----------------------------------------------------------------------------


class BarcodeListWidget(widgets.Widget):
    """A product's barcodes in one cell, separated by spaces."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return " ".join(barcode.code for barcode in value.all())


def _split_barcodes(text: str) -> tuple[str, ...]:
    return tuple(code for code in text.replace(",", " ").replace(";", " ").split() if code)


# A service's error code -> the column it concerns, to show it next to the right cell.
_PRODUCT_ERROR_COLUMNS = {"unknown_category": "category", "invalid_barcode": "barcodes", "barcode_taken": "barcodes"}
# ProductData's field -> the file's column, where their names differ.
_PRODUCT_DATA_COLUMNS = {"category_code": "category"}


def _product_error(exc: DomainError) -> ValidationError:
    """``product_upsert``'s refusal as a validation error of the column it concerns."""
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and fields:
        return ValidationError(
            {_PRODUCT_DATA_COLUMNS.get(field, field): [str(text) for text in texts] for field, texts in fields.items()}
        )
    return ValidationError({_PRODUCT_ERROR_COLUMNS.get(exc.code, NON_FIELD_ERRORS): domain_error_messages(exc)})


class ProductResource(AtomicImportMixin, resources.ModelResource):
    """Products by SKU. Each row is created or updated with ``product_upsert``.

    A column left out of the file keeps what the product has (or the default for a new product);
    a column that is there sets the value, so an empty ``barcodes`` cell removes the barcodes and
    an empty ``category`` cell the category.
    """

    sku = Field(attribute="sku", column_name="sku")
    name = Field(attribute="name", column_name="name")
    description = Field(attribute="description", column_name="description")
    category = Field(attribute="category__code", column_name="category")
    unit = Field(attribute="unit", column_name="unit")
    price = Field(attribute="price", column_name="price", widget=widgets.DecimalWidget())
    barcodes = Field(attribute="barcodes", column_name="barcodes", widget=BarcodeListWidget())
    is_active = Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget())

    required_columns = ("sku", "name", "price")
    optional_columns = ("description", "category", "unit", "barcodes", "is_active")

    class Meta:
        model = Product
        name = _("Products")
        fields = ("sku", "name", "description", "category", "unit", "price", "barcodes", "is_active")
        export_order = fields
        import_id_fields = ("sku",)
        report_skipped = False

    def __init__(self, *, actor: Actor = SYSTEM, **kwargs):
        super().__init__()
        self.actor = actor

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("category").prefetch_related(
            Prefetch("barcodes", queryset=Barcode.objects.order_by("code"))
        )

    def import_readable_row(self, row, row_result: RowResult, number: int) -> RowResult:
        try:
            sku = _cell(row, "sku")
            known = sku and is_identifier_text(sku)  # else product_upsert names the character
            original = Product.objects.select_related("category").filter(sku=sku).first() if known else None
            data = self.product_data(row, original)
            diff = self.get_diff_class()(self, original, original is None)
            product, created = self.save_product(data, row)
        except ValidationError as exc:
            return self.invalid(row_result, exc)
        except DomainError as exc:
            return self.invalid(row_result, _product_error(exc))
        except Exception as exc:
            return self.unexpected(row_result, exc, row, number)
        row_result.import_type = RowResult.IMPORT_TYPE_NEW if created else RowResult.IMPORT_TYPE_UPDATE
        row_result.add_instance_info(product)
        row_result.instance = product
        diff.compare_with(self, product)
        row_result.diff = diff.as_html()
        return row_result

    def save_product(self, data: ProductData, row) -> tuple[Product, bool]:
        return product_upsert(data=data, actor=self.actor)

    def product_data(self, row, original: Product | None) -> ProductData:
        """The row as ``ProductData``; a ValidationError names every cell that cannot be read."""
        errors: dict[str, list[str]] = {}
        sku, name = _cell(row, "sku"), _cell(row, "name")
        if not sku:
            errors["sku"] = [gettext("The SKU is missing.")]
        if not name:
            errors["name"] = [gettext("The name is missing.")]
        price = None
        if not _cell(row, "price"):
            errors["price"] = [gettext("The price is missing.")]
        else:
            try:
                price = parse_decimal(row["price"])
            except ValidationError as exc:
                errors["price"] = exc.messages

        def given(column: str, current, default):
            """The cell when the file has the column, else what the product has now."""
            if column in row:
                return _cell(row, column)
            return current if original is not None else default

        description = given("description", original and original.description, "")
        category = given("category", original and original.category and original.category.code, "") or None
        unit = given("unit", original and original.unit, Unit.PIECE) or (original.unit if original else Unit.PIECE)
        barcodes = _split_barcodes(_cell(row, "barcodes")) if "barcodes" in row else None
        is_active = original.is_active if original is not None else True
        if _cell(row, "is_active"):
            try:
                is_active = parse_bool(row["is_active"])
            except ValidationError as exc:
                errors["is_active"] = exc.messages
        if errors:
            raise ValidationError(errors)
        return ProductData(
            sku=sku,
            name=name,
            price=price,
            description=description,
            category_code=category,
            unit=unit,
            is_active=is_active,
            barcodes=barcodes,
        )


# --- Stock --------------------------------------------------------------------------------


class StockImportResource(AtomicImportMixin, resources.Resource):
    """Rows of (location, sku, quantity) recorded as one receipt or count per location.

    Rows are read and checked one by one; when every row is good, ``stock_documents_record``
    records the documents in one transaction. ``locations`` are the locations the user may
    record stock at; a row naming another location is refused.
    """

    location = Field(column_name="location")
    sku = Field(column_name="sku")
    quantity = Field(column_name="quantity")

    required_columns = ("location", "sku", "quantity")
    # The rest of a stock export (name, on_hand...) may stay in the file; only these three count.
    ignore_unknown_columns = True

    class Meta:
        name = _("Stock quantities")
        instance_loader_class = BaseInstanceLoader
        report_skipped = False

    def __init__(
        self,
        *,
        mode: str = StockDocumentKind.RECEIPT,
        number: str = "",
        note: str = "",
        actor: Actor = SYSTEM,
        locations=None,
        **kwargs,
    ):
        super().__init__()
        if mode not in (StockDocumentKind.RECEIPT, StockDocumentKind.COUNT):
            raise ValueError(f"A stock import is a receipt or a count, not {mode!r}.")
        self.mode, self.number, self.note, self.actor = mode, number, note, actor
        self.locations = Location.objects.all() if locations is None else locations
        self.documents = []

    @classmethod
    def get_display_name(cls):
        return cls._meta.name

    def get_diff_headers(self):
        return ["location", "sku", "quantity", gettext("on hand before"), gettext("on hand after")]

    def before_import(self, dataset, **kwargs):
        self.documents = []
        self._lines: dict[Location, list[ProductQuantity]] = defaultdict(list)
        self._row_numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._rows: dict[int, dict] = {}
        self._row_results: dict[int, RowResult] = {}
        codes = {normalize_cell(value) for value in dataset["location"]}
        codes = {code for code in codes if is_identifier_text(code)}  # parse() names the others' character
        self._known_locations = {location.code: location for location in self.locations.filter(code__in=codes)}
        self._products = products_by_code(normalize_cell(value) for value in dataset["sku"])

    def import_readable_row(self, row, row_result: RowResult, number: int) -> RowResult:
        try:
            location, product, quantity = self.parse(row)
        except ValidationError as exc:
            return self.invalid(row_result, exc)
        except Exception as exc:
            return self.unexpected(row_result, exc, row, number)
        self._lines[location].append(ProductQuantity(product.pk, quantity))
        self._row_numbers[(location.code, product.sku)].append(number)
        self._rows[number] = row
        self._row_results[number] = row_result
        row_result.import_type = RowResult.IMPORT_TYPE_UPDATE
        row_result.diff = [location.code, product.sku, quantity, "", ""]
        return row_result

    def parse(self, row) -> tuple[Location, Product, int]:
        errors: dict[str, list[str]] = {}
        code, sku = _cell(row, "location"), _cell(row, "sku")
        location, product = self._known_locations.get(code), self._products.get(sku)
        if not code:
            errors["location"] = [gettext("The location is missing.")]
        elif not is_identifier_text(code):
            errors["location"] = _identifier_errors(code)
        elif location is None:
            if Location.objects.filter(code=code).exists():
                errors["location"] = [gettext("You cannot record stock at %(code)s.") % {"code": code}]
            else:
                errors["location"] = [gettext("No location has the code %(code)s.") % {"code": code}]
        if not sku:
            errors["sku"] = [gettext("The SKU is missing.")]
        elif not is_identifier_text(sku):
            errors["sku"] = _identifier_errors(sku)
        elif product is None:
            errors["sku"] = [gettext("No product has the SKU or barcode %(code)s.") % {"code": sku}]
        quantity = None
        try:
            quantity = parse_quantity(row.get("quantity"), allow_zero=self.mode == StockDocumentKind.COUNT)
        except ValidationError as exc:
            errors["quantity"] = exc.messages
        if errors:
            raise ValidationError(errors)
        return location, product, quantity

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors() or not self._lines:
            return
        try:
            self.documents = stock_documents_record(
                kind=self.mode,
                lines_by_location=dict(self._lines),
                number=self.number,
                actor=self.actor,
                note=self.note,
            )
        except DomainError as exc:
            self.report_refusal(result, exc)
            return
        result.stock_documents = self.documents
        for document, created in self.documents:
            for line in document.lines.select_related("product"):
                for number in self._row_numbers.get((document.location.code, line.product.sku), []):
                    row_result = self._row_results[number]
                    if created:
                        row_result.diff[3:] = [line.on_hand_before, line.on_hand_before + line.on_hand_delta]
                    else:
                        row_result.import_type = RowResult.IMPORT_TYPE_SKIP

    def report_refusal(self, result, exc: DomainError) -> None:
        """Show the service's refusal on the rows it names, or on the file when it names none."""
        named = False
        for line in exc.details.get("lines", []):
            for number in self._row_numbers.get((line.get("location"), line.get("sku")), []):
                error = ValidationError([str(exc.message), stock_line_message(line)])
                result.append_invalid_row(number, self._rows[number], error)
                named = True
        if not named:
            raise ImportFileError(" ".join(domain_error_messages(exc)))


class UserScopedExportMixin:
    """Exports only the rows of the user's locations (the admin's list is scoped too)."""

    location_lookups: tuple[str, ...] = ("location",)

    def __init__(self, *, user=None, **kwargs):
        super().__init__()
        self.user = user

    def filter_export(self, queryset, **kwargs):
        if self.user is not None:
            queryset = filter_for_user_locations(queryset, self.user, self.location_lookups)
        return queryset


class StockLevelResource(UserScopedExportMixin, resources.ModelResource):
    location = Field(attribute="location__code", column_name="location")
    sku = Field(attribute="product__sku", column_name="sku")
    name = Field(attribute="product__name", column_name="name")
    on_hand = Field(attribute="on_hand", column_name="on_hand", widget=widgets.IntegerWidget())
    reserved = Field(attribute="reserved", column_name="reserved", widget=widgets.IntegerWidget())
    available = Field(attribute="available", column_name="available", widget=widgets.IntegerWidget())
    min_quantity = Field(attribute="min_quantity", column_name="min_quantity", widget=widgets.IntegerWidget())

    class Meta:
        model = Stock
        name = _("Stock levels")
        fields = ("location", "sku", "name", "on_hand", "reserved", "available", "min_quantity")
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("product", "location")


class StockMovementResource(UserScopedExportMixin, resources.ModelResource):
    at = Field(attribute="created_at", column_name="at", widget=widgets.DateTimeWidget())
    location = Field(attribute="location__code", column_name="location")
    sku = Field(attribute="product__sku", column_name="sku")
    on_hand_delta = Field(attribute="on_hand_delta", column_name="on_hand_delta", widget=widgets.IntegerWidget())
    reserved_delta = Field(attribute="reserved_delta", column_name="reserved_delta", widget=widgets.IntegerWidget())
    reason = Field(attribute="reason", column_name="reason")
    cause_type = Field(attribute="cause_type", column_name="cause_type")
    cause_id = Field(attribute="cause_id", column_name="cause_id")
    note = Field(attribute="note", column_name="note")
    by = Field(column_name="by", dehydrate_method="dehydrate_by")

    class Meta:
        model = StockMovement
        name = _("Stock ledger")
        fields = (
            "at",
            "location",
            "sku",
            "on_hand_delta",
            "reserved_delta",
            "reason",
            "cause_type",
            "cause_id",
            "note",
            "by",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("product", "location", "created_by", "api_key")

    def dehydrate_by(self, movement: StockMovement) -> str:
        return str(Actor(user=movement.created_by, api_key=movement.api_key))
