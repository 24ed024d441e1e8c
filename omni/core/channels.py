"""The channel: where a customer bought, joined, got in touch or was written to.

One enum for every app. Orders come from the sales channels only; loyalty, the customer's
timeline and the reports record an order's channel as it is. The ways to reach a customer
(``customers.models.ContactChannel``, ``MessageChannel``) are another thing: the means of a
message, not the place of a contact.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a contact happened, a profile was created or an order was placed."""

    SITE = "site", _("website")
    APP = "app", _("mobile app")
    STORE = "store", _("store")
    CALL_CENTRE = "call_centre", _("call centre")
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("push notification")
    MESSENGER = "messenger", _("messenger")
    SOCIAL = "social", _("social network")
    MARKETPLACE = "marketplace", _("marketplace")
    SYSTEM = "system", _("system")


# The channels an order can come from: the others only carry messages (e-mail, SMS, push) or mark
# what Omni did itself (system).
SALES_CHANNELS = (
    Channel.SITE,
    Channel.APP,
    Channel.STORE,
    Channel.CALL_CENTRE,
    Channel.MESSENGER,
    Channel.SOCIAL,
    Channel.MARKETPLACE,
)

# ``(value, label)`` of the sales channels, for ``Order.channel`` and the order API, filters and forms.
SALES_CHANNEL_CHOICES = [(channel.value, channel.label) for channel in SALES_CHANNELS]
