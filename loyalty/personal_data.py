"""The loyalty steps of a customer's personal data request (registered in ``LoyaltyConfig.ready``).

Anonymisation: the account, its points ledger and tier stay (the figures stay in the reports),
but nothing loyalty holds leads to the customer any more: each card number is replaced by a
marker that is no card number (so no lookup, search or scan finds it, and the number can be
issued again) and the card is blocked; the staff's free-text notes on the ledger and the cards,
and the values in the cards' history of changes, are erased. The export gives the account, its
cards, the ledger and the tier with its history.
"""

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from loyalty import selectors
from loyalty.models import Account, Card, CardStatus, PointsEntry, TierChange
from omni.core.audit import audit_values_erase

# Card numbers are digits, and a card lookup (the API, the till) strips "-" from the number it is
# given: a number that starts with it is no card's and is found by no lookup.
ERASED_CARD_PREFIX = "-"


def anonymise_loyalty(customer: Customer) -> None:
    account = Account.objects.filter(customer=customer).first()
    if account is None:
        return
    now = timezone.now()
    erased = _("Erased with the customer's personal data.")
    cards = Card.objects.filter(account=account)
    cards.filter(status=CardStatus.ACTIVE).update(status=CardStatus.BLOCKED, blocked_at=now)
    cards.update(number=Concat(Value(ERASED_CARD_PREFIX), Cast("pk", CharField())), block_reason=erased, updated_at=now)
    audit_values_erase(Card, cards.values("pk"))
    # An adjustment must keep a reason: it says the reason was erased.
    PointsEntry.objects.filter(account=account).filter(~Q(note="")).update(note=erased)


def export_loyalty(customer: Customer) -> dict | None:
    account = selectors.accounts_for_display(Account.objects.filter(customer=customer)).first()
    if account is None:
        return None
    balance = selectors.balance(account)
    return {
        "account": {
            "status": account.status,
            "opened_at": account.opened_at,
            "channel": account.channel,
            "store": account.store.code if account.store else None,
            "closed_at": account.closed_at,
            "tier": account.tier.name if account.tier else None,
            "tier_changed_at": account.tier_changed_at,
        },
        "balance": {
            "available": balance.available,
            "pending": balance.pending,
            "next_expiry_points": balance.next_expiry_points,
            "next_expiry_at": balance.next_expiry_at,
        },
        "cards": [
            {
                "number": card.number,
                "kind": card.kind,
                "status": card.status,
                "issued_at": card.issued_at,
                "blocked_at": card.blocked_at,
                "block_reason": card.block_reason,
            }
            for card in account.cards.all()
        ],
        "ledger": list(
            PointsEntry.objects.filter(account=account)
            .order_by("created_at", "id")
            .values(
                "kind",
                "bonus_type",
                "points",
                "remaining",
                "spendable_from",
                "expires_at",
                "cause_type",
                "cause_id",
                "amount",
                "channel",
                "store__code",
                "note",
                "created_at",
            )
        ),
        "tier_history": [
            {
                "old_tier": change.old_tier.name if change.old_tier else None,
                "new_tier": change.new_tier.name if change.new_tier else None,
                "spend": change.spend,
                "reason": change.reason,
                "created_at": change.created_at,
            }
            for change in TierChange.objects.filter(account=account)
            .select_related("old_tier", "new_tier")
            .order_by("created_at", "id")
        ],
    }
