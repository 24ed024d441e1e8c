from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omni.core.errors import DomainError
from omni.core.models import ApiKey
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
