from django.core.management.base import BaseCommand

from omni.core.roles import ROLE_PERMISSIONS, sync_roles


class Command(BaseCommand):
    help = "Create or update the staff groups (store staff, store manager, head office, administrator)."

    def handle(self, *args, **options):
        sync_roles()
        for role, permissions in ROLE_PERMISSIONS.items():
            self.stdout.write(f"{role}: {len(permissions)} permissions")
