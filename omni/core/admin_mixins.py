"""Admin behaviour shared by the apps' admin screens."""

import datetime

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omni.core.actors import Actor
from omni.core.audit import (
    audit_actor_label,
    audit_changes,
    audit_event,
    audit_events_for,
    audit_field_label,
    audit_snapshot,
    audit_value_label,
)
from omni.core.models import AuditKind


class ReadOnlyAdminMixin:
    """A screen of records that only the services write (ledgers, histories, returns, jobs): staff
    read them here, nobody adds, edits or deletes them. For ModelAdmins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def panel_table(headers, rows):
    """A read-only table inside an admin page (a panel); times in the staff member's time zone and
    locale, as the rest of the admin shows them."""
    if not rows:
        return gettext("None.")
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((_cell(c),) for c in row)),) for row in rows)
    )
    return format_html('<table class="omni-panel"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


def _cell(value):
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return value


class ChangeHistoryAdminMixin:
    """Adds a read-only "History of changes" section to an object's page: the newest changes the
    audit trail (``omni.core.audit``) holds for it. Whoever may see the object sees its history; the
    list of every change is the ``AuditEvent`` screen."""

    change_history_rows = 20
    change_history_field = "change_history"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.change_history_field not in fields:
            fields.append(self.change_history_field)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (title, {**options, "fields": [f for f in options["fields"] if f != self.change_history_field]})
            for title, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            section = {"fields": [self.change_history_field]}
            if request.user.has_perm("omni.view_auditevent"):
                section["description"] = self.every_change_link(obj)
            fieldsets.append((_("History of changes"), section))
        return fieldsets

    def every_change_link(self, obj):
        content_type = ContentType.objects.get_for_model(obj)
        url = reverse("admin:omni_auditevent_changelist")
        query = f"?content_type__id__exact={content_type.pk}&object_id={obj.pk}"
        return format_html('<a href="{}{}">{}</a>', url, query, gettext("Every change"))

    @admin.display(description=_("latest changes"))
    def change_history(self, obj):
        events = audit_events_for(obj).select_related("content_type")[: self.change_history_rows]
        rows = [
            (
                event.created_at,
                audit_actor_label(event),
                event.get_kind_display(),
                audit_field_label(event) or "—",
                audit_value_label(event, event.old_value),
                audit_value_label(event, event.new_value),
            )
            for event in events
        ]
        return panel_table([_("time"), _("who"), _("event"), _("field"), _("old value"), _("new value")], rows)


class AuditedSaveAdminMixin:
    """For a screen that saves its model's form itself, with no service behind it: what the form
    changed is recorded in the audit trail, in the transaction of the admin's save."""

    def save_model(self, request, obj, form, change):
        actor = Actor(user=request.user)
        if not change:
            super().save_model(request, obj, form, change)
            audit_event(actor, obj, AuditKind.CREATED)
            return
        columns = {field.name for field in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in columns]
        before = audit_snapshot(type(obj)._default_manager.get(pk=obj.pk), fields)
        super().save_model(request, obj, form, change)
        audit_changes(actor, obj, before, audit_snapshot(obj, fields))


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
