import pytest

from customers import services
from customers.services import IdentityInput
from omni.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def identify(**profile):
    return services.customer_identify(identities=[IdentityInput("phone", "+79160000001")], profile=profile).customer


def test_a_profile_keeps_the_language_and_time_zone_messages_follow():
    customer = identify(language="ru", time_zone="Asia/Yekaterinburg")
    assert (customer.language, customer.time_zone) == ("ru", "Asia/Yekaterinburg")


@pytest.mark.parametrize(("field", "value"), [("language", "de"), ("time_zone", "Mars/Olympus")])
def test_an_unknown_language_or_time_zone_is_refused(field, value):
    with pytest.raises(InvalidInput) as error:
        identify(**{field: value})
    assert error.value.details["field"] == field


def test_the_api_takes_and_shows_them(client_with_scopes):
    client = client_with_scopes("customers:write", "customers:read")
    response = client.post(
        "/api/v1/customers/identify/",
        {"phone": "+79160000002", "language": "en", "time_zone": "Europe/Kaliningrad"},
        format="json",
    )
    assert response.status_code in (200, 201), response.json()
    assert response.json()["customer"]["time_zone"] == "Europe/Kaliningrad"
    bad = client.post("/api/v1/customers/identify/", {"phone": "+79160000003", "time_zone": "Nowhere"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "time_zone"
