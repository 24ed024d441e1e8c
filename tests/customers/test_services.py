import datetime
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from customers import cases, services
from customers.errors import (
    ConsentRequired,
    CustomerAnonymised,
    IdentityRequired,
    IdentityTaken,
    InvalidEmail,
    InvalidPhone,
    InvalidScore,
)
from customers.models import (
    Case,
    CaseStatus,
    Consent,
    ConsentEvent,
    ConsentPurpose,
    Customer,
    Direction,
    DuplicateCandidate,
    DuplicateReason,
    DuplicateStatus,
    Identity,
    Interaction,
    InteractionKind,
)
from customers.services import ConsentChange, IdentityInput
from omni.core.actors import Actor
from omni.core.channels import Channel
from omni.core.roles import STORE_MANAGER
from tests.customers.factories import CustomerFactory, EmailFactory, IdentityFactory
from tests.inventory.factories import EmployeeFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

PD = ConsentChange(ConsentPurpose.PERSONAL_DATA, True)


def identify(*identities, **kwargs):
    return services.customer_identify(
        identities=[IdentityInput(kind, value, *rest) for kind, value, *rest in identities], **kwargs
    )


class TestIdentify:
    def test_creates_a_customer_with_normalised_identities(self):
        result = identify(
            ("phone", "8 (916) 123-45-67"),
            ("email", " Ivan@Example.com "),
            ("external_id", "42", "shop"),
            profile={"first_name": "Ivan", "city": "Moscow"},
            channel=Channel.SITE,
        )

        assert result.created
        customer = result.customer
        assert (customer.first_name, customer.city, customer.created_channel) == ("Ivan", "Moscow", Channel.SITE)
        assert set(customer.identities.values_list("kind", "system", "value")) == {
            ("phone", "", "+79161234567"),
            ("email", "", "ivan@example.com"),
            ("external_id", "shop", "42"),
        }

    @pytest.mark.parametrize("phone", ["+7 916 123 45 67", "9161234567", "89161234567"])
    def test_finds_the_customer_by_a_phone_in_any_form(self, phone):
        first = identify(("phone", "8 (916) 123-45-67")).customer

        result = identify(("phone", phone))

        assert not result.created
        assert result.customer.pk == first.pk
        assert Customer.objects.count() == 1

    def test_fills_empty_fields_and_never_overwrites_known_ones(self):
        customer = identify(("phone", "+79161234567"), profile={"first_name": "Ivan"}).customer

        result = identify(
            ("phone", "+79161234567"),
            ("email", "ivan@example.com"),
            profile={"first_name": "John", "last_name": "Petrov", "tags": ["size:M"]},
        )

        customer.refresh_from_db()
        assert (customer.first_name, customer.last_name, customer.tags) == ("Ivan", "Petrov", ["size:M"])
        assert result.conflicts == {"first_name": {"known": "Ivan", "given": "John"}}
        assert [key.value for key in result.attached] == ["ivan@example.com"]
        assert customer.identities.count() == 2

    def test_identities_of_two_customers_answer_with_the_strongest_and_record_a_duplicate(self):
        by_email = identify(("email", "ivan@example.com")).customer
        by_phone = identify(("phone", "+79161234567")).customer

        result = identify(("email", "ivan@example.com"), ("phone", "8 916 123 45 67"))

        assert result.customer.pk == by_phone.pk
        assert result.duplicates == [by_email.pk]
        candidate = DuplicateCandidate.objects.get()
        assert (candidate.first_id, candidate.second_id) == (by_email.pk, by_phone.pk)
        assert candidate.reason == DuplicateReason.IDENTIFY_CONFLICT
        assert by_email.identities.get().value == "ivan@example.com"  # nothing moved without review

    def test_card_is_stronger_than_phone(self):
        by_phone = identify(("phone", "+79161234567")).customer
        by_card = identify(("card", "4600 0000 0001")).customer
        assert identify(("phone", "+79161234567"), ("card", "460000000001")).customer.pk == by_card.pk
        assert by_phone.pk != by_card.pk

    @pytest.mark.parametrize(
        ("identities", "error", "field"),
        [
            ([("phone", "12345")], InvalidPhone, "phone"),
            ([("email", "ivan@example.com"), ("phone", "not a phone")], InvalidPhone, "phone"),
            ([("phone", "+79161234567"), ("email", "ivan@")], InvalidEmail, "email"),
        ],
    )
    def test_bad_input_changes_nothing(self, identities, error, field):
        with pytest.raises(error) as raised:
            identify(*identities, profile={"first_name": "Ivan"})
        assert raised.value.details["field"] == field
        assert not Customer.objects.exists()
        assert not Identity.objects.exists()

    def test_needs_an_identity(self):
        with pytest.raises(IdentityRequired):
            services.customer_identify(identities=[], profile={"first_name": "Ivan"})

    def test_registration_in_a_store_records_consents_and_the_store(self):
        store, user = LocationFactory(), UserFactory()

        result = services.customer_register(
            identities=[IdentityInput("phone", "89161234567")],
            profile={"first_name": "Anna"},
            consents=[ConsentChange(ConsentPurpose.MARKETING, True, "sms"), PD],
            store=store,
            actor=Actor(user=user),
        )

        customer = result.customer
        assert customer.preferred_store == store
        assert customer.created_channel == Channel.STORE
        assert set(Consent.objects.filter(customer=customer, granted=True).values_list("purpose", "channel")) == {
            ("personal_data", ""),
            ("marketing", "sms"),
        }
        event = ConsentEvent.objects.filter(customer=customer).first()
        assert (event.source_channel, event.created_by) == (Channel.STORE, user)

    def test_marketing_without_personal_data_consent_creates_nothing(self):
        with pytest.raises(ConsentRequired):
            identify(("phone", "+79161234567"), consents=[ConsentChange(ConsentPurpose.MARKETING, True, "email")])
        assert not Customer.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_identify_calls_create_one_customer():
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def worker(index):
        try:
            barrier.wait()
            phone = ["8 (916) 123-45-67", "+7 916 123 45 67", "9161234567"][index % 3]
            results.append(identify(("phone", phone), profile={"first_name": f"Ivan{index}"}).customer.pk)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Customer.objects.count() == 1
    assert set(results) == {Customer.objects.get().pk}
    assert Identity.objects.count() == 1


class TestUpdateAndIdentities:
    def test_update_overwrites_on_purpose_and_clears_empty_values(self):
        customer = CustomerFactory(first_name="Ivan", city="Moscow")
        services.customer_update(customer=customer, data={"first_name": "John", "city": ""})
        customer.refresh_from_db()
        assert (customer.first_name, customer.city) == ("John", "")

    def test_attach_a_card_and_refuse_one_taken(self):
        first, second = CustomerFactory(), CustomerFactory()
        identity = services.identity_attach(customer=first, kind="card", value="4600-0000-0001")
        assert identity.value == "460000000001"
        assert services.identity_attach(customer=first, kind="card", value="460000000001").pk == identity.pk
        with pytest.raises(IdentityTaken):
            services.identity_attach(customer=second, kind="card", value="460000000001")
        assert second.identities.count() == 0


class TestConsents:
    def test_every_grant_and_withdrawal_is_kept(self):
        customer, user = CustomerFactory(), UserFactory()
        actor = Actor(user=user)
        email = ConsentChange(ConsentPurpose.MARKETING, True, "email")

        services.consents_record(customer=customer, changes=[PD, email], source_channel=Channel.SITE, actor=actor)
        services.consents_record(
            customer=customer,
            changes=[ConsentChange(ConsentPurpose.MARKETING, False, "email")],
            source_channel=Channel.CALL_CENTRE,
            actor=actor,
        )
        services.consents_record(customer=customer, changes=[PD], source_channel=Channel.SITE)  # no change

        events = list(ConsentEvent.objects.filter(customer=customer).order_by("id"))
        assert [(e.purpose, e.channel, e.granted, e.source_channel) for e in events] == [
            ("personal_data", "", True, "site"),
            ("marketing", "email", True, "site"),
            ("marketing", "email", False, "call_centre"),
        ]
        assert all(e.created_by == user for e in events)
        assert not Consent.objects.get(customer=customer, channel="email").granted
        assert Interaction.objects.filter(customer=customer, kind=InteractionKind.CONSENT).count() == 2

    def test_withdrawing_personal_data_consent_withdraws_marketing(self):
        customer = CustomerFactory()
        services.consents_record(
            customer=customer,
            changes=[PD, ConsentChange(ConsentPurpose.MARKETING, True, "sms")],
            source_channel=Channel.STORE,
        )
        services.consents_record(
            customer=customer,
            changes=[ConsentChange(ConsentPurpose.PERSONAL_DATA, False)],
            source_channel=Channel.SITE,
        )
        assert not Consent.objects.filter(customer=customer, granted=True).exists()

    def test_marketing_needs_personal_data_consent(self):
        customer = CustomerFactory()
        with pytest.raises(ConsentRequired):
            services.consents_record(
                customer=customer,
                changes=[ConsentChange(ConsentPurpose.MARKETING, True, "sms")],
                source_channel=Channel.SITE,
            )
        assert not ConsentEvent.objects.exists()


class TestTimelineAndCases:
    def test_interaction_is_recorded_with_its_author_and_subject(self):
        customer, user = CustomerFactory(), UserFactory()
        interaction = services.interaction_record(
            customer=customer,
            channel=Channel.CALL_CENTRE,
            kind=InteractionKind.CALL,
            summary="Asked about delivery",
            subject_type="order",
            subject_id="W-1",
            actor=Actor(user=user),
        )
        assert (interaction.staff, interaction.subject_id, interaction.direction) == (user, "W-1", Direction.INBOUND)

    def test_case_keeps_messages_from_every_channel_in_order(self):
        customer = CustomerFactory()
        case = cases.case_open(customer=customer, subject="Broken zip", channel=Channel.MESSENGER, body="The zip broke")
        cases.case_add_message(case=case, body="Bring it to the store", channel=Channel.EMAIL, direction="outbound")
        case.refresh_from_db()
        assert case.status == CaseStatus.WAITING
        cases.case_add_message(case=case, body="I called instead", channel=Channel.CALL_CENTRE)

        case.refresh_from_db()
        assert case.number.startswith("C-")
        assert case.status == CaseStatus.OPEN
        assert [(m.channel, m.body) for m in case.messages.all()] == [
            ("messenger", "The zip broke"),
            ("email", "Bring it to the store"),
            ("call_centre", "I called instead"),
        ]
        assert Interaction.objects.filter(customer=customer, kind=InteractionKind.CASE_UPDATE).count() == 3

    def test_resolving_and_reopening(self):
        case = cases.case_open(customer=CustomerFactory(), subject="Where is my order", channel=Channel.SITE)
        case = cases.case_change_status(case=case, status=CaseStatus.RESOLVED)
        assert case.resolved_at is not None
        cases.case_add_message(case=case, body="Still not here", channel=Channel.SITE)
        case.refresh_from_db()
        assert (case.status, case.resolved_at) == (CaseStatus.OPEN, None)


class TestFeedback:
    def test_low_score_opens_a_case_for_the_store_manager(self):
        store = LocationFactory()
        manager = EmployeeFactory(locations=[store]).user
        manager.groups.add(Group.objects.get(name=STORE_MANAGER))
        EmployeeFactory(locations=[store])  # a colleague who is not the manager
        customer = CustomerFactory()

        feedback = cases.feedback_record(
            customer=customer, score=4, comment="Rude cashier", channel=Channel.SITE, store=store, order_ref="W-7"
        )

        case = feedback.case
        assert (case.store, case.assignee, case.status) == (store, manager, CaseStatus.OPEN)
        assert "W-7" in case.subject
        assert case.messages.get().body == "Rude cashier"
        assert Interaction.objects.filter(customer=customer, kind=InteractionKind.FEEDBACK).count() == 1

    def test_good_score_opens_no_case(self):
        feedback = cases.feedback_record(customer=CustomerFactory(), score=7, channel=Channel.SITE)
        assert feedback.case is None
        assert not Case.objects.exists()

    @pytest.mark.parametrize("score", [-1, 11, 5.5, "7", True, None])
    def test_bad_score_is_refused(self, score):
        with pytest.raises(InvalidScore):
            cases.feedback_record(customer=CustomerFactory(), score=score, channel=Channel.SITE)


class TestDuplicates:
    def test_finds_contacts_in_other_forms_and_same_name_and_birthday(self):
        a = EmailFactory(value="i.van+shop@gmail.com").customer
        b = EmailFactory(value="ivan@googlemail.com").customer
        c = IdentityFactory(value="+79161234567").customer
        d = IdentityFactory(value="+19161234567").customer  # a national number typed with the wrong code
        born = datetime.date(1990, 5, 1)
        e = CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=born)
        f = CustomerFactory(first_name="ANNA", last_name="ivanova", birthday=born)
        CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=datetime.date(1991, 5, 1))

        assert services.duplicates_detect() == 3
        assert services.duplicates_detect() == 0  # already listed

        pairs = {(d.first_id, d.second_id, d.reason) for d in DuplicateCandidate.objects.all()}
        assert pairs == {
            (a.pk, b.pk, DuplicateReason.SAME_EMAIL),
            (c.pk, d.pk, DuplicateReason.SAME_PHONE),
            (e.pk, f.pk, DuplicateReason.SAME_NAME_BIRTHDAY),
        }

    def test_dismissed_pairs_are_not_listed_again(self):
        born = datetime.date(1990, 5, 1)
        CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=born)
        CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=born)
        services.duplicates_detect()
        services.duplicate_dismiss(candidate=DuplicateCandidate.objects.get())
        assert services.duplicates_detect() == 0
        assert DuplicateCandidate.objects.get().status == DuplicateStatus.DISMISSED


class TestAnonymisedCustomer:
    def test_cannot_be_changed(self):
        customer = CustomerFactory()
        customer.anonymised_at = customer.created_at
        customer.save()
        with pytest.raises(CustomerAnonymised):
            services.customer_update(customer=customer, data={"first_name": "Ivan"})


def test_the_periodic_task_lists_duplicates():
    from customers.tasks import detect_duplicates

    born = datetime.date(1990, 5, 1)
    CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=born)
    CustomerFactory(first_name="Anna", last_name="Ivanova", birthday=born)
    assert detect_duplicates.delay().get() == 1
