"""Demo customers met through different channels, with consents and a few contacts."""

import datetime

from customers.cases import case_open
from customers.models import Case, ConsentPurpose, ContactChannel, IdentityKind, InteractionKind
from customers.services import ConsentChange, IdentityInput, customer_identify, interaction_record
from inventory.models import Location
from omni.core.channels import Channel

# first, last, phone, e-mail, city, birthday, channel where the profile was created
PEOPLE = [
    ("Anna", "Smirnova", "+7 916 100-00-01", "anna.smirnova@example.com", "Moscow", (1990, 3, 14), Channel.SITE),
    ("Ivan", "Petrov", "8 (916) 100-00-02", "ivan.petrov@example.com", "Moscow", (1985, 7, 2), Channel.STORE),
    ("Olga", "Ivanova", "9161000003", "olga@example.com", "Saint Petersburg", (1995, 11, 30), Channel.APP),
    ("Dmitry", "Sokolov", "+79161000004", "", "Moscow", (1978, 1, 21), Channel.CALL_CENTRE),
    (
        "Maria",
        "Kuznetsova",
        "+7 916 100 00 05",
        "maria.k@example.com",
        "Saint Petersburg",
        (2000, 5, 9),
        Channel.MESSENGER,
    ),
    ("Sergey", "Popov", "+7 916 100-00-06", "s.popov@example.com", "Moscow", (1992, 9, 17), Channel.SITE),
]


def seed() -> dict:
    store = Location.objects.filter(code="MSK-TVER").first()
    created = 0
    for first, last, phone, email, city, birthday, channel in PEOPLE:
        identities = [IdentityInput(IdentityKind.PHONE, phone)]
        if email:
            identities.append(IdentityInput(IdentityKind.EMAIL, email))
        result = customer_identify(
            identities=identities,
            profile={"first_name": first, "last_name": last, "city": city, "birthday": datetime.date(*birthday)},
            consents=[
                ConsentChange(ConsentPurpose.PERSONAL_DATA, True),
                ConsentChange(ConsentPurpose.MARKETING, True, ContactChannel.EMAIL if email else ContactChannel.SMS),
            ],
            channel=channel,
            location=store if channel == Channel.STORE else None,
        )
        if not result.created:
            continue
        created += 1
        interaction_record(
            customer=result.customer,
            channel=Channel.CALL_CENTRE,
            kind=InteractionKind.CALL,
            summary=f"{first} asked about the size chart of the Oxford shirt.",
        )
    first_customer = customer_identify(identities=[IdentityInput(IdentityKind.PHONE, PEOPLE[0][2])]).customer
    if not Case.objects.filter(customer=first_customer).exists():
        case_open(
            customer=first_customer,
            subject="Parka zip is broken",
            channel=Channel.MESSENGER,
            body="The zip of the parka I bought last week broke. Can I bring it to a store?",
            store=store,
        )
    return {"customers": len(PEOPLE), "created": created}
