"""Reads of customers that several callers (API, admin, other apps) need."""

import contextlib
import functools
import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from customers.identities import IdentityKey, identity_key
from customers.models import Case, CaseStatus, Customer, Identity, IdentityKind, Interaction
from inventory.models import Location
from inventory.selectors import locations_for_user
from omni.core.db import instance_from_row, prepared_cursor, select_columns

MAX_MERGE_HOPS = 20


def customer_resolve(customer_id: int) -> Customer | None:
    """The customer with this id, or the survivor it was merged into (an old id keeps working)."""
    customer = Customer.objects.filter(pk=customer_id).first()
    hops = 0
    while customer is not None and customer.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
        hops += 1
    return customer


def customer_lookup(kind: str, value: str, *, system: str = "") -> Customer | None:
    """Find by an identity written in any form, with what the API shows of the customer
    (``customers_owning``); raise ``InvalidIdentity`` when it cannot be normalised."""
    return next(iter(customers_owning([identity_key(kind, value, system=system)], limit=1)), None)


def customers_owning(keys: Sequence[IdentityKey], *, limit: int) -> list[Customer]:
    """At most ``limit`` customers owning any of these identities (already normalised), each with
    its identities and its preferred store's code loaded, in one query.

    The hot reads (a lookup, identify of a known customer) spent most of their time building
    queries: the ORM's customer query and its prefetch of the identities cost ~2.5 ms of CPU and
    two round trips. This is one raw query whose identities come back as one JSON array, read
    through the cursor (a ``RawQuerySet`` added 0.6 ms of CPU to it).
    """
    if not keys:
        return []
    match = " OR ".join(["(kind = %s AND system = %s AND value = %s)"] * len(keys))
    params = [part for key in keys for part in (key.kind, key.system, key.value)]
    sql = (
        f"{_owning_select(connection.vendor)}"
        f" WHERE c.id IN (SELECT customer_id FROM {_IDENTITIES} WHERE {match}) LIMIT %s"
    )
    with prepared_cursor() as cursor:  # planned once per connection and number of keys
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [_customer_shown(row) for row in rows]


_IDENTITIES = Identity._meta.db_table


@functools.cache
def _owning_select(vendor: str) -> str:
    """The customer's columns, its store's code and its identities as a JSON array of
    [kind, id, system, value] (unordered: SQLite before 3.44 cannot order an aggregate)."""
    if vendor == "postgresql":
        identities = "json_agg(json_build_array(i.kind, i.id, i.system, i.value))::text"
    else:
        identities = "json_group_array(json_array(i.kind, i.id, i.system, i.value))"
    return (
        f"SELECT {select_columns(Customer, 'c')}, s.code,"
        f" (SELECT {identities} FROM {_IDENTITIES} i WHERE i.customer_id = c.id)"
        f" FROM {Customer._meta.db_table} c LEFT JOIN {Location._meta.db_table} s ON s.id = c.preferred_store_id"
    )


def _customer_shown(row: tuple) -> Customer:
    """The customer of a row of ``_owning_select``, its store and identities where
    ``customer.preferred_store`` and ``customer.identities.all()`` find them, as a prefetch would
    put them (their other fields deferred)."""
    *values, store_code, identities_json = row
    customer = instance_from_row(Customer, values)
    db = customer._state.db
    if customer.preferred_store_id is not None:
        store = Location.from_db(db, ["id", "code"], [customer.preferred_store_id, store_code])
        Customer.preferred_store.field.set_cached_value(customer, store)
    shown = sorted(json.loads(identities_json or "[]"))  # Identity's order: kind, id
    identities = [
        Identity.from_db(db, ["id", "customer_id", "kind", "system", "value"], [pk, customer.pk, kind, system, value])
        for kind, pk, system, value in shown
    ]
    prefetched = customer.identities.get_queryset()  # this customer's, as a further filter needs
    prefetched._result_cache, prefetched._prefetch_done = identities, True
    customer._prefetched_objects_cache = {Customer.identities.rel.cache_name: prefetched}
    return customer


def customers_with_identities(queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Customers with what a list shows of them, fetched for the whole page at once."""
    queryset = Customer.objects.all() if queryset is None else queryset
    return queryset.select_related("preferred_store").prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "id"))
    )


MIN_TAIL_DIGITS = 4
KINDS_WITHOUT_SYSTEM = [IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.CARD]
_TAIL_SEPARATORS = " -().+"


def customer_search(query: str) -> Q:
    """A filter matching a phone in any form, an e-mail, a card number, an external id, a name, a
    customer number, or the last 4 or more digits of a phone or card ("100-00-02", "0002"; several
    customers may match).

    The identities are found in one subquery whose every branch an index answers on PostgreSQL
    (the unique kind/system/value index, the reversed digits' pattern index); a customer number is
    added to it by a union rather than an OR, which would make the planner scan every customer."""
    text = query.strip()
    if not text:
        return Q(pk__in=[])
    ids = Identity.objects.filter(_identity_condition(text)).order_by().values("customer_id")
    if text.isdigit() and not text.startswith("0") and len(text) < 12:
        # A customer number; "0002" is the end of a phone or card.
        ids = ids.union(Customer.objects.filter(pk=int(text)).order_by().values("pk"))
    condition = Q(pk__in=ids)
    words = text.split()
    if words and not any(ch.isdigit() for ch in text) and "@" not in text:
        name = Q()
        for word in words[:3]:
            name &= Q(last_name__istartswith=word) | Q(first_name__istartswith=word) | Q(middle_name__istartswith=word)
        condition |= name
    return condition


def _identity_condition(text: str) -> Q:
    from customers.errors import InvalidIdentity

    values = {text, text.lower(), text.upper().replace(" ", "").replace("-", "")}
    with contextlib.suppress(InvalidIdentity):
        values.add(identity_key("phone", text).value)
    condition = Q(kind__in=KINDS_WITHOUT_SYSTEM, system="", value__in=values)
    condition |= Q(kind=IdentityKind.EXTERNAL_ID, value__in=values)
    tail = _tail(text)
    if tail:
        condition |= Q(reversed_tail__startswith=tail[::-1])
    return condition


def _tail(text: str) -> str:
    """The digits (and card letters) a cashier typed, without separators, when there are enough of
    them to search the end of phones and cards by; "" otherwise."""
    compact = "".join(ch for ch in text.upper() if ch not in _TAIL_SEPARATORS)
    if len(compact) < MIN_TAIL_DIGITS or not compact.isalnum() or not any(ch.isdigit() for ch in compact):
        return ""
    return compact


def timeline(customer: Customer) -> QuerySet[Interaction]:
    """The customer's contacts, newest first, with what a page shows of each."""
    return (
        Interaction.objects.filter(customer=customer)
        .select_related("staff", "location", "api_key")
        .order_by("-occurred_at", "-id")
    )


def cases_for_user(user) -> QuerySet[Case]:
    """Cases a staff member may see: store staff only those of their own stores."""
    cases = Case.objects.select_related("customer", "store", "assignee")
    if user.is_superuser or user.has_perm("inventory.access_all_locations"):
        return cases
    return cases.filter(store__in=locations_for_user(user))


def open_cases(customer: Customer) -> QuerySet[Case]:
    return customer.cases.exclude(status=CaseStatus.RESOLVED).select_related("store", "assignee")
