import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from omni.core.models import ApiKey
from omni.core.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client, staff_in_role):
    client.force_login(staff_in_role("Administrator"))
    return client


def test_administrator_creates_a_key_and_sees_it_once(administrator):
    response = administrator.post(
        reverse("admin:omni_apikey_add"), {"name": "pos", "scopes": ["catalog:read", "stock:write"]}, follow=True
    )

    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="pos")
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    raw = next(m for m in shown if "copy it now" in m).split(": ", 1)[1].split(" ")[0]
    assert ApiKey.hash(raw) == api_key.hashed_key
    assert api_key.scopes == ["catalog:read", "stock:write"]
    page = administrator.get(reverse("admin:omni_apikey_change", args=[api_key.pk])).content.decode()
    assert raw not in page


def test_revoke_action_revokes_and_nothing_is_deleted(administrator):
    api_key, _raw = api_key_create(name="erp", scopes=["catalog:write"])

    administrator.post(reverse("admin:omni_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]})

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert administrator.get(reverse("admin:omni_apikey_delete", args=[api_key.pk])).status_code == 403


def test_store_staff_cannot_see_api_keys(client, staff_in_role):
    client.force_login(staff_in_role("Store staff"))
    assert client.get(reverse("admin:omni_apikey_changelist")).status_code == 403


def test_staff_switch_the_admin_language(administrator):
    response = administrator.post("/i18n/setlang/", {"language": "ru", "next": "/admin/"}, follow=True)

    assert response.status_code == 200
    assert "Администрирование" in response.content.decode() or "Выход" in response.content.decode()
    assert 'name="language"' in response.content.decode()
