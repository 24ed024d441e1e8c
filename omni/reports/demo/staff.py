"""Demo staff: one per role, the store ones bound to the Tverskaya store."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.models import Employee, Location
from omni.core import roles

# username, password, role, store codes, superuser
STAFF = [
    ("admin", "omni-admin", roles.ADMINISTRATOR, [], True),
    ("office", "omni-office", roles.HEAD_OFFICE, [], False),
    ("manager", "omni-manager", roles.STORE_MANAGER, ["MSK-TVER"], False),
    ("cashier", "omni-cashier", roles.STORE_STAFF, ["MSK-TVER"], False),
]


def seed() -> list[tuple[str, str, str, list[str]]]:
    roles.sync_roles()
    User = get_user_model()
    logins = []
    for username, password, role, stores, superuser in STAFF:
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = superuser
        user.first_name = username.capitalize()
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        employee, _ = Employee.objects.get_or_create(user=user)
        employee.locations.set(Location.objects.filter(code__in=stores))
        logins.append((username, password, role, stores))
    return logins
