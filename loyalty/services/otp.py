"""One-time codes: so that a stranger who knows a phone number cannot spend someone's points.

When the programme says so (``Programme.otp_required``), spending points in a store or by phone
needs a code sent to the customer through the customers' messaging service. Only a salted
HMAC-SHA256 of the code is stored (keyed with ``SECRET_KEY``); a code expires after
``LOYALTY_OTP_TTL_MINUTES``, allows ``LOYALTY_OTP_MAX_ATTEMPTS`` wrong tries, and a new code
replaces the previous one. At most ``LOYALTY_OTP_MAX_PER_HOUR`` codes are sent per hour.

A failed attempt is committed on its own, so it counts even though the redemption that carried
it is refused: ``otp_verify`` runs in a durable transaction, before any other, and fails loudly
when a caller wraps it in theirs (whose rollback would undo the attempt). Callers that need a
transaction around the spending (an ``Idempotency-Key``, a preview) verify first and pass the
verified code on; it is consumed (``otp_consume``) only in the transaction of a redemption that
succeeds.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.messaging.services import message_send
from customers.models import Customer, MessagePurpose
from customers.services import locked_customer
from loyalty.errors import CodeExpired, CodeRequired, InvalidCode, TooManyCodes
from loyalty.lock_objects import account_for_update
from loyalty.models import Account, OneTimeCode, Programme
from loyalty.services.checks import account_required, active_account_for_update, check_channel
from omni.core.actors import SYSTEM, Actor
from omni.core.channels import Channel

# Where the cashier or the operator cannot see the customer's app: the code proves it is them.
OTP_CHANNELS = frozenset({Channel.STORE, Channel.CALL_CENTRE})
CODE_DIGITS = 6


def code_required(programme: Programme, channel: str) -> bool:
    return programme.otp_required and code_may_be_required(channel)


def code_may_be_required(channel: str) -> bool:
    """Whether a programme may want a one-time code for points spent through this channel: the
    others need not read the programme to know that they need none."""
    return channel in OTP_CHANNELS


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(salt: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def otp_send(
    *, customer: Customer, channel: str, actor: Actor = SYSTEM, now: datetime.datetime | None = None
) -> OneTimeCode:
    """Send the customer a new code for spending points; the previous one stops working."""
    check_channel(channel)
    now = now or timezone.now()
    account = account_required(customer)
    with transaction.atomic():
        customer = locked_customer(customer)
        account = active_account_for_update(account.pk)
        sent = OneTimeCode.objects.filter(account=account, created_at__gt=now - datetime.timedelta(hours=1)).count()
        if sent >= settings.LOYALTY_OTP_MAX_PER_HOUR:
            raise TooManyCodes(details={"per_hour": settings.LOYALTY_OTP_MAX_PER_HOUR})
        OneTimeCode.objects.filter(account=account, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        code, salt = generate_code(), secrets.token_hex(8)
        minutes = settings.LOYALTY_OTP_TTL_MINUTES
        otp = OneTimeCode.objects.create(
            account=account,
            salt=salt,
            code_hash=code_hash(salt, code),
            channel=channel,
            expires_at=now + datetime.timedelta(minutes=minutes),
            max_attempts=settings.LOYALTY_OTP_MAX_ATTEMPTS,
            created_at=now,
        )
        message_send(
            customer=customer,
            kind="loyalty_code",
            purpose=MessagePurpose.SERVICE,
            subject=_("Your code for spending points"),
            text=_(
                "Your code for spending bonus points is %(code)s. It is valid for %(minutes)d minutes. "
                "Do not tell it to anyone but the cashier or the operator serving you."
            )
            % {"code": code, "minutes": minutes},
            cause_type="loyalty_code",
            cause_id=str(otp.pk),
            sensitive=True,
            actor=actor,
        )
    return otp


def otp_verify(*, account: Account, code: str, now: datetime.datetime | None = None) -> int:
    """Check a code against the account's current one; return its id for ``otp_consume``.

    A wrong code counts one attempt, committed even though the caller is refused. Call it outside
    any transaction: inside one it raises ``RuntimeError`` rather than let a rollback undo the attempt.
    """
    code = str(code or "").strip()
    if not code:
        raise CodeRequired(details={"field": "code", "fields": {"code": [str(CodeRequired.message)]}})
    now = now or timezone.now()
    wrong = False
    with transaction.atomic(durable=True):
        account_for_update(account.pk)
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(account=account, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if otp is None or otp.expires_at <= now or otp.attempts >= otp.max_attempts:
            raise CodeExpired()
        if not hmac.compare_digest(otp.code_hash, code_hash(otp.salt, code)):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            wrong = True
    if wrong:
        raise InvalidCode(details={"attempts_left": otp.max_attempts - otp.attempts})
    return otp.pk


def otp_consume(*, account: Account, otp_id: int, now: datetime.datetime) -> None:
    """Use the verified code up, inside the caller's (the redemption's) transaction."""
    used = OneTimeCode.objects.filter(pk=otp_id, account=account, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not used:
        raise CodeExpired()
