"""Loyalty in the Django admin: the programme and its tiers, accounts with their balances and
ledger, cards, promo codes with their uses. The loyalty KPIs are on the managers' dashboard
(``omni.reports``), with the figures only the orders give.

Every screen is thin: it parses the input, checks the permission, calls one service of
``loyalty.services`` and shows its result. Points are never edited here: the ledger is read-only,
and a manual adjustment is a service call with its own permission (``loyalty.adjust_points``) and
a mandatory reason.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from customers.admin import DisplayOnlyFormSet, add_customer_page_inline
from customers.models import Customer
from inventory.forms import message_domain_error
from inventory.models import Location
from loyalty import selectors, services
from loyalty.models import (
    Account,
    Card,
    CardKind,
    CardStatus,
    OrderPoints,
    OrderPointsReturn,
    PointsEntry,
    Programme,
    PromoCode,
    PromoKind,
    PromoUsage,
    Tier,
    TierChange,
)
from loyalty.resources import PromoUsageResource
from omni.core.actors import Actor
from omni.core.admin_mixins import ChangeHistoryAdminMixin, ReadOnlyAdminMixin, ReadOnlyInline, render_form_page
from omni.core.channels import Channel
from omni.core.errors import DomainError
from omni.core.validators import validate_identifier

LEDGER_ROWS_ON_ACCOUNT = 50
LEDGER_COLUMNS = (
    _("at"),
    _("kind"),
    _("points"),
    _("remaining"),
    _("spendable from"),
    _("expires"),
    _("cause"),
    _("reason or author"),
)


# --- Programme and tiers ----------------------------------------------------------------


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


# --- Accounts ---------------------------------------------------------------------------


class AccountOpenForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("customer"),
        queryset=Customer.objects.active(),
        widget=ForeignKeyRawIdWidget(Account._meta.get_field("customer").remote_field, admin.site),
        help_text=_("The customer's id."),
    )
    channel = forms.ChoiceField(label=_("joined through"), choices=Channel.choices, initial=Channel.STORE)
    store = forms.ModelChoiceField(label=_("store"), queryset=Location.objects.none(), required=False)
    card_number = forms.CharField(
        label=_("card number"),
        max_length=32,
        required=False,
        validators=[validate_identifier],
        help_text=_("The pre-printed card handed over; empty: a virtual card with a new number."),
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class CardIssueForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CardKind.choices, initial=CardKind.PHYSICAL)
    number = forms.CharField(
        label=_("card number"),
        max_length=32,
        required=False,
        validators=[validate_identifier],
        help_text=_("The pre-printed card handed over; empty: a new number is generated."),
    )
    store = forms.ModelChoiceField(label=_("store"), queryset=Location.objects.none(), required=False)

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class CardReplaceForm(CardIssueForm):
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)


class AdjustmentForm(forms.Form):
    points = forms.IntegerField(
        label=_("points"), help_text=_("Positive to add points, negative to take them away (never below zero).")
    )
    reason = forms.CharField(label=_("reason"), max_length=255, help_text=_("Required; kept in the ledger."))

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Points must not be zero."))
        return points


def _stores_for(user):
    from inventory.selectors import locations_for_user

    return locations_for_user(user).order_by("code")


class CardInline(ReadOnlyInline):
    model = Card
    fk_name = "account"
    fields = ["number", "kind", "status", "store", "issued_at", "blocked_at", "block_reason", "card_actions"]
    readonly_fields = fields

    @admin.display(description=_("actions"))
    def card_actions(self, obj):
        if obj.status == CardStatus.REPLACED:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:loyalty_card_replace", args=[obj.pk]), gettext("Replace")
        )


class TierChangeInline(ReadOnlyInline):
    model = TierChange
    fields = ["created_at", "old_tier", "new_tier", "spend", "reason"]
    readonly_fields = fields
    verbose_name_plural = _("tier history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("old_tier", "new_tier")


class AccountBalanceFilter(admin.SimpleListFilter):
    title = _("points")
    parameter_name = "points"

    def lookups(self, request, model_admin):
        return [("yes", _("Has points available")), ("no", _("No points available"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(available_points__gt=0)
        if self.value() == "no":
            return queryset.filter(available_points=0)
        return queryset


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["customer", "card_number", "tier", "status", "available", "opened_at", "channel", "store"]
    list_filter = ["status", "tier", "channel", AccountBalanceFilter]
    list_select_related = ["customer", "tier", "store"]
    search_fields = ["=cards__number", "customer__last_name", "customer__first_name", "=customer__identities__value"]
    search_help_text = _("Search by card number, phone or e-mail (exact), or by name.")
    date_hierarchy = "opened_at"
    inlines = [CardInline, TierChangeInline]
    fields = [
        "customer",
        "status",
        "tier",
        "tier_changed_at",
        "opened_at",
        "channel",
        "store",
        "closed_at",
        "merged_into",
        "balance",
        "ledger",
    ]
    readonly_fields = fields
    change_form_template = "admin/loyalty/account/change_form.html"

    def get_queryset(self, request):
        # A subquery, not a join: the joins a search adds could not multiply the sum.
        now = timezone.now()
        available = (
            PointsEntry.objects.filter(
                account=OuterRef("pk"), remaining__gt=0, spendable_from__lte=now, expires_at__gt=now
            )
            .values("account")
            .annotate(total=Sum("remaining"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(available_points=Coalesce(Subquery(available), 0))
            .prefetch_related("cards")
        )

    def has_change_permission(self, request, obj=None):
        return False  # an account changes through its services (the buttons of its page)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("card"))
    def card_number(self, obj):
        card = selectors.primary_card(obj)
        return card.number if card else "—"

    @admin.display(description=_("available"), ordering="available_points")
    def available(self, obj):
        return obj.available_points

    @admin.display(description=_("balance"))
    def balance(self, obj):
        balance = selectors.balance(obj)
        values = {
            "available": balance.available,
            "pending": balance.pending,
            "expiring": balance.next_expiry_points,
            "date": balance.next_expiry_date,
        }
        if balance.next_expiry_at:
            text = gettext("%(available)d points available, %(pending)d pending; %(expiring)d expire on %(date)s.")
        else:
            text = gettext("%(available)d points available, %(pending)d pending; none expire.")
        return text % values

    @admin.display(description=_("ledger"))
    def ledger(self, obj):
        entries = selectors.entries_for_display(obj)[:LEDGER_ROWS_ON_ACCOUNT]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
                    entry.get_kind_display(),
                    f"{entry.points:+d}",
                    entry.remaining if entry.points > 0 else "",
                    timezone.localdate(entry.spendable_from) if entry.spendable_from else "",
                    timezone.localdate(entry.expires_at) if entry.expires_at else "",
                    f"{entry.cause_type} {entry.cause_id}".strip(),
                    entry.note or (entry.created_by or entry.api_key or ""),
                )
                for entry in entries
            ),
        )
        headers = format_html_join("", "<th>{}</th>", ((label,) for label in LEDGER_COLUMNS))
        full = reverse("admin:loyalty_pointsentry_changelist") + f"?account__id__exact={obj.pk}"
        return format_html(
            '<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            headers,
            rows,
            full,
            gettext("The whole ledger of this account"),
        )

    # --- Opening, cards and adjustments: each calls one service

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/issue-card/",
                self.admin_site.admin_view(self.issue_card_view),
                name="{}_{}_issue_card".format(*info),
            ),
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="{}_{}_adjust".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "can_issue_card": request.user.has_perm("loyalty.add_card"),
            "can_adjust": request.user.has_perm("loyalty.adjust_points"),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AccountOpenForm(request.POST or None, stores=_stores_for(request.user))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                account, created = services.account_open(
                    customer=data["customer"],
                    channel=data["channel"],
                    store=data["store"],
                    card_number=data["card_number"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                if created:
                    self.message_user(request, gettext("The account is open."), messages.SUCCESS)
                else:
                    self.message_user(request, gettext("This customer already has an account."), messages.WARNING)
                return redirect("admin:loyalty_account_change", account.pk)
        return render_form_page(
            self,
            request,
            form=form,
            title=gettext("Open a loyalty account"),
            submit_label=gettext("Open the account"),
            intro=gettext("The customer gets a card and the programme's welcome bonus."),
        )

    def issue_card_view(self, request, object_id):
        if not request.user.has_perm("loyalty.add_card"):
            raise PermissionDenied
        account = get_object_or_404(Account, pk=object_id)
        form = CardIssueForm(request.POST or None, stores=_stores_for(request.user))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                card = services.card_issue(
                    account=account,
                    kind=data["kind"],
                    number=data["number"],
                    store=data["store"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(request, gettext("Card %(number)s is issued.") % {"number": card.number})
                return redirect("admin:loyalty_account_change", account.pk)
        return render_form_page(
            self, request, form=form, title=gettext("Issue a card"), submit_label=gettext("Issue"), original=account
        )

    def adjust_view(self, request, object_id):
        if not request.user.has_perm("loyalty.adjust_points"):
            raise PermissionDenied
        account = get_object_or_404(Account, pk=object_id)
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = services.points_adjust(
                    account=account,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request, gettext("Points adjusted by %(points)+d.") % {"points": entry.points}, messages.SUCCESS
                )
                return redirect("admin:loyalty_account_change", account.pk)
        return render_form_page(
            self,
            request,
            form=form,
            title=gettext("Adjust points"),
            submit_label=gettext("Adjust"),
            original=account,
            intro=gettext("A manual adjustment is kept in the ledger with its reason and your name."),
        )


# --- Cards ------------------------------------------------------------------------------


@admin.register(Card)
class CardAdmin(ChangeHistoryAdminMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "kind", "status", "store", "issued_at", "blocked_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["account__customer", "store"]
    search_fields = ["=number"]
    fields = [
        "number",
        "account",
        "kind",
        "status",
        "store",
        "issued_at",
        "blocked_at",
        "block_reason",
        "replaced_by",
        "created_by",
    ]
    readonly_fields = fields
    actions = ["block"]

    def has_add_permission(self, request):
        return False  # issued from the account's page

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"), ordering="account__customer")
    def customer(self, obj):
        return obj.account.customer

    @admin.action(description=_("Block the selected cards (lost or stolen)"), permissions=["change"])
    def block(self, request, queryset):
        blocked = 0
        for card in queryset.filter(status=CardStatus.ACTIVE):
            try:
                services.card_block(
                    card=card,
                    reason=gettext("Blocked in the admin by %(user)s.") % {"user": request.user.get_username()},
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                blocked += 1
        self.message_user(
            request, ngettext("%(count)d card blocked.", "%(count)d cards blocked.", blocked) % {"count": blocked}
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/replace/",
                self.admin_site.admin_view(self.replace_view),
                name="{}_{}_replace".format(*info),
            ),
            *super().get_urls(),
        ]

    def replace_view(self, request, object_id):
        if not (request.user.has_perm("loyalty.change_card") and request.user.has_perm("loyalty.add_card")):
            raise PermissionDenied
        card = get_object_or_404(Card.objects.select_related("account__customer"), pk=object_id)
        form = CardReplaceForm(request.POST or None, stores=_stores_for(request.user), initial={"kind": card.kind})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                new = services.card_replace(
                    card=card,
                    kind=data["kind"],
                    number=data["number"],
                    store=data["store"],
                    reason=data["reason"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                message_domain_error(self, request, exc)
            else:
                self.message_user(
                    request,
                    gettext("Card %(old)s is replaced by %(new)s; the points stay on the account.")
                    % {"old": card.number, "new": new.number},
                    messages.SUCCESS,
                )
                return redirect("admin:loyalty_account_change", card.account_id)
        return render_form_page(
            self,
            request,
            form=form,
            title=gettext("Replace card %(number)s") % {"number": card.number},
            submit_label=gettext("Replace"),
            original=card,
        )


# --- The ledger (read-only) -------------------------------------------------------------


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        "bonus_type",
        "points",
        "remaining",
        "spendable_from",
        "expires_at",
        "cause_type",
        "cause_id",
        "channel",
        "store",
        "created_by",
        "note",
    ]
    list_filter = ["kind", "bonus_type", "channel", "store"]
    list_select_related = ["account__customer", "store", "created_by"]
    search_fields = ["=cause_id", "=account__cards__number"]
    search_help_text = _("Search by the exact reference of an order or a return, or a card number.")
    date_hierarchy = "created_at"


class OrderReturnInline(ReadOnlyInline):
    model = OrderPointsReturn
    fields = [
        "created_at",
        "reference",
        "amount",
        "points_cancelled",
        "points_taken_back",
        "shortfall_points",
        "shortfall_value",
        "points_given_back",
    ]
    readonly_fields = fields


@admin.register(OrderPoints)
class OrderPointsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "account",
        "channel",
        "store",
        "order_total",
        "points_redeemed",
        "points_earned",
        "completed_at",
    ]
    list_filter = ["channel", "store"]
    list_select_related = ["account__customer", "store"]
    search_fields = ["=reference"]
    inlines = [OrderReturnInline]


# --- Promo codes ------------------------------------------------------------------------


class PromoCodeForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Where the code is valid; none ticked: everywhere."),
    )

    class Meta:
        model = PromoCode
        fields = [
            "code",
            "description",
            "kind",
            "value",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "min_order_total",
            "channels",
            "segments",
            "is_active",
        ]

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        validate_identifier(code)
        return code

    def clean(self):
        data = super().clean()
        value = data.get("value")
        if data.get("kind") == PromoKind.POINTS and value is not None and value != int(value):
            self.add_error("value", _("Extra points are a whole number."))
        return data


class PromoUsageInline(ReadOnlyInline):
    model = PromoUsage
    fields = ["created_at", "reference", "customer", "channel", "order_total", "discount", "points", "status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")


@admin.register(PromoUsage)
class PromoUsageAdmin(ReadOnlyAdminMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "promo",
        "reference",
        "customer",
        "channel",
        "order_total",
        "discount",
        "points",
        "status",
    ]
    list_filter = ["status", "channel", "promo"]
    list_select_related = ["promo", "customer"]
    search_fields = ["=reference", "=promo__code"]
    date_hierarchy = "created_at"
    resource_classes = [PromoUsageResource]
    export_formats = [CSV, XLSX]

    def has_export_permission(self, request):
        return self.has_view_permission(request)


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    form = PromoCodeForm
    list_display = ["code", "kind", "value", "valid_from", "valid_until", "uses", "min_order_total", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "description"]
    filter_horizontal = ["segments"]
    readonly_fields = ["used_count"]
    inlines = [PromoUsageInline]

    def has_delete_permission(self, request, obj=None):
        return False  # switch a code off instead: its uses keep pointing at it

    @admin.display(description=_("used"), ordering="used_count")
    def uses(self, obj):
        if obj.max_uses is None:
            return str(obj.used_count)
        return f"{obj.used_count} / {obj.max_uses}"


# --- The customer's page: the loyalty balance -----------------------------------------------


class CustomerLoyaltyInline(ReadOnlyInline):
    """The customer's account, card, tier and balances on their page; customers never imports
    loyalty."""

    model = Account
    fk_name = "customer"
    formset = DisplayOnlyFormSet
    verbose_name = _("loyalty account")
    verbose_name_plural = _("loyalty balance")
    fields = ["account_link", "status", "tier", "card", "available", "pending", "next_expiry"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tier").filter(merged_into__isnull=True)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("loyalty.view_account")

    @admin.display(description=_("account"))
    def account_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:loyalty_account_change", args=[obj.pk]), obj)

    @admin.display(description=_("card"))
    def card(self, obj):
        card = selectors.primary_card(obj)
        return card.number if card else "—"

    @staticmethod
    def _balance(obj):
        """One balance query per account row, shared by the three columns."""
        if not hasattr(obj, "_balance"):
            obj._balance = selectors.balance(obj)
        return obj._balance

    @admin.display(description=_("available"))
    def available(self, obj):
        return self._balance(obj).available

    @admin.display(description=_("pending"))
    def pending(self, obj):
        return self._balance(obj).pending

    @admin.display(description=_("next to expire"))
    def next_expiry(self, obj):
        balance = self._balance(obj)
        if not balance.next_expiry_points:
            return "—"
        return gettext("%(points)d on %(date)s") % {
            "points": balance.next_expiry_points,
            "date": formats.date_format(balance.next_expiry_date, "SHORT_DATE_FORMAT"),
        }


add_customer_page_inline(CustomerLoyaltyInline, first=True)
