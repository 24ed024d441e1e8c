from unittest import mock

import pytest

from customers.models import Message
from omni.marketing.models import Campaign, CampaignStatus
from tests.marketing.factories import campaign, member, segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user, client):
    admin_user.email = "boss@example.com"
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_a_campaign_is_written_in_the_admin_through_the_service(staff):
    seg = segment()
    response = staff.post(
        "/admin/marketing/campaign/add/",
        {
            "name": "Autumn",
            "segment": seg.pk,
            "text_ru": "{{ name }}, осень",
            "text_en": "{{ nope }}",
            "channels": ["sms"],
            "conversion_days": 7,
            "bonus_points": 0,
        },
    )
    assert response.status_code == 200  # the form again, with the error on its field
    assert "nope" in response.context["adminform"].form.errors["text_en"][0]
    assert not Campaign.objects.exists()


def test_the_page_previews_then_sends_and_shows_the_results(staff, django_capture_on_commit_callbacks):
    # given
    member(preferred_channel="email")
    member(consents=())
    camp = campaign()
    # when: the page, then its preview
    page = staff.get(f"/admin/marketing/campaign/{camp.pk}/change/")
    assert page.status_code == 200 and "Spring sale" in page.content.decode()
    counted = staff.get(f"/admin/marketing/campaign/{camp.pk}/change/?preview=1")
    assert counted.context["preview"].by_channel == {"email": 1}
    # when: sent
    with (
        mock.patch("customers.messaging.services._schedule_batch"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = staff.post(f"/admin/marketing/campaign/{camp.pk}/send/")
    # then
    assert sent.status_code == 302
    assert Campaign.objects.get(pk=camp.pk).status == CampaignStatus.SENT
    assert Message.objects.count() == 1
    results = staff.get(f"/admin/marketing/campaign/{camp.pk}/change/")
    assert results.context["results"].sent == 1 and results.context["progress"] == 100


def test_the_send_button_needs_a_post_and_the_permission(client, django_user_model):
    camp = campaign()
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(user)
    assert client.post(f"/admin/marketing/campaign/{camp.pk}/send/").status_code == 403
    assert Campaign.objects.get(pk=camp.pk).status == CampaignStatus.DRAFT


def test_a_test_send_goes_to_the_signed_in_staff_member(staff, settings, django_capture_on_commit_callbacks):
    from django.core import mail

    settings.CUSTOMERS_EMAIL_BACKEND = "customers.messaging.backends.DjangoEmailBackend"
    camp = campaign()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/admin/marketing/campaign/{camp.pk}/test/", {"language": "en"})
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]
    assert mail.outbox[0].subject == "[TEST] Spring sale"
