"""The loyalty app's domain errors and their stable codes."""

from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError, InvalidInput, NotFound

# --- Bad input (400) ----------------------------------------------------------------------


class InvalidPoints(InvalidInput):
    code = "invalid_points"
    message = _("Points are whole numbers greater than zero.")


class InvalidReference(InvalidInput):
    code = "invalid_reference"
    message = _("A reference of at most 64 characters is required.")


class InvalidCart(InvalidInput):
    code = "invalid_cart"
    message = _("The cart needs at least one line, each with a whole quantity and an amount of zero or more.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("A manual adjustment needs a reason.")


class InvalidCardNumber(InvalidInput):
    code = "invalid_card_number"
    message = _("A card number is an EAN-13: 13 digits with a correct check digit.")


class CodeRequired(InvalidInput):
    code = "code_required"
    message = _("Spending points in a store or by phone needs the one-time code sent to the customer.")


# --- Not found (404) ----------------------------------------------------------------------


class NoAccount(NotFound):
    code = "no_account"
    message = _("This customer has no loyalty account.")


class UnknownCard(NotFound):
    code = "unknown_card"
    message = _("No loyalty card has this number.")


class PromoNotFound(NotFound):
    code = "promo_not_found"
    message = _("No promo code is written like this.")


# --- The current state forbids it (409) ---------------------------------------------------


class NotEnoughPoints(DomainError):
    code = "not_enough_points"
    message = _("The customer does not have enough points available.")


class ExceedsOrderShare(DomainError):
    code = "exceeds_order_share"
    message = _("Points can pay only part of an order; this is more than that part.")


class ReferenceConflict(DomainError):
    code = "reference_conflict"
    message = _("This reference was already used for a different operation.")


class AccountClosed(DomainError):
    code = "account_closed"
    message = _("This loyalty account is closed.")


class CardBlocked(DomainError):
    code = "card_blocked"
    message = _("This loyalty card is blocked or was replaced.")


class CardNumberTaken(DomainError):
    code = "card_number_taken"
    message = _("This card number is already issued.")


class InvalidCardStatus(DomainError):
    code = "invalid_transition"
    message = _("The card's current status does not allow this.")


class InvalidCode(DomainError):
    code = "invalid_code"
    message = _("The one-time code is wrong.")


class CodeExpired(DomainError):
    code = "code_expired"
    message = _("There is no valid one-time code: it expired, was used or had too many wrong attempts. Send a new one.")


class TooManyCodes(DomainError):
    code = "too_many_codes"
    message = _("Too many codes were sent to this customer in the last hour. Try again later.")


# --- Promo codes: each refusal has its own code (409) -------------------------------------


class PromoRefused(DomainError):
    code = "promo_refused"
    message = _("This promo code cannot be used here.")


class PromoInactive(PromoRefused):
    code = "promo_inactive"
    message = _("This promo code is switched off.")


class PromoNotStarted(PromoRefused):
    code = "promo_not_started"
    message = _("This promo code is not valid yet.")


class PromoExpired(PromoRefused):
    code = "promo_expired"
    message = _("This promo code has expired.")


class PromoExhausted(PromoRefused):
    code = "promo_exhausted"
    message = _("This promo code has been used as many times as allowed.")


class PromoCustomerLimit(PromoRefused):
    code = "promo_customer_limit"
    message = _("This customer has already used this promo code as many times as allowed.")


class PromoMinimumTotal(PromoRefused):
    code = "promo_min_total"
    message = _("The order total is below the minimum for this promo code.")


class PromoWrongChannel(PromoRefused):
    code = "promo_wrong_channel"
    message = _("This promo code is not valid in this channel.")


class PromoCustomerRequired(PromoRefused):
    code = "promo_customer_required"
    message = _("This promo code is personal: identify the customer first.")


class PromoNotForCustomer(PromoRefused):
    code = "promo_not_for_customer"
    message = _("This promo code is not valid for this customer.")


class PromoCodeTaken(DomainError):
    code = "promo_code_taken"
    message = _("Another promo code is already written like this.")
