"""The loyalty events on a customer's timeline (``customers.timeline_events``), rendered in the
reader's language. Registered when this module is imported: by ``loyalty.apps`` and the services."""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.timeline_events import register_event


def _joined(values: dict) -> str:
    if not values.get("bonus"):
        return gettext("Joined the loyalty programme.")
    return ngettext(
        "Joined the loyalty programme with a welcome bonus of %(points)d point.",
        "Joined the loyalty programme with a welcome bonus of %(points)d points.",
        values["bonus"],
    ) % {"points": values["bonus"]}


register_event("loyalty.joined", _joined)
register_event("loyalty.tier_changed", _("Loyalty tier changed from %(old)s to %(new)s."))
register_event("points.adjusted", _("Points adjusted by %(points)+d: %(reason)s"))
