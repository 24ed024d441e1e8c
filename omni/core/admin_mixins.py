"""Admin behaviour shared by the apps' admin screens."""


class ReadOnlyAdminMixin:
    """A screen of records that only the services write (ledgers, histories, returns, jobs): staff
    read them here, nobody adds, edits or deletes them. For ModelAdmins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
