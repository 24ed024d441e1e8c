"""Admin behaviour shared by the apps' admin screens."""

from django.contrib import admin
from django.template.response import TemplateResponse


class ReadOnlyAdminMixin:
    """A screen of records that only the services write (ledgers, histories, returns, jobs): staff
    read them here, nobody adds, edits or deletes them. For ModelAdmins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False


def render_form_page(model_admin, request, *, form, title, submit_label, original=None, intro=""):
    """A plain admin page with one form, for the views that call a service."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "opts": model_admin.opts,
        "original": original,
        "intro": intro,
        "submit_label": submit_label,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/form_page.html", context)
