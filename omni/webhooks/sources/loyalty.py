"""points.changed, from ``loyalty.hooks.points_changed``.

The data is the account as ``GET /api/v1/loyalty/accounts/{customer_id}/`` shows it
(``AccountSerializer``: balance ``available`` and ``pending``, cards, tier), with the account's id.
"""

from loyalty import hooks, selectors
from loyalty.api.serializers import AccountSerializer
from loyalty.api.views import account_body
from loyalty.models import Account
from omni.core.api.serializers import represent
from omni.webhooks.sources import recording


def account_data(account: Account) -> dict:
    account = selectors.accounts_for_display().get(pk=account.pk)
    return {"account_id": account.pk, **represent(AccountSerializer, account_body(account))}


def points_changed(account: Account) -> None:
    if recording.wanted("points.changed"):
        recording.record(
            event_type="points.changed",
            object_type="loyalty_account",
            object_id=str(account.pk),
            data=account_data(account),
        )


def connect() -> None:
    hooks.register_points_changed(points_changed)
