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

_STORE_STAFF = {
    "inventory.view_category",
    "inventory.view_product",
    "inventory.view_barcode",
    "inventory.view_location",
    "inventory.view_stock",
    "inventory.view_stockmovement",
    "inventory.view_transfer",
    "inventory.view_transferline",
    "inventory.receive_transfer",
}
_STORE_STAFF |= {
    # customers: find, register and serve customers; record contacts, consents, cases, feedback
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_identity",
    "customers.add_identity",
    "customers.view_consent",
    "customers.add_consent",
    "customers.change_consent",
    "customers.view_consentevent",
    "customers.view_interaction",
    "customers.add_interaction",
    "customers.view_case",
    "customers.add_case",
    "customers.change_case",
    "customers.view_casemessage",
    "customers.add_casemessage",
    "customers.view_feedback",
    "customers.add_feedback",
    "customers.view_message",
}
_STORE_STAFF |= {
    # loyalty: see accounts, balances and cards; open accounts and issue, block, replace cards;
    # quote and spend points at the till
    "loyalty.view_programme",
    "loyalty.view_tier",
    "loyalty.view_account",
    "loyalty.add_account",
    "loyalty.redeem_points",
    "loyalty.view_card",
    "loyalty.add_card",
    "loyalty.change_card",
    "loyalty.view_pointsentry",
    "loyalty.view_tierchange",
    "loyalty.view_promocode",
    "loyalty.view_promousage",
}

_STORE_MANAGER = _STORE_STAFF | {
    "inventory.change_stock",
    "inventory.receive_stock",
    "inventory.count_stock",
    "inventory.write_off_stock",
    "inventory.view_stockdocument",
    "inventory.add_transfer",
    "inventory.change_transfer",
    "inventory.ship_transfer",
    "inventory.cancel_transfer",
}
_STORE_MANAGER |= {
    "loyalty.view_loyalty_kpis",
}

_HEAD_OFFICE = _STORE_MANAGER | {
    "inventory.add_category",
    "inventory.change_category",
    "inventory.add_product",
    "inventory.change_product",
    "inventory.add_barcode",
    "inventory.change_barcode",
    "inventory.delete_barcode",
    "inventory.add_location",
    "inventory.change_location",
    "inventory.access_all_locations",
    "inventory.view_employee",
}
_HEAD_OFFICE |= {
    "customers.view_segment",
    "customers.add_segment",
    "customers.change_segment",
    "customers.delete_segment",
    "customers.view_segmentcondition",
    "customers.add_segmentcondition",
    "customers.change_segmentcondition",
    "customers.delete_segmentcondition",
    "customers.view_duplicatecandidate",
}
_HEAD_OFFICE |= {
    # loyalty: the programme, its tiers and promo codes; manual adjustments of points
    "loyalty.add_programme",
    "loyalty.change_programme",
    "loyalty.add_tier",
    "loyalty.change_tier",
    "loyalty.delete_tier",
    "loyalty.add_promocode",
    "loyalty.change_promocode",
    "loyalty.adjust_points",
    "loyalty.view_orderpoints",
    "loyalty.view_spendrecord",
}

_ADMINISTRATOR = _HEAD_OFFICE | {
    "inventory.add_employee",
    "inventory.change_employee",
    "inventory.delete_employee",
    "omni.view_apikey",
    "omni.add_apikey",
    "omni.change_apikey",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
}
_ADMINISTRATOR |= {
    "customers.change_identity",
    "customers.delete_identity",
    "customers.change_duplicatecandidate",
    "customers.merge_customer",
    "customers.anonymise_customer",
    "customers.export_customer_data",
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    STORE_STAFF: _STORE_STAFF,
    STORE_MANAGER: _STORE_MANAGER,
    HEAD_OFFICE: _HEAD_OFFICE,
    ADMINISTRATOR: _ADMINISTRATOR,
}


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
