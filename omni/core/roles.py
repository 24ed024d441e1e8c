"""Staff roles: Django groups and the permissions each one holds.

This is the one place that says what a role may do. ``sync_roles`` makes the groups match it;
it runs after every ``migrate`` and from ``manage.py setup_roles``. Which locations a member
works with is their employee profile (``inventory.Employee``), not their group.
"""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

STORE_STAFF = "Store staff"
STORE_MANAGER = "Store manager"
HEAD_OFFICE = "Head office"
ADMINISTRATOR = "Administrator"

ROLE_LABELS = {
    STORE_STAFF: _("Store staff"),
    STORE_MANAGER: _("Store manager"),
    HEAD_OFFICE: _("Head office"),
    ADMINISTRATOR: _("Administrator"),
}

# What each role adds to the one before it, app by app. A role holds its own grants and
# every grant of the roles before it.
GRANTS: dict[str, dict[str, set[str]]] = {
    STORE_STAFF: {
        # see stock and the ledger of their stores; receive transfers
        "inventory": {
            "receive_transfer",
            "view_attribute",
            "view_attributevalue",
            "view_barcode",
            "view_category",
            "view_location",
            "view_product",
            "view_productimage",
            "view_productmodel",
            "view_stock",
            "view_stockmovement",
            "view_transfer",
            "view_transferline",
        },
        # find, register and serve customers; record contacts, consents, cases, feedback
        "customers": {
            "add_case",
            "add_casemessage",
            "add_consent",
            "add_customer",
            "add_feedback",
            "add_identity",
            "add_interaction",
            "change_case",
            "change_consent",
            "change_customer",
            "view_case",
            "view_casemessage",
            "view_consent",
            "view_consentevent",
            "view_customer",
            "view_feedback",
            "view_identity",
            "view_interaction",
            "view_message",
        },
        # see accounts and cards; open accounts; issue, block, replace cards; spend points at the till
        "loyalty": {
            "add_account",
            "add_card",
            "change_card",
            "redeem_points",
            "view_account",
            "view_card",
            "view_pointsentry",
            "view_programme",
            "view_promocode",
            "view_promousage",
            "view_tier",
            "view_tierchange",
        },
        # sell in the store, hand over click-and-collect orders, cancel them, take back goods of any order
        "orders": {
            "add_order",
            "add_orderreturn",
            "cancel_order",
            "change_order",
            "hand_over_order",
            "sell_in_store",
            "view_order",
            "view_orderallocation",
            "view_orderline",
            "view_orderreturn",
            "view_payment",
            "view_refund",
            "view_returnline",
            "view_statuschange",
        },
    },
    STORE_MANAGER: {
        # receipts, counts, write-offs and transfers of their stores
        "inventory": {
            "add_transfer",
            "cancel_transfer",
            "change_stock",
            "change_transfer",
            "count_stock",
            "receive_stock",
            "ship_transfer",
            "view_stockdocument",
            "write_off_stock",
        },
        # accept a late return of a faulty item (recorded on the return)
        "orders": {
            "accept_late_return",
        },
        # the dashboard (the loyalty KPIs among its figures) and exports of their own stores
        "reports": {
            "export_reports",
            "view_dashboard",
            "view_exportjob",
        },
    },
    HEAD_OFFICE: {
        # the catalogue and locations; every location's stock
        "inventory": {
            "access_all_locations",
            "add_attribute",
            "add_barcode",
            "add_category",
            "add_location",
            "add_product",
            "add_productimage",
            "add_productmodel",
            "change_attribute",
            "change_barcode",
            "change_category",
            "change_location",
            "change_product",
            "change_productimage",
            "change_productmodel",
            "delete_barcode",
            "delete_productimage",
            "view_employee",
        },
        # segments; the duplicates list
        "customers": {
            "add_segment",
            "add_segmentcondition",
            "change_segment",
            "change_segmentcondition",
            "delete_segment",
            "delete_segmentcondition",
            "view_duplicatecandidate",
            "view_segment",
            "view_segmentcondition",
        },
        # the programme, tiers and promo codes; manual adjustments of points
        "loyalty": {
            "add_programme",
            "add_promocode",
            "add_tier",
            "adjust_points",
            "change_programme",
            "change_promocode",
            "change_tier",
            "delete_tier",
            "view_orderpoints",
            "view_spendrecord",
        },
        # the history of every change the services recorded (each object's page shows its own)
        "omni": {
            "view_auditevent",
        },
        # campaigns: written, previewed, tested, sent; who got them
        "marketing": {
            "add_campaign",
            "change_campaign",
            "send_campaign",
            "view_campaign",
            "view_cart",
            "view_npsrequest",
            "view_recipient",
        },
    },
    ADMINISTRATOR: {
        # who works where
        "inventory": {
            "add_employee",
            "change_employee",
            "delete_employee",
        },
        # identities, merges, anonymisation and personal data exports
        "customers": {
            "anonymise_customer",
            "change_duplicatecandidate",
            "change_identity",
            "delete_identity",
            "export_customer_data",
            "merge_customer",
        },
        # API keys
        "omni": {
            "add_apikey",
            "change_apikey",
            "view_apikey",
        },
        # staff accounts
        "auth": {
            "add_user",
            "change_user",
            "view_group",
            "view_user",
        },
    },
}

ROLES = [STORE_STAFF, STORE_MANAGER, HEAD_OFFICE, ADMINISTRATOR]


def _cumulative() -> dict[str, set[str]]:
    held: set[str] = set()
    result = {}
    for role in ROLES:
        held |= {f"{app}.{codename}" for app, codenames in GRANTS[role].items() for codename in codenames}
        result[role] = set(held)
    return result


ROLE_PERMISSIONS: dict[str, set[str]] = _cumulative()


def _permissions(names: set[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type")
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"Roles name permissions that do not exist: {sorted(missing)}")
    return found


def sync_roles() -> None:
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(_permissions(names))


def sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # Permissions of apps migrated after this one do not exist yet: create them first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_roles()
