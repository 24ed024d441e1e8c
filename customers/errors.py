from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError, InvalidInput


class InvalidIdentity(InvalidInput):
    """An identity that cannot be normalised. ``details["field"]`` names the input field."""

    code = "invalid_identity"
    message = _("This identity is not valid.")

    def __init__(self, message=None, *, field: str, details: dict | None = None):
        message = message if message is not None else self.message
        super().__init__(message, details={"field": field, "fields": {field: [str(message)]}, **(details or {})})


class InvalidPhone(InvalidIdentity):
    code = "invalid_phone"
    message = _("This is not a valid phone number.")


class InvalidEmail(InvalidIdentity):
    code = "invalid_email"
    message = _("This is not a valid e-mail address.")


class InvalidCard(InvalidIdentity):
    code = "invalid_card"
    message = _("A loyalty card number is made of letters and digits.")


class InvalidExternalId(InvalidIdentity):
    code = "invalid_external_id"
    message = _("An external id needs a system (such as shop or telegram) and a value.")


class IdentityRequired(InvalidInput):
    code = "identity_required"
    message = _("Give at least one phone, e-mail, card number or external id.")


class IdentityTaken(DomainError):
    code = "identity_taken"
    message = _("This identity already belongs to another customer.")


class CustomerMerged(DomainError):
    code = "customer_merged"
    message = _("This customer was merged into another one; use the surviving profile.")


class CustomerAnonymised(DomainError):
    code = "customer_anonymised"
    message = _("This customer's personal data was erased; the profile cannot be changed.")


class CannotMergeWithItself(InvalidInput):
    code = "merge_same_customer"
    message = _("A customer cannot be merged with itself.")


class ConsentRequired(DomainError):
    code = "consent_required"
    message = _("The customer has not consented to this.")


class NoReachableChannel(DomainError):
    code = "no_reachable_channel"
    message = _("The customer cannot be reached through any channel.")


class InvalidCaseStatus(DomainError):
    code = "invalid_transition"
    message = _("The case's current status does not allow this.")


class InvalidScore(InvalidInput):
    code = "invalid_score"
    message = _("A score is a whole number from 0 to 10.")


class UnknownSegmentCondition(InvalidInput):
    code = "unknown_segment_condition"
    message = _("Unknown segment condition.")


class DuplicateAlreadyReviewed(DomainError):
    code = "already_reviewed"
    message = _("This pair of customers was already reviewed.")
