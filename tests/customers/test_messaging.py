import datetime
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from customers import services
from customers.errors import ConsentRequired, NoReachableChannel
from customers.messaging import services as messaging
from customers.messaging.backends import backend_path
from customers.messaging.services import message_send
from customers.models import (
    ConsentPurpose,
    Customer,
    Interaction,
    InteractionKind,
    Message,
    MessageStatus,
)
from customers.services import ConsentChange, IdentityInput
from omni.core.channels import Channel
from omni.core.db import rows_write_together
from omni.core.models import AuditEvent, AuditKind
from omni.core.queueing import GATHER_SECONDS
from tests.customers.backends import FailingBackend, RecordingBackend
from tests.racing import race

pytestmark = pytest.mark.django_db

RECORDING = "tests.customers.backends.RecordingBackend"
FAILING = "tests.customers.backends.FailingBackend"
PD = ConsentChange(ConsentPurpose.PERSONAL_DATA, True)


@pytest.fixture(autouse=True)
def reset_backends():
    RecordingBackend.sent = []
    RecordingBackend.delay = 0.0
    FailingBackend.failures_left = 0
    FailingBackend.calls = 0


def customer_with(*identities, consents=(), **profile) -> Customer:
    return services.customer_identify(
        identities=[IdentityInput(kind, value, *rest) for kind, value, *rest in identities],
        profile=profile,
        consents=consents,
    ).customer


def marketing(channel):
    return ConsentChange(ConsentPurpose.MARKETING, True, channel)


def send(customer, purpose="service", **kwargs):
    kwargs.setdefault("kind", "order_ready")
    kwargs.setdefault("text", "Hello {{ customer.first_name }}, your order {{ number }} is ready.")
    kwargs.setdefault("context", {"number": "W-1"})
    return message_send(customer=customer, purpose=purpose, **kwargs)


class TestChannelChoice:
    @override_settings(CUSTOMERS_MESSAGE_CHANNELS=["push", "messenger", "email", "sms"])
    def test_service_message_takes_the_first_reachable_channel(self):
        customer = customer_with(("phone", "+79161234567"), ("email", "ivan@example.com"), first_name="Ivan")
        message = send(customer)
        assert (message.channel, message.recipient) == ("email", "ivan@example.com")
        assert message.body == "Hello Ivan, your order W-1 is ready."

    def test_preferred_channel_comes_first(self):
        customer = customer_with(("phone", "+79161234567"), ("email", "ivan@example.com"), preferred_channel="sms")
        assert send(customer).channel == "sms"

    def test_messenger_and_push_are_reached_through_external_ids(self):
        customer = customer_with(("external_id", "555", "telegram"), ("external_id", "device-1", "app"))
        with override_settings(CUSTOMERS_MESSAGE_CHANNELS=["messenger", "push"]):
            assert send(customer).recipient == "telegram:555"

    def test_nobody_to_reach(self):
        customer = customer_with(("card", "460000000001"))
        with pytest.raises(NoReachableChannel):
            send(customer)
        assert not Message.objects.exists()

    def test_marketing_needs_the_consent_of_that_channel(self):
        customer = customer_with(
            ("phone", "+79161234567"),
            ("email", "ivan@example.com"),
            preferred_channel="email",
            consents=[PD, marketing("sms")],
        )
        assert send(customer, purpose="marketing", kind="promo").channel == "sms"

    def test_marketing_without_consent_writes_nothing(self):
        customer = customer_with(("phone", "+79161234567"), ("email", "ivan@example.com"))
        with pytest.raises(ConsentRequired):
            send(customer, purpose="marketing", kind="promo")
        assert not Message.objects.exists()

    def test_withdrawn_consent_stops_marketing(self):
        customer = customer_with(("phone", "+79161234567"), consents=[PD, marketing("sms")])
        services.consents_record(
            customer=customer, changes=[ConsentChange("marketing", False, "sms")], source_channel=Channel.SMS
        )
        with pytest.raises(ConsentRequired):
            send(customer, purpose="marketing", kind="promo")

    def test_the_same_promotion_is_sent_once_through_one_channel(self):
        customer = customer_with(
            ("phone", "+79161234567"),
            ("email", "ivan@example.com"),
            consents=[PD, marketing("sms"), marketing("email")],
        )
        first = send(customer, purpose="marketing", kind="promo", dedupe_key="black-friday")
        again = send(customer, purpose="marketing", kind="promo", dedupe_key="black-friday")
        assert first.pk == again.pk
        assert Message.objects.count() == 1

    def test_bad_template_is_refused(self):
        customer = customer_with(("phone", "+79161234567"))
        with pytest.raises(Exception) as error:
            send(customer, text="{% if %}")
        assert error.value.details["field"] == "text"


DEFAULT_CHANNELS = ["push", "messenger", "email", "sms"]


class TestLockedCustomer:
    """A service message to a customer the caller locked is routed, written and audited in one
    statement on PostgreSQL: the same route, dedupe and refusal as ``message_send`` otherwise."""

    @pytest.mark.parametrize(
        "identities, profile, channels",
        [
            ((("phone", "+79161234567"), ("email", "ivan@example.com")), {}, DEFAULT_CHANNELS),
            (
                (("phone", "+79161234567"), ("email", "ivan@example.com")),
                {"preferred_channel": "sms"},
                DEFAULT_CHANNELS,
            ),
            ((("external_id", "555", "telegram"), ("external_id", "device-1", "app")), {}, ["messenger", "push"]),
            ((("external_id", "555", "telegram"), ("external_id", "device-1", "app")), {}, DEFAULT_CHANNELS),
            ((("external_id", "77", "partner"), ("phone", "+79161234567")), {}, DEFAULT_CHANNELS),
            ((("email", "ivan@example.com"), ("phone", "+79161234567")), {"preferred_channel": "push"}, ["sms"]),
        ],
    )
    def test_it_takes_the_route_message_route_takes(self, identities, profile, channels):
        customer = customer_with(*identities, first_name="Ivan", **profile)
        with override_settings(CUSTOMERS_MESSAGE_CHANNELS=channels), transaction.atomic():
            locked = services.locked_customer(customer)
            expected = messaging.message_route(locked, purpose="service")
            message = send(locked, customer_locked=True, subject="Order {{ number }}")

        stored = Message.objects.get()
        assert (message.pk, message.channel, message.recipient) == (stored.pk, expected.channel, expected.recipient)
        assert (stored.channel, stored.recipient) == (expected.channel, expected.recipient)
        assert stored.backend == backend_path(expected.channel)
        assert (stored.subject, stored.body) == ("Order W-1", "Hello Ivan, your order W-1 is ready.")
        assert stored.status == MessageStatus.PENDING
        sent = AuditEvent.objects.get(kind=AuditKind.MESSAGE_SENT)
        assert (sent.object_id, sent.field_name, sent.new_value) == (stored.pk, "channel", expected.channel)

    def test_nobody_to_reach_writes_nothing(self):
        customer = customer_with(("card", "460000000001"))
        with transaction.atomic(), pytest.raises(NoReachableChannel):
            send(services.locked_customer(customer), customer_locked=True)
        assert not Message.objects.exists()
        assert not AuditEvent.objects.filter(kind=AuditKind.MESSAGE_SENT).exists()

    def test_the_same_dedupe_key_returns_the_first_message(self):
        customer = customer_with(("email", "ivan@example.com"))
        with transaction.atomic():
            locked = services.locked_customer(customer)
            first = send(locked, customer_locked=True, dedupe_key="order_placed:W-1")
            again = send(locked, customer_locked=True, dedupe_key="order_placed:W-1", text="Another text")
        assert first.pk == again.pk
        assert Message.objects.get().body == first.body
        assert AuditEvent.objects.filter(kind=AuditKind.MESSAGE_SENT).count() == 1

    @pytest.mark.postgres
    def test_its_statement_may_be_the_caller_s(self, django_capture_on_commit_callbacks):
        reachable, nobody = customer_with(("email", "ivan@example.com")), customer_with(("card", "460000000001"))
        notices = []
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for person in (reachable, nobody):
                assert send(services.locked_customer(person), customer_locked=True, written_with=notices) is None
            assert len(notices) == 2
            rows_write_together(ctes=notices)  # one statement for both; the unreachable one is only logged

        assert list(Message.objects.values_list("customer_id", "recipient", "status")) == [
            (reachable.pk, "ivan@example.com", MessageStatus.SENT)
        ]
        assert AuditEvent.objects.filter(kind=AuditKind.MESSAGE_SENT).count() == 1

    def test_it_is_delivered_after_commit(self, django_capture_on_commit_callbacks):
        customer = customer_with(("email", "ivan@example.com"))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = send(services.locked_customer(customer), customer_locked=True)
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert len(mail.outbox) == 1


class TestDelivery:
    def test_email_is_delivered_after_commit_and_appears_on_the_timeline(self, django_capture_on_commit_callbacks):
        customer = customer_with(("email", "ivan@example.com"), first_name="Ivan")

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = send(customer, subject="Order {{ number }}")

        assert len(callbacks) == 1
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert message.sent_at is not None and message.attempts == 1
        assert len(mail.outbox) == 1
        assert (mail.outbox[0].to, mail.outbox[0].subject) == (["ivan@example.com"], "Order W-1")
        assert message.provider_message_id == mail.outbox[0].extra_headers["Message-ID"]
        sent = Interaction.objects.get(customer=customer, kind=InteractionKind.MESSAGE_SENT)
        assert (sent.channel, sent.direction, sent.subject_id) == ("email", "outbound", str(message.pk))

    def test_default_sms_backend_stores_and_does_not_claim_delivery(self, django_capture_on_commit_callbacks):
        customer = customer_with(("phone", "+79161234567"))
        with django_capture_on_commit_callbacks(execute=True):
            message = send(customer)
        message.refresh_from_db()
        assert message.status == MessageStatus.STORED
        assert message.get_status_display() == "stored, not delivered"
        assert message.provider_message_id == f"stored:{message.uuid}"
        summary = Interaction.objects.get(customer=customer, kind=InteractionKind.MESSAGE_SENT).summary
        assert "not delivered" in summary

    def test_nothing_is_written_or_sent_when_the_cause_rolls_back(self, django_capture_on_commit_callbacks):
        customer = customer_with(("email", "ivan@example.com"))
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            send(customer)
            raise RuntimeError("the order failed")
        assert callbacks == []
        assert not Message.objects.exists()
        assert mail.outbox == []

    def test_a_message_is_never_sent_twice(self):
        customer = customer_with(("email", "ivan@example.com"))
        message = send(customer)

        assert messaging.message_deliver(message_id=message.pk) == "sent"
        assert messaging.message_deliver(message_id=message.pk) == "skipped"
        assert len(mail.outbox) == 1

    @override_settings(CUSTOMERS_SMS_BACKEND=FAILING, CUSTOMERS_MESSAGE_MAX_ATTEMPTS=3)
    def test_failures_are_retried_then_given_up(self, django_capture_on_commit_callbacks):
        FailingBackend.failures_left = 10
        customer = customer_with(("phone", "+79161234567"))

        with django_capture_on_commit_callbacks(execute=True):
            message = send(customer)

        message.refresh_from_db()
        assert (message.status, message.attempts, FailingBackend.calls) == (MessageStatus.FAILED, 3, 3)
        assert "provider down" in message.last_error
        assert not Interaction.objects.filter(kind=InteractionKind.MESSAGE_SENT).exists()

    @override_settings(CUSTOMERS_SMS_BACKEND=FAILING)
    def test_a_retry_after_a_failure_sends_it(self, django_capture_on_commit_callbacks):
        FailingBackend.failures_left = 1
        customer = customer_with(("phone", "+79161234567"))
        with django_capture_on_commit_callbacks(execute=True):
            message = send(customer)
        message.refresh_from_db()
        assert (message.status, message.attempts, message.provider_message_id) == (MessageStatus.SENT, 2, "ok-1")


class TestOutboxRecovery:
    def test_messages_left_pending_are_sent_by_the_periodic_task(self, django_capture_on_commit_callbacks):
        customer = customer_with(("email", "ivan@example.com"))
        # The broker is down: queueing fails, the message stays pending.
        down = ConnectionError("broker down")
        broker_down = mock.patch("customers.tasks.deliver_service_messages.apply_async", side_effect=down)
        with broker_down, django_capture_on_commit_callbacks(execute=True):
            message = send(customer)
        assert Message.objects.get().status == MessageStatus.PENDING

        from customers.tasks import requeue_pending_messages

        assert requeue_pending_messages.delay().get() == 0  # too recent to be called stuck
        Message.objects.update(updated_at=timezone.now() - datetime.timedelta(minutes=10))
        assert requeue_pending_messages.delay().get() == 1

        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert len(mail.outbox) == 1
        assert requeue_pending_messages.delay().get() == 0

    def test_interrupted_sending_is_not_sent_again(self):
        customer = customer_with(("email", "ivan@example.com"))
        message = send(customer)
        long_ago = timezone.now() - datetime.timedelta(hours=1)
        Message.objects.update(status=MessageStatus.SENDING, claimed_at=long_ago, updated_at=long_ago)

        messaging.messages_requeue()

        message.refresh_from_db()
        assert message.status == MessageStatus.FAILED
        assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
def test_two_workers_racing_send_a_message_once():
    RecordingBackend.delay = 0.05
    customer = customer_with(("phone", "+79161234567"))
    with mock.patch("customers.messaging.services._schedule"):  # the workers below deliver it
        message = send(customer)
    workers = 6

    outcomes = race(workers, lambda _i: messaging.message_deliver(message_id=message.pk))

    assert RecordingBackend.sent == [message.pk]
    assert sorted(outcomes) == ["sent"] + ["skipped"] * (workers - 1)
    assert Interaction.objects.filter(kind=InteractionKind.MESSAGE_SENT).count() == 1


class TestBatchDelivery:
    """A campaign's messages are delivered a batch per task: claimed together, recorded together."""

    def batch(self, count, **kwargs):
        people = [customer_with(("phone", f"+7916555{n:04d}")) for n in range(count)]
        with mock.patch("customers.messaging.services._schedule"):
            return [send(person, **kwargs).pk for person in people]

    @override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
    def test_a_batch_is_claimed_sent_and_recorded_in_a_fixed_number_of_statements(self, django_assert_num_queries):
        ids = self.batch(6)
        # claim (lock, update, read) and record (one update, one insert of the timeline entries), in two
        # transactions (savepoints on the test's transaction), whatever the batch's size
        with django_assert_num_queries(9):
            outcomes = messaging.messages_deliver(ids, batch_size=10)
        assert outcomes == {"sent": 6}
        assert sorted(RecordingBackend.sent) == ids
        rows = Message.objects.filter(pk__in=ids)
        assert {(m.status, m.provider_message_id, m.attempts) for m in rows} == {
            (MessageStatus.SENT, f"rec-{m.pk}", 1) for m in rows
        }
        assert all(m.sent_at is not None for m in rows)
        assert Interaction.objects.filter(kind=InteractionKind.MESSAGE_SENT, event="message.sent").count() == 6
        assert messaging.messages_deliver(ids) == {"skipped": 6}  # sent already: nothing twice
        assert len(RecordingBackend.sent) == 6

    def test_a_failure_in_a_batch_leaves_that_message_pending_and_the_others_sent(self, settings):
        settings.CUSTOMERS_SMS_BACKEND = FAILING
        FailingBackend.failures_left, FailingBackend.calls = 1, 0
        ids = self.batch(3)
        assert messaging.messages_deliver(ids) == {"retry": 1, "sent": 2}
        statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
        assert sorted(statuses.values()) == [MessageStatus.PENDING, MessageStatus.SENT, MessageStatus.SENT]
        settings.CUSTOMERS_MESSAGE_MAX_ATTEMPTS = 2
        FailingBackend.failures_left = 1
        assert messaging.messages_deliver(ids) == {"failed": 1, "skipped": 2}
        assert Message.objects.filter(status=MessageStatus.FAILED).count() == 1

    def test_a_sensitive_text_is_erased_once_handed_over(self, settings):
        settings.CUSTOMERS_SMS_BACKEND = RECORDING
        [pk] = self.batch(1, sensitive=True, text="Your code is 1234")
        messaging.messages_deliver([pk])
        message = Message.objects.get(pk=pk)
        assert "1234" not in message.body and message.status == MessageStatus.SENT
        assert Interaction.objects.get(kind=InteractionKind.MESSAGE_SENT).details == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
def test_two_workers_delivering_the_same_batch_send_each_message_once():
    RecordingBackend.delay = 0.01
    people = [customer_with(("phone", f"+7916777{n:04d}")) for n in range(40)]
    with mock.patch("customers.messaging.services._schedule"):
        ids = [send(person).pk for person in people]

    outcomes = race(2, lambda _i: messaging.messages_deliver(ids, batch_size=5))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert sorted(RecordingBackend.sent) == sorted(ids)  # each once
    assert sum(o.get("sent", 0) for o in outcomes) == 40
    assert sum(o.get("skipped", 0) for o in outcomes) == 40  # what one claimed, the other passed over
    assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT, attempts=1).count() == 40
    assert Interaction.objects.filter(kind=InteractionKind.MESSAGE_SENT).count() == 40


class TestServiceMessageDrain:
    """Service messages, one per order or code, are delivered by one queued drain, not a task each."""

    @override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
    def test_a_burst_queues_one_drain_which_sends_them_all(self, django_capture_on_commit_callbacks):
        people = [customer_with(("phone", f"+7916888{n:04d}")) for n in range(3)]
        cache.delete(messaging.DRAIN_MARK)
        with mock.patch("customers.tasks.deliver_service_messages.apply_async") as queued:
            for person in people:
                with django_capture_on_commit_callbacks(execute=True):
                    send(person)
        assert queued.call_count == 1  # the second and third found a drain queued
        assert queued.call_args.kwargs == {"countdown": GATHER_SECONDS}  # to gather the burst
        assert RecordingBackend.sent == []

        assert messaging.service_messages_deliver() == {"sent": 3}

        assert len(RecordingBackend.sent) == 3
        assert not Message.objects.exclude(status=MessageStatus.SENT).exists()
        queue_again = mock.patch("customers.tasks.deliver_service_messages.apply_async")
        with queue_again as queued, django_capture_on_commit_callbacks(execute=True):
            send(people[0], kind="order_collected")
        assert queued.call_count == 1  # the drain started: the next message queues another

    @override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
    def test_the_drain_leaves_marketing_messages_to_their_own_tasks(self):
        person = customer_with(("phone", "+79168880100"), consents=[PD, marketing("sms")])
        with mock.patch("customers.messaging.services._schedule"):
            promo = send(person, purpose="marketing", kind="promo")
            notice = send(person)
        assert messaging.service_messages_deliver() == {"sent": 1}
        assert RecordingBackend.sent == [notice.pk]
        assert Message.objects.get(pk=promo.pk).status == MessageStatus.PENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(CUSTOMERS_SMS_BACKEND=RECORDING)
def test_two_drains_racing_send_each_service_message_once():
    RecordingBackend.delay = 0.005
    people = [customer_with(("phone", f"+7916999{n:04d}")) for n in range(30)]
    with mock.patch("customers.messaging.services._schedule"):
        ids = [send(person).pk for person in people]

    outcomes = race(2, lambda _i: messaging.service_messages_deliver())

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert sorted(RecordingBackend.sent) == sorted(ids)  # each once
    assert sum(o.get("sent", 0) for o in outcomes) == 30
    assert Message.objects.filter(pk__in=ids, status=MessageStatus.SENT, attempts=1).count() == 30
