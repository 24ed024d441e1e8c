"""One-time codes for spending in a store or by phone: hashed, expiring, limited in attempts."""

import pytest

from customers.models import Message
from loyalty import selectors, services
from loyalty.errors import CodeExpired, CodeRequired, InvalidCode, NotEnoughPoints, TooManyCodes
from loyalty.models import OneTimeCode
from loyalty.services import otp
from tests.loyalty.factories import NOW, cart, give, member

pytestmark = pytest.mark.django_db

CODE = "482913"


@pytest.fixture(autouse=True)
def codes_required(programme, monkeypatch):
    programme.otp_required = True
    programme.save()
    monkeypatch.setattr(otp, "generate_code", lambda: CODE)


@pytest.fixture
def account():
    account = member()
    give(account, 1000)
    return account


def redeem(account, code="", channel="store", reference="W-1", points=100, at=NOW):
    return services.points_redeem(
        customer=account.customer,
        points=points,
        reference=reference,
        lines=cart(1000),
        channel=channel,
        code=code,
        now=at,
    )


def send(account, at=NOW):
    return otp.otp_send(customer=account.customer, channel="store", now=at)


def test_the_code_is_sent_and_only_its_hash_is_stored(account):
    code = send(account)

    message = Message.objects.get(kind="loyalty_code")
    assert CODE in message.body
    stored = OneTimeCode.objects.filter(pk=code.pk).values()[0]
    assert all(CODE not in str(value) for value in stored.values())
    assert code.code_hash == otp.code_hash(code.salt, CODE)


def test_spending_in_a_store_needs_the_code(account):
    with pytest.raises(CodeRequired) as error:
        redeem(account)
    assert (error.value.status, error.value.details["field"]) == (400, "code")

    send(account)
    redemption = redeem(account, code=CODE)

    assert redemption.points == 100
    assert OneTimeCode.objects.get().used_at == NOW


def test_online_spending_needs_no_code(account):
    assert redeem(account, channel="site").points == 100


def test_a_wrong_code_counts_even_though_the_redemption_is_refused(account):
    send(account)
    with pytest.raises(InvalidCode) as error:
        redeem(account, code="000000")
    assert error.value.details["attempts_left"] == 4
    assert OneTimeCode.objects.get().attempts == 1
    assert selectors.balance(account, now=NOW).available == 1000


def test_attempts_are_limited(account, settings):
    send(account)
    for _ in range(settings.LOYALTY_OTP_MAX_ATTEMPTS):
        with pytest.raises(InvalidCode):
            redeem(account, code="000000")
    with pytest.raises(CodeExpired):
        redeem(account, code=CODE)


def test_codes_expire(account, settings):
    from datetime import timedelta

    send(account)
    with pytest.raises(CodeExpired):
        redeem(account, code=CODE, at=NOW + timedelta(minutes=settings.LOYALTY_OTP_TTL_MINUTES))


def test_a_code_is_used_once(account):
    send(account)
    redeem(account, code=CODE)
    with pytest.raises(CodeExpired):
        redeem(account, code=CODE, reference="W-2")


def test_a_refused_redemption_leaves_the_code_usable(account):
    send(account)
    with pytest.raises(NotEnoughPoints):
        services.points_redeem(
            customer=account.customer,
            points=2000,
            reference="W-9",
            lines=cart(10_000),
            channel="store",
            code=CODE,
            now=NOW,
        )
    assert OneTimeCode.objects.get().used_at is None
    assert redeem(account, code=CODE).points == 100


def test_a_new_code_replaces_the_previous_one(account, monkeypatch):
    send(account)
    monkeypatch.setattr(otp, "generate_code", lambda: "111111")
    send(account)
    with pytest.raises(InvalidCode):
        redeem(account, code=CODE)
    assert redeem(account, code="111111").points == 100


def test_codes_per_hour_are_limited(account, settings):
    for _ in range(settings.LOYALTY_OTP_MAX_PER_HOUR):
        send(account)
    with pytest.raises(TooManyCodes):
        send(account)


def test_the_code_is_erased_from_the_outbox_and_kept_off_the_timeline_once_sent(
    account, django_capture_on_commit_callbacks
):
    from customers.models import Interaction

    with django_capture_on_commit_callbacks(execute=True):
        send(account)

    message = Message.objects.get(kind="loyalty_code")
    assert message.status in ("sent", "stored")
    assert CODE not in message.body
    assert message.is_sensitive
    assert not Interaction.objects.filter(details__contains=CODE).exists()


def test_a_code_checked_inside_another_transaction_fails_loudly(account):
    # Its failed attempts would roll back with that transaction: the guesses would never count.
    from django.db import transaction

    send(account)
    with transaction.atomic(), pytest.raises(RuntimeError):
        otp.otp_verify(account=account, code="000000")
    with transaction.atomic(), pytest.raises(RuntimeError):
        redeem(account, code="000000")


def test_a_code_verified_before_the_callers_transaction_is_spent_in_it(account):
    from django.db import transaction

    send(account)
    verified = otp.otp_verify(account=account, code=CODE, now=NOW)
    with transaction.atomic():
        redemption = services.points_redeem(
            customer=account.customer,
            points=100,
            reference="W-1",
            lines=cart(1000),
            channel="store",
            verified_code=verified,
            now=NOW,
        )
    assert redemption.points == 100
    assert OneTimeCode.objects.get().used_at == NOW


def test_a_verified_code_is_spent_only_on_its_own_account(account):
    send(account)
    other = member()
    give(other, 1000)
    verified = otp.otp_verify(account=account, code=CODE, now=NOW)
    with pytest.raises(CodeExpired):
        services.points_redeem(
            customer=other.customer,
            points=100,
            reference="W-1",
            lines=cart(1000),
            channel="store",
            verified_code=verified,
            now=NOW,
        )
    assert OneTimeCode.objects.get().used_at is None
