"""A stop word replied by SMS or messenger unsubscribes that channel; the campaign counts it."""

import pytest
from django.test import override_settings

from customers.models import Consent, ConsentEvent, Interaction, InteractionKind
from customers.services import identity_attach
from omni.marketing.errors import UnknownSender
from omni.marketing.replies import is_stop_word, reply_receive
from omni.marketing.results import campaign_results
from tests.marketing.factories import campaign, member
from tests.marketing.test_sending import outcome, send

pytestmark = pytest.mark.django_db

URL = "/api/v1/messages/inbound/"


def phone_of(person) -> str:
    return person.identities.get(kind="phone").value


def marketing(person) -> dict[str, bool]:
    return dict(Consent.objects.filter(customer=person, purpose="marketing").values_list("channel", "granted"))


@pytest.mark.parametrize("text", ["STOP", "stop", " Стоп! ", "СТОП.", "отписаться", "«Отписка»", "Unsubscribe"])
def test_a_stop_word_is_the_whole_text_in_any_case(text):
    assert is_stop_word(text)


@pytest.mark.parametrize("text", ["stop it", "Не стоп", "", "спасибо", "STOPP"])
def test_other_texts_are_not_stop_words(text):
    assert not is_stop_word(text)


@override_settings(MARKETING_STOP_WORDS=["ХВАТИТ"])
def test_the_stop_words_are_a_setting():
    assert is_stop_word("хватит") and not is_stop_word("STOP")


def test_an_sms_reply_stop_to_a_campaign_withdraws_sms_marketing_and_counts_as_unsubscribed(client_with_scopes):
    # given: a member sent the campaign by SMS, whose text names the stop word next to the link
    person = member(preferred_channel="sms", consents=("sms", "email"), language="ru")
    camp = send(campaign())
    message = outcome(camp, person).message
    assert message.channel == "sms" and message.body.splitlines()[-1].endswith("или ответьте СТОП")
    # when: the gateway reports the reply, the phone written its own way
    gateway = client_with_scopes("messages:inbound")
    national = "8" + phone_of(person)[2:]
    response = gateway.post(URL, {"channel": "sms", "sender": national, "text": "Стоп"}, format="json")
    # then
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "customer_id": person.pk,
        "stop_word": True,
        "unsubscribed": True,
        "answered": f"campaign:{camp.pk}",
    }
    assert marketing(person) == {"sms": False, "email": True}
    event = ConsentEvent.objects.get(customer=person, granted=False)
    assert (event.channel, event.source_channel, event.note) == ("sms", "sms", f"campaign:{camp.pk} reply")
    kinds = set(Interaction.objects.filter(customer=person).values_list("kind", "direction"))
    assert {(InteractionKind.CHAT_MESSAGE, "inbound"), (InteractionKind.CONSENT, "internal")} <= kinds
    assert campaign_results(camp).unsubscribed == 1


def test_a_messenger_reply_is_matched_by_the_messenger_account():
    person = member(consents=("sms", "messenger"))
    identity_attach(customer=person, kind="external_id", value="tg-42", system="telegram")
    done = reply_receive(channel="messenger", system="telegram", sender="tg-42", text="STOP")
    assert (done.customer, done.stop_word, done.withdrawn, done.answered) == (person, True, True, "")
    assert marketing(person) == {"sms": True, "messenger": False}
    assert ConsentEvent.objects.get(customer=person, granted=False).note == "reply"
    again = reply_receive(channel="messenger", system="telegram", sender="tg-42", text="stop")
    assert again.withdrawn is False  # already withdrawn: nothing more in the history
    assert ConsentEvent.objects.filter(customer=person, granted=False).count() == 1


def test_an_ordinary_reply_goes_on_the_timeline_and_changes_no_consent():
    person = member()
    done = reply_receive(channel="sms", sender=phone_of(person), text="Спасибо, приду в субботу")
    assert (done.stop_word, done.withdrawn) == (False, False)
    assert marketing(person) == {"sms": True, "email": True}
    entry = Interaction.objects.get(customer=person, kind=InteractionKind.CHAT_MESSAGE)
    assert (entry.channel, entry.direction, entry.summary) == ("sms", "inbound", "Спасибо, приду в субботу")


def test_an_unknown_sender_or_bad_input_is_refused_and_changes_nothing(client_with_scopes):
    person = member()
    gateway = client_with_scopes("messages:inbound")
    unknown = gateway.post(URL, {"channel": "sms", "sender": "+79990000000", "text": "STOP"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_sender"
    for body, field in [
        ({"channel": "sms", "sender": "not a phone", "text": "STOP"}, "sender"),
        ({"channel": "email", "sender": phone_of(person), "text": "STOP"}, "channel"),
        ({"channel": "messenger", "sender": "tg-1", "system": "icq", "text": "STOP"}, "system"),
        ({"channel": "sms", "sender": phone_of(person), "text": " "}, "text"),
    ]:
        response = gateway.post(URL, body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert field in str(response.json()["error"]["details"]), response.json()
    assert gateway.post(URL, {"channel": "sms", "sender": phone_of(person)}, format="json").status_code == 400
    assert client_with_scopes("customers:write").post(URL, {}, format="json").status_code == 403
    assert marketing(person) == {"sms": True, "email": True}
    assert not Interaction.objects.filter(customer=person, kind=InteractionKind.CHAT_MESSAGE).exists()
    with pytest.raises(UnknownSender):
        reply_receive(channel="messenger", system="telegram", sender="nobody", text="STOP")


def test_a_retried_report_is_recorded_once(client_with_scopes):
    person = member()
    gateway = client_with_scopes("messages:inbound")
    body = {"channel": "sms", "sender": phone_of(person), "text": "привет"}
    for _ in range(2):
        assert gateway.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="sms-1").status_code == 200
    assert Interaction.objects.filter(customer=person, kind=InteractionKind.CHAT_MESSAGE).count() == 1


def test_only_sms_and_messenger_messages_name_the_stop_word():
    by_email = member(preferred_channel="email", language="en")
    by_sms = member(preferred_channel="sms", language="en")
    camp = send(campaign())
    assert outcome(camp, by_email).message.body.splitlines()[-1].startswith("Unsubscribe: http")
    assert "or reply" not in outcome(camp, by_email).message.body
    assert outcome(camp, by_sms).message.body.splitlines()[-1].endswith(" or reply STOP")
