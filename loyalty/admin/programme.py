"""The programme and its tiers; one programme is active, and activating one switches the other off."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty import services
from loyalty.models import Programme, Tier


class ProgrammeForm(forms.ModelForm):
    """``is_active`` is not edited directly: one programme is active, so activating one switches
    the other off (``programme_activate``), in one transaction."""

    activate = forms.BooleanField(
        label=_("active"),
        required=False,
        help_text=_("One programme is active; making this one active switches the other off."),
    )

    class Meta:
        model = Programme
        fields = [
            "name",
            "point_value",
            "max_redeem_percent",
            "holding_days",
            "expiry_days",
            "tier_period_days",
            "welcome_bonus",
            "birthday_bonus",
            "otp_required",
            "excluded_categories",
            "excluded_products",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["activate"].initial = self.instance.is_active
        else:
            self.fields["activate"].initial = not Programme.objects.filter(is_active=True).exists()


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ["name", "min_spend", "earn_rate"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "point_value",
        "max_redeem_percent",
        "holding_days",
        "expiry_days",
        "welcome_bonus",
        "birthday_bonus",
        "otp_required",
    ]
    list_filter = ["is_active"]
    form = ProgrammeForm
    inlines = [TierInline]
    autocomplete_fields = ["excluded_categories", "excluded_products"]
    actions = ["activate"]
    change_list_template = "admin/loyalty/programme/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "activate"]}),
        (_("Points"), {"fields": ["point_value", "max_redeem_percent", "holding_days", "expiry_days"]}),
        (_("Tiers"), {"fields": ["tier_period_days"]}),
        (_("Bonuses"), {"fields": ["welcome_bonus", "birthday_bonus"]}),
        (_("Security"), {"fields": ["otp_required"]}),
        (_("What earns nothing"), {"fields": ["excluded_categories", "excluded_products"]}),
    ]

    def save_model(self, request, obj, form, change):
        wanted = bool(form.cleaned_data.get("activate"))
        activate = wanted and not (change and obj.is_active)
        if not change:
            obj.is_active = False  # made active below, once saved, switching the other off
        elif obj.is_active and not wanted:
            self.message_user(
                request, gettext("One programme is always active: activate another one instead."), messages.WARNING
            )
        super().save_model(request, obj, form, change)
        if activate:
            services.programme_activate(programme=obj)
            self.message_user(request, gettext("%(name)s is now the active programme.") % {"name": obj.name})

    @admin.action(description=_("Make the selected programme the active one"), permissions=["change"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one programme."), messages.ERROR)
            return
        programme = services.programme_activate(programme=queryset.get())
        self.message_user(request, gettext("%(name)s is now the active programme.") % {"name": programme.name})

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("kpis/", self.admin_site.admin_view(self.kpi_view), name="{}_{}_kpis".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        can_see = request.user.has_perm("reports.view_dashboard")
        return super().changelist_view(request, {**(extra_context or {}), "show_kpi_link": can_see})

    def kpi_view(self, request):
        """The loyalty KPIs are the dashboard's loyalty section, next to the figures only the orders
        give (participation, non-members): a bookmark of the old page goes there with its filters."""
        query = request.GET.urlencode()
        dashboard = reverse("admin:reports_dashboard_changelist")
        return redirect(f"{dashboard}?{query}#section-loyalty" if query else f"{dashboard}#section-loyalty")
