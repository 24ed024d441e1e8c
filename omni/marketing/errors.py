from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError, NotFound


class CampaignNotEditable(DomainError):
    code = "campaign_not_editable"
    message = _("Only a draft campaign can be changed or sent.")


class CampaignNotCancellable(DomainError):
    code = "invalid_transition"
    message = _("Only a scheduled or sending campaign can be cancelled.")


class EmptySegment(DomainError):
    code = "empty_segment"
    message = _("The campaign's segment has no conditions, so it has no members.")


class UnknownSender(NotFound):
    code = "unknown_sender"
    message = _("No customer has this sender's phone or messenger account; nothing was recorded.")


class NpsLinkInvalid(DomainError):
    code = "nps_link_invalid"
    message = _("This rating link is not valid.")
    status = 400


class NpsLinkExpired(DomainError):
    code = "nps_link_expired"
    message = _("This rating link has expired.")


class NpsAlreadyAnswered(DomainError):
    code = "nps_already_answered"
    message = _("This visit has already been rated. Thank you!")
