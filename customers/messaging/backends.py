"""Providers that deliver messages, one backend class per channel, chosen in settings.

``CUSTOMERS_EMAIL_BACKEND``, ``CUSTOMERS_SMS_BACKEND``, ``CUSTOMERS_PUSH_BACKEND`` and
``CUSTOMERS_MESSENGER_BACKEND`` each name a ``MessageBackend`` subclass. To connect a provider,
write one::

    class AcmeSmsBackend(MessageBackend):
        def send(self, message):
            response = acme.send(to=message.recipient, text=message.body, idempotency_key=str(message.uuid))
            return response.id

and set ``CUSTOMERS_SMS_BACKEND=myproject.sms.AcmeSmsBackend``.
"""

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from customers.models import Message, MessageChannel


class MessageBackend:
    """The interface of a provider.

    ``send(message)`` hands the message to the provider and returns the provider's id for it. It
    is called outside any transaction, at most once per claim of the message; any exception
    means "not sent" and the message is retried later. ``message.uuid`` is stable across
    retries: pass it to providers that accept an idempotency key.

    ``delivers`` is False for a backend that only keeps the message: such messages are shown as
    "stored, not delivered", never as sent.
    """

    delivers: bool = True

    def send(self, message: Message) -> str:
        raise NotImplementedError


class DjangoEmailBackend(MessageBackend):
    """E-mail through Django's e-mail backend (``EMAIL_BACKEND`` and its settings)."""

    def send(self, message: Message) -> str:
        message_id = make_msgid(idstring=str(message.uuid))
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.CUSTOMERS_MESSAGE_FROM_EMAIL or None,
            to=[message.recipient],
            headers={"Message-ID": message_id},
        )
        email.send(fail_silently=False)
        return message_id


class StoringBackend(MessageBackend):
    """The default for SMS, push and messengers until a provider is configured.

    The rendered message stays in the outbox for staff to read; nothing reaches the customer.
    """

    delivers = False

    def send(self, message: Message) -> str:
        return f"stored:{message.uuid}"


_SETTINGS = {
    MessageChannel.EMAIL: "CUSTOMERS_EMAIL_BACKEND",
    MessageChannel.SMS: "CUSTOMERS_SMS_BACKEND",
    MessageChannel.PUSH: "CUSTOMERS_PUSH_BACKEND",
    MessageChannel.MESSENGER: "CUSTOMERS_MESSENGER_BACKEND",
}


def backend_path(channel: str) -> str:
    return getattr(settings, _SETTINGS[channel])


def get_backend(channel: str) -> MessageBackend:
    return import_string(backend_path(channel))()
