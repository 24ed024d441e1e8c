from django import forms
from django.contrib import admin, messages
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from omni.core.actors import Actor
from omni.core.errors import DomainError
from omni.webhooks import services
from omni.webhooks.addresses import url_target
from omni.webhooks.events import EVENT_TYPES
from omni.webhooks.models import Delivery, Subscription


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(  # a receiver is https
        label=_("URL"), max_length=500, assume_scheme="https", widget=forms.URLInput(attrs={"class": "vURLField"})
    )
    event_types = forms.MultipleChoiceField(
        label=capfirst(_("event types")),
        choices=[(name, format_lazy("{}: {}", name, description)) for name, description in EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Media:
        css = {"all": ["webhooks/admin.css"]}

    class Meta:
        model = Subscription
        fields = ["api_key", "url", "event_types", "description", "contact_email", "pause_after_hours"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            url_target(url)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_event_types(self):
        try:
            return services.event_types_check(self.cleaned_data["event_types"] or [])
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["url", "api_key", "is_active", "paused_at", "failing_since", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "contact_email"]
    readonly_fields = ["secret", "is_active", "paused_at", "paused_reason", "failing_since", "created_at"]
    actions = ["send_ping", "resume"]

    def get_readonly_fields(self, request, obj=None):
        # A new subscription has no state yet, and its secret is made when it is saved.
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE}
            services.subscription_update(subscription=obj, changes=changes, actor=actor)
            return
        fields = {name: form.cleaned_data[name] for name in ("description", "contact_email", "pause_after_hours")}
        created = services.subscription_create(
            api_key=obj.api_key, url=obj.url, event_types=obj.event_types, actor=actor, **fields
        )
        obj.pk, obj.secret = created.pk, created.secret

    @admin.action(description=_("Send a test ping"))
    def send_ping(self, request, queryset):
        for subscription in queryset:
            services.subscription_ping(subscription)
        self.message_user(request, _("Test pings are on their way; see the deliveries."), messages.SUCCESS)

    @admin.action(description=_("Resume paused subscriptions"))
    def resume(self, request, queryset):
        for subscription in queryset.filter(is_active=False):
            services.subscription_update(
                subscription=subscription, changes={"is_active": True}, actor=Actor.from_request(request)
            )
        self.message_user(request, _("The subscriptions are active again."), messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "object",
        "subscription",
        "status",
        "response_code",
        "attempts",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "event__type"]
    list_select_related = ["event", "subscription"]
    ordering = ["-id"]  # newest first, read from the primary key: ids follow the order deliveries were written
    search_fields = ["event__object_id", "subscription__url"]
    readonly_fields = [field.name for field in Delivery._meta.fields] + ["payload"]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description=_("object"))
    def object(self, delivery):
        return f"{delivery.event.object_type} {delivery.event.object_id}"

    @admin.display(description=_("payload"))
    def payload(self, delivery):
        return delivery.event.data

    @admin.action(description=_("Send again"), permissions=["view"])
    def send_again(self, request, queryset):
        count = services.deliveries_send_again(queryset)
        self.message_user(
            request,
            ngettext("%(count)d delivery will be sent again.", "%(count)d deliveries will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
