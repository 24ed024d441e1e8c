"""Accounts and their cards: opened, given cards, adjusted, blocked and replaced through
``loyalty.services``; an account's page shows its balance and its ledger."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from inventory.forms import message_domain_error
from inventory.models import Location
from inventory.selectors import locations_for_user
from loyalty import selectors, services
from loyalty.models import Account, Card, CardKind, CardStatus, PointsEntry, TierChange
from omni.core.actors import Actor
from omni.core.admin_mixins import ChangeHistoryAdminMixin, ReadOnlyInline, render_form_page
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
