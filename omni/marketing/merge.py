"""A merge of two customers moves the marketing rows of the merged one to the survivor.

Registered as a merge step (``customers.merge.register_merge_step``), so it runs inside the
merge's transaction with both customers locked, before the merged profile becomes a pointer.
A campaign reaches a person once: when both profiles were members of the same campaign, the row
that went further is kept (a message sent beats a member held out, which beats one still
waiting, which beats one skipped) and the other is removed, so the once-per-member key holds and
the results count the person once, with their orders (which the orders step moves too).
"""

from customers.models import Customer
from omni.marketing.models import Cart, Recipient, RecipientStatus

# How far a member's row went: the higher is kept when both profiles were in a campaign.
PROGRESS = {
    RecipientStatus.SENT: 5,
    RecipientStatus.CONTROL: 4,
    RecipientStatus.HELD: 3,
    RecipientStatus.CLAIMED: 2,
    RecipientStatus.QUEUED: 1,
    RecipientStatus.SKIPPED: 0,
}


def move_marketing(source: Customer, survivor: Customer) -> None:
    kept = {row.campaign_id: row for row in Recipient.objects.filter(customer=survivor).only("campaign_id", "status")}
    drop = []
    for row in Recipient.objects.filter(customer=source, campaign_id__in=list(kept)).only("campaign_id", "status"):
        theirs = kept[row.campaign_id]
        drop.append(theirs.pk if PROGRESS[row.status] > PROGRESS[theirs.status] else row.pk)
    Recipient.objects.filter(pk__in=drop).delete()
    Recipient.objects.filter(customer=source).update(customer=survivor)
    Cart.objects.filter(customer=source).update(customer=survivor)
