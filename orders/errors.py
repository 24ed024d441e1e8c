"""The orders app's domain errors and their stable codes.

Refusals of other apps pass through unchanged: ``insufficient_stock``, ``unknown_sku`` and
``unknown_location`` (inventory), ``not_enough_points``, ``exceeds_order_share`` and the promo
code refusals (loyalty).
"""

from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError, InvalidInput

# --- Bad input (400) ----------------------------------------------------------------------


class InvalidOrder(InvalidInput):
    code = "invalid_order"
    message = _("The order is not valid.")


class CustomerRequired(InvalidInput):
    code = "customer_required"
    message = _("An order needs a customer; only a sale in a store may be anonymous.")


class InvalidLocation(InvalidInput):
    code = "invalid_location"
    message = _("This location cannot serve this order.")


class PaymentMismatch(InvalidInput):
    code = "payment_mismatch"
    message = _("The payments do not add up to the amount due.")


class InvalidReturn(InvalidInput):
    code = "invalid_return"
    message = _("The return is not valid.")


# --- The current state forbids it (409) ---------------------------------------------------


class InvalidTransition(DomainError):
    code = "invalid_transition"
    message = _("The order's current status does not allow this.")


class ReturnExceedsPurchase(DomainError):
    code = "return_exceeds_purchase"
    message = _("More would be returned than was bought, less what was already returned or refused.")


class ReturnWindowClosed(DomainError):
    code = "return_window_closed"
    message = _("The return window of this order has passed.")


class ReturnsNotAccepted(DomainError):
    code = "returns_not_accepted"
    message = _("This location does not accept returns.")


class RefundToPointsNotAllowed(DomainError):
    code = "refund_to_points_not_allowed"
    message = _("This refund cannot be made in loyalty points.")


class Overpayment(DomainError):
    code = "overpayment"
    message = _("The payment is more than what is left to pay.")


class PaymentConflict(DomainError):
    code = "payment_conflict"
    message = _("This transaction id is already recorded on the order with another method or amount.")


class RefundNotPending(DomainError):
    code = "refund_not_pending"
    message = _("Only a refund still to be made can be completed.")
