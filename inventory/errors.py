from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError, InvalidInput


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    message = _("Not enough stock for some of the lines.")


class StockLimitExceeded(DomainError):
    code = "stock_limit_exceeded"
    message = _("This would hold more units of a product at a location than Omni can count (2,147,483,647).")


class ReleaseExceedsReserved(DomainError):
    code = "release_exceeds_reserved"
    message = _("Cannot release or sell more than is reserved.")


class CountBelowReserved(DomainError):
    code = "count_below_reserved"
    message = _("The counted quantity is below what is reserved for orders; release the reservations first.")


class StockChangedSinceCount(DomainError):
    code = "stock_changed_since_count"
    message = _("Stock changed since the count was previewed; check the new figures and post again.")


class DocumentNumberConflict(DomainError):
    code = "document_number_conflict"
    message = _("This document number was already used for different contents.")


class InvalidTransferStatus(DomainError):
    code = "invalid_transition"
    message = _("The transfer's current status does not allow this.")


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"
    message = _("Quantities must be whole numbers greater than zero.")


class UnknownProducts(InvalidInput):
    code = "unknown_sku"
    message = _("Unknown SKUs.")


class UnknownLocation(InvalidInput):
    code = "unknown_location"
    message = _("Unknown location.")


class UnknownCategory(InvalidInput):
    code = "unknown_category"
    message = _("Unknown category code.")


class InvalidBarcode(InvalidInput):
    code = "invalid_barcode"
    message = _("A barcode must be an EAN-13: 13 digits with a correct check digit.")


class BarcodeTaken(DomainError):
    code = "barcode_taken"
    message = _("A barcode already belongs to another product.")


class SkuTaken(DomainError):
    code = "sku_taken"
    message = _("Another product already has this SKU.")


class ModelCodeTaken(DomainError):
    code = "model_code_taken"
    message = _("Another product model already has this code.")


class LocationCodeTaken(DomainError):
    code = "location_code_taken"
    message = _("Another location already has this code.")


class LocationInUse(DomainError):
    code = "location_in_use"
    message = _("The location still holds reservations or has transfers under way; settle them before closing it.")


class CategoryCodeTaken(DomainError):
    code = "category_code_taken"
    message = _("Another category already has this code.")


class CategoryInUse(DomainError):
    code = "category_in_use"
    message = _(
        "The category still holds active subcategories, products or product models; move or deactivate them first."
    )


class UnknownAttribute(InvalidInput):
    code = "unknown_attribute"
    message = _("Unknown attribute code.")


class InvalidAttributeValue(InvalidInput):
    code = "invalid_attribute_value"
    message = _("The value does not fit the attribute's type.")
