"""Timeline entries the system writes are stored as an event code with its parameters and shown
in the reader's language; what people type is shown as typed."""

import pytest
from django.utils import translation

from customers import cases, services
from customers.models import Interaction, InteractionKind
from customers.timeline_events import event_text, register_event
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def written_in(language: str, write):
    with translation.override(language):
        write()
    return Interaction.objects.latest("id")


class TestReadersLanguage:
    def test_an_entry_written_in_english_reads_in_russian_and_the_other_way_round(self):
        customer = CustomerFactory()
        from_api = written_in(
            "en", lambda: cases.case_open(customer=customer, subject="Zip broken", channel=Channel.SITE)
        )
        from_till = written_in(
            "ru",
            lambda: cases.case_change_status(case=customer.cases.get(), status="resolved"),
        )

        assert from_api.event == "case.opened"
        assert from_api.params == {"number": customer.cases.get().number, "subject": "Zip broken"}
        number = from_api.params["number"]
        with translation.override("ru"):
            assert from_api.text == f"Открыто обращение {number}: Zip broken"
            assert from_till.text == f"Обращение {number} теперь в статусе «решено»."
        with translation.override("en"):
            assert from_api.text == f"Case {number} opened: Zip broken"
            assert from_till.text == f"Case {number} is now resolved."

    def test_choices_in_the_parameters_are_shown_by_their_label_in_the_readers_language(self):
        customer = services.customer_identify(
            identities=[services.IdentityInput("phone", "+79161234567")], channel=Channel.STORE
        ).customer
        entry = customer.interactions.get(event="customer.created")

        assert entry.params == {"channel": "store"}
        with translation.override("ru"):
            assert entry.text == "Профиль создан через канал «магазин»."
        with translation.override("en"):
            assert entry.text == "Profile created through store."

    def test_the_summary_is_stored_in_the_sites_language_whoever_wrote_it(self, settings):
        settings.LANGUAGE_CODE = "en"
        customer = CustomerFactory()
        entry = written_in("ru", lambda: cases.case_open(customer=customer, subject="Молния", channel=Channel.STORE))

        assert entry.summary == f"Case {entry.params['number']} opened: Молния"

    def test_an_entry_without_a_code_keeps_its_stored_summary(self):
        customer = CustomerFactory()
        typed = services.interaction_record(
            customer=customer, channel=Channel.CALL_CENTRE, kind=InteractionKind.CALL, summary="Спросила про размер"
        )
        old = Interaction.objects.create(
            customer=customer,
            channel=Channel.SYSTEM,
            kind=InteractionKind.NOTE,
            summary="Profile created through site.",
            occurred_at=typed.occurred_at,
        )

        with translation.override("en"):
            assert (typed.text, old.text) == ("Спросила про размер", "Profile created through site.")

    def test_an_unknown_code_or_bad_parameters_fall_back_to_the_stored_summary(self):
        register_event("test.sized", "Size %(size)s")

        assert event_text("test.nothing", {}, "stored") == "stored"
        assert event_text("test.sized", {}, "stored") == "stored"
        assert event_text("test.sized", {"size": "M"}, "stored") == "Size M"

    def test_an_unknown_event_code_is_refused_and_nothing_is_recorded(self):
        customer = CustomerFactory()

        with pytest.raises(InvalidInput):
            services.interaction_record(
                customer=customer, channel=Channel.SYSTEM, kind=InteractionKind.NOTE, event="no.such.event"
            )
        assert not customer.interactions.exists()


class TestApi:
    def test_the_timeline_gives_the_sentence_in_the_requests_language_and_the_code_for_machines(
        self, client_with_scopes
    ):
        customer = CustomerFactory()
        written_in("en", lambda: cases.case_open(customer=customer, subject="Zip", channel=Channel.SITE))
        number = customer.cases.get().number
        reader = client_with_scopes("customers:read")
        url = f"/api/v1/customers/{customer.pk}/timeline/"

        russian = reader.get(url, HTTP_ACCEPT_LANGUAGE="ru").json()["results"][0]
        english = reader.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]

        assert russian["summary"] == f"Открыто обращение {number}: Zip"
        assert english["summary"] == f"Case {number} opened: Zip"
        assert (russian["event"], russian["params"]) == ("case.opened", {"number": number, "subject": "Zip"})


class TestAdmin:
    def test_the_timeline_screens_show_the_sentence_in_the_readers_language(self, client):
        from django.urls import reverse

        from tests.inventory.factories import UserFactory

        client.force_login(UserFactory(is_superuser=True))
        customer = CustomerFactory()
        entry = written_in("en", lambda: cases.case_open(customer=customer, subject="Zip", channel=Channel.SITE))
        russian = f"Открыто обращение {entry.params['number']}: Zip"

        listed = client.get(reverse("admin:customers_interaction_changelist"), HTTP_ACCEPT_LANGUAGE="ru")
        shown = client.get(reverse("admin:customers_interaction_change", args=[entry.pk]), HTTP_ACCEPT_LANGUAGE="ru")
        card = client.get(reverse("admin:customers_customer_change", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="ru")

        for response in (listed, shown, card):
            assert response.status_code == 200
            assert russian in response.content.decode()
        assert client.get(reverse("admin:customers_interaction_add")).status_code == 200
