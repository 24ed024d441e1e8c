"""What happened with customers: every consent given or withdrawn, the contact timeline (call-centre
operators record contacts here) and the messages sent."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers import services
from customers.models import ConsentEvent, Interaction, Message, MessageStatus
from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyAdminMixin


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "customer", "purpose", "channel", "granted", "source_channel", "created_by"]
    list_filter = ["purpose", "channel", "granted", "source_channel"]
    list_select_related = ["customer", "created_by"]
    raw_id_fields = ["customer"]


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["customer", "channel", "kind", "direction", "summary", "details", "location"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """The timeline of every customer; call-centre operators record contacts here."""

    form = InteractionForm
    list_display = ["occurred_at", "customer", "channel", "kind", "direction", "text", "staff"]
    list_filter = ["channel", "kind", "direction"]
    list_select_related = ["customer", "staff"]
    raw_id_fields = ["customer"]
    date_hierarchy = "occurred_at"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["text"] if obj is not None else []

    def get_fields(self, request, obj=None):
        """An entry the system wrote shows its sentence in the reader's language, not the stored one."""
        fields = InteractionForm._meta.fields
        if obj is not None and obj.event:
            return ["text" if name == "summary" else name for name in fields]
        return fields

    @admin.display(description=_("summary"))
    def text(self, obj):
        return obj.text

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.interaction_record(
            customer=data["customer"],
            channel=data["channel"],
            kind=data["kind"],
            direction=data["direction"],
            summary=data["summary"],
            details=data["details"],
            location=data["location"],
            actor=Actor(user=request.user),
        )
        obj.pk = created.pk


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "customer",
        "kind",
        "purpose",
        "channel",
        "recipient",
        "status",
        "delivery",
        "sent_at",
    ]
    list_filter = ["status", "channel", "purpose", "kind"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    search_fields = ["recipient", "kind", "dedupe_key"]
    readonly_fields = ["delivery"]

    @admin.display(description=_("delivery"))
    def delivery(self, obj):
        if obj.status == MessageStatus.STORED:
            return gettext("Stored only, not delivered: no provider is configured for this channel.")
        if obj.status == MessageStatus.SENT:
            return gettext("Handed to the provider.")
        return obj.get_status_display()
