from unittest import mock

import pytest

from customers.models import Message
from omni.marketing.models import Campaign, CampaignStatus
from tests.marketing.factories import campaign, member, segment

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaigns/"


def body(seg, **values):
    return {
        "name": "Spring",
        "segment": seg.pk,
        "text_ru": "{{ name }}, весна!",
        "text_en": "{{ name }}, spring!",
        "channels": ["sms", "email"],
        **values,
    }


def test_a_campaign_is_created_once_per_idempotency_key(client_with_scopes):
    writer = client_with_scopes("campaigns:write")
    seg = segment()
    first = writer.post(URL, body(seg), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = writer.post(URL, body(seg), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["status"] == "draft" and first.json()["channels"] == ["sms", "email"]
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channels": ["fax"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"text_en": "{% debug %}"}, "text_en"),
        ({"text_ru": "{{ customer.notes }}"}, "text_ru"),
        ({"promo_kind": "percent"}, "promo_value"),
        ({"conversion_days": 0}, "conversion_days"),
        ({"segment": 999999}, "segment"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_refused_in_the_error_shape_and_creates_nothing(client_with_scopes, values, field):
    response = client_with_scopes("campaigns:write").post(URL, body(segment(), **values), format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] in ("invalid", "validation_error", "unknown_field") or error["code"]
    assert field in str(error["details"])
    assert not Campaign.objects.exists()


def test_scopes_are_enforced(client_with_scopes):
    camp = campaign()
    reader = client_with_scopes("campaigns:read")
    assert reader.get(URL).status_code == 200
    assert reader.post(f"{URL}{camp.pk}/send/").status_code == 403
    assert client_with_scopes("customers:read").get(URL).status_code == 403


def test_preview_send_and_results_over_the_api(client_with_scopes, django_capture_on_commit_callbacks):
    # given
    member(preferred_channel="email")
    member(consents=())
    camp = campaign()
    client = client_with_scopes("campaigns:read", "campaigns:write")
    # when: previewed
    preview = client.get(f"{URL}{camp.pk}/preview/").json()
    # then
    assert preview["members"] == 2 and preview["by_channel"] == {"email": 1}
    assert preview["skipped"] == {"no_consent": 1}
    assert preview["samples"]["ru"]["subject"] == "Весенняя распродажа"
    # when: sent
    with (
        mock.patch("customers.messaging.services._schedule_batch"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = client.post(f"{URL}{camp.pk}/send/")
    assert sent.status_code == 200 and sent.json()["status"] == "scheduled"
    # then
    assert Campaign.objects.get(pk=camp.pk).status == CampaignStatus.SENT
    assert Message.objects.count() == 1
    results = client.get(f"{URL}{camp.pk}/results/").json()
    assert (results["sent"], results["skipped"], results["lift_points"]) == (1, {"no_consent": 1}, None)
    # a sent campaign is neither changed nor sent again
    again = client.post(f"{URL}{camp.pk}/send/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "campaign_not_editable"
    changed = client.put(f"{URL}{camp.pk}/", body(camp.segment), format="json")
    assert changed.status_code == 409


def test_a_missing_campaign_is_a_404_in_the_error_shape(client_with_scopes):
    response = client_with_scopes("campaigns:read").get(f"{URL}424242/results/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_test_send_needs_an_address(client_with_scopes):
    camp = campaign()
    client = client_with_scopes("campaigns:write")
    assert client.post(f"{URL}{camp.pk}/test/", {}, format="json").status_code == 400
    ok = client.post(f"{URL}{camp.pk}/test/", {"email": "staff@example.com"}, format="json")
    assert ok.status_code == 202
