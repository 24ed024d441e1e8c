"""Questions and complaints: opened, answered, assigned and resolved through ``customers.cases``."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.cases import case_add_message, case_assign, case_change_status, case_open
from customers.models import Case, CaseMessage, Direction
from inventory.selectors import locations_for_user
from omni.core.actors import Actor
from omni.core.channels import Channel
from omni.core.errors import DomainError


class CaseMessageInline(admin.TabularInline):
    model = CaseMessage
    fields = ["created_at", "channel", "direction", "body", "author"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseForm(forms.ModelForm):
    new_message = forms.CharField(label=_("new message"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    message_channel = forms.ChoiceField(label=_("through"), choices=Channel.choices, initial=Channel.STORE)
    message_direction = forms.ChoiceField(label=_("direction"), choices=Direction.choices, initial=Direction.OUTBOUND)

    class Meta:
        model = Case
        fields = ["customer", "subject", "channel", "store", "status", "assignee"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    form = CaseForm
    list_display = ["number", "customer", "subject", "status", "store", "assignee", "created_at"]
    list_filter = ["status", "channel", "store"]
    search_fields = ["number", "subject"]
    raw_id_fields = ["customer", "assignee"]
    inlines = [CaseMessageInline]

    def get_queryset(self, request):
        return selectors.cases_for_user(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "store":
            kwargs["queryset"] = locations_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ["customer", "subject", "channel", "store", "assignee", "new_message"]
        else:
            fields = ["customer", "subject", "channel", "store", "status", "assignee"]
            fields += ["new_message", "message_channel", "message_direction"]
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "subject", "channel", "store"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data, actor = form.cleaned_data, Actor(user=request.user)
        try:
            if not change:
                created = case_open(
                    customer=data["customer"],
                    subject=data["subject"],
                    channel=data["channel"],
                    body=data["new_message"],
                    store=data["store"],
                    assignee=data["assignee"],
                    actor=actor,
                )
                obj.pk = created.pk
                return
            case = Case.objects.get(pk=obj.pk)
            if "assignee" in form.changed_data:
                case = case_assign(case=case, assignee=data["assignee"], actor=actor)
            if data["new_message"].strip():
                case_add_message(
                    case=case,
                    body=data["new_message"],
                    channel=data["message_channel"],
                    direction=data["message_direction"],
                    actor=actor,
                )
            if "status" in form.changed_data:
                case_change_status(case=case, status=data["status"], actor=actor)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # messages are added through the service above

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)
