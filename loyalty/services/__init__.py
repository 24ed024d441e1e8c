"""Every change of accounts, cards, tiers, points, promo code uses and one-time codes. Each
function is one business action in one transaction. One module per area:

- ``checks``: the plain values the services take (``Cause``, ``CartLine``, ``ReturnLine``) and
  the checks of their inputs;
- ``programme``: the active programme, qualifying spend and tiers;
- ``accounts``: accounts and cards;
- ``ledger``: the points ledger (lots, the entries that consume them), adjustments and bonuses;
- ``order_points``: what the orders app calls (quote, redeem, earn, reverse);
- ``promo``: promo codes; ``otp``: the one-time codes for spending points.

The nightly batches are in ``loyalty.nightly``. Callers import from this package: the names
below are the ones they use, with the results the order-points services return.
"""

from loyalty.services.accounts import (
    account_by_card,
    account_open,
    card_block,
    card_issue,
    card_replace,
)
from loyalty.services.checks import (
    CartLine,
    Cause,
    ReturnLine,
    account_required,
)
from loyalty.services.ledger import points_adjust, points_bonus
from loyalty.services.order_points import (
    Earning,
    Quote,
    Redemption,
    points_earn_for_order,
    points_quote,
    points_redeem,
    redemption_of,
)
from loyalty.services.order_returns import Reversal, points_reverse, points_reverse_preview
from loyalty.services.otp import code_may_be_required, code_required, otp_send, otp_verify
from loyalty.services.programme import (
    programme_activate,
    programme_current,
    spend_record,
    tier_change_event,
    tier_for_spend,
    tier_recalculate,
    tier_recalculate_locked,
    tiers_by_spend,
)
from loyalty.services.promo import promo_apply, promo_release, promo_validate

__all__ = [
    "CartLine",
    "Cause",
    "Earning",
    "Quote",
    "Redemption",
    "ReturnLine",
    "Reversal",
    "account_by_card",
    "account_open",
    "account_required",
    "card_block",
    "card_issue",
    "card_replace",
    "code_may_be_required",
    "code_required",
    "otp_send",
    "otp_verify",
    "points_adjust",
    "points_bonus",
    "points_earn_for_order",
    "points_quote",
    "points_redeem",
    "points_reverse",
    "points_reverse_preview",
    "programme_activate",
    "programme_current",
    "promo_apply",
    "promo_release",
    "promo_validate",
    "redemption_of",
    "spend_record",
    "tier_change_event",
    "tier_for_spend",
    "tier_recalculate",
    "tier_recalculate_locked",
    "tiers_by_spend",
]
