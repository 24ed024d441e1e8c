from django import forms
from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omni.core.admin_mixins import ReadOnlyAdminMixin
from omni.core.audit import audit_actor_label, audit_field_label, audit_value_label
from omni.core.errors import DomainError
from omni.core.models import ApiKey, AuditEvent
from omni.core.scopes import Scope
from omni.core.services import api_key_create


class ApiKeyCreationForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.readonly_fields, "name"]

    def get_fields(self, request, obj=None):
        return ["name", "scopes"] if obj is None else ["name", "prefix", *self.readonly_fields[1:]]

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            created, raw_key = api_key_create(name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"])
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = created.pk
        self.message_user(
            request,
            gettext("Key for %(name)s: %(key)s — copy it now, it is not shown again.")
            % {"name": created.name, "key": raw_key},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # keys are revoked, not deleted, so the audit trail keeps them

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.active():
            api_key.revoke()
            count += 1
        message = ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count}
        self.message_user(request, message)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every change the services recorded; each object's page shows its own (``ChangeHistoryAdminMixin``)."""

    list_display = ["created_at", "kind", "object_model", "changed_object", "field", "old", "new", "who"]
    list_filter = [
        "kind",
        "created_at",
        "content_type",
        ("created_by", admin.RelatedOnlyFieldListFilter),
        ("api_key", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["content_type", "created_by", "api_key"]
    search_fields = ["=object_id"]
    search_help_text = _("The number (id) of the changed object.")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("obj")

    @admin.display(description=_("model"), ordering="content_type")
    def object_model(self, event):
        model = event.content_type.model_class()
        return model._meta.verbose_name if model is not None else event.content_type.model

    @admin.display(description=_("object"), ordering="object_id")
    def changed_object(self, event):
        if event.obj is None:
            return f"#{event.object_id}"
        try:
            url = reverse(
                f"admin:{event.content_type.app_label}_{event.content_type.model}_change", args=[event.object_id]
            )
        except NoReverseMatch:
            return str(event.obj)
        return format_html('<a href="{}">{}</a>', url, event.obj)

    @admin.display(description=_("field"))
    def field(self, event):
        return audit_field_label(event) or "—"

    @admin.display(description=_("old value"))
    def old(self, event):
        return audit_value_label(event, event.old_value)

    @admin.display(description=_("new value"))
    def new(self, event):
        return audit_value_label(event, event.new_value)

    @admin.display(description=_("who"))
    def who(self, event):
        return audit_actor_label(event)
