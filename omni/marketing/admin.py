"""The campaign page: the form while a draft, the preview, a test send to oneself, the send button,
then the progress and the results. Buttons POST to the campaign's own URLs and call one service each."""

import datetime
from dataclasses import fields

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from customers.models import MessageChannel
from omni.core.actors import Actor
from omni.core.errors import DomainError
from omni.core.formats import format_count, format_money
from omni.marketing import services
from omni.marketing.models import Campaign, CampaignStatus, Cart, NpsRequest, Recipient, SkipReason
from omni.marketing.rendering import LANGUAGES, PLACEHOLDERS, render, sample_values, texts_compile
from omni.marketing.results import campaign_preview, campaign_results

RECOVERED_DAYS = 30
DATA_FIELDS = [item.name for item in fields(services.CampaignData)]


class CampaignForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=capfirst(gettext_lazy("channels")), choices=MessageChannel.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Campaign
        fields = DATA_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {name: cleaned.get(name) for name in DATA_FIELDS}
        values["channels"] = tuple(values["channels"] or ())
        values["bonus_points"] = values["bonus_points"] or 0
        try:
            self.campaign_data = services.CampaignData(**values)
            services.campaign_check(self.campaign_data)
        except DomainError as error:
            field = error.details.get("field")
            self.add_error(field if field in self.fields else None, str(error.message))
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/marketing/campaign/change_form.html"
    list_display = ["name", "segment", "status", "send_at", "total", "processed", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["segment"]
    autocomplete_fields = ["segment"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return DATA_FIELDS
        return []

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            services.campaign_update(campaign=obj, data=form.campaign_data, actor=actor)
            return
        obj.pk = services.campaign_create(data=form.campaign_data, actor=actor).pk

    def get_urls(self):
        own = [
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view), name="marketing_campaign_send"),
            path("<int:pk>/test/", self.admin_site.admin_view(self.test_view), name="marketing_campaign_test"),
            path("<int:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="marketing_campaign_cancel"),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if campaign is not None:
            extra.update(self._panels(request, campaign))
        return super().change_view(request, object_id, form_url, extra)

    def _panels(self, request, campaign: Campaign) -> dict:
        context = {
            "placeholders": PLACEHOLDERS,
            "can_send": request.user.has_perm("marketing.send_campaign"),
            "is_draft": campaign.status == CampaignStatus.DRAFT,
            "under_way": campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING),
        }
        try:
            texts = texts_compile(campaign)
            context["samples"] = [
                (
                    lang,
                    *render(
                        texts,
                        language=lang,
                        values=sample_values(campaign, name=request.user.first_name or "Anna", language=lang),
                    ),
                )
                for lang in LANGUAGES
            ]
        except DomainError:
            context["samples"] = []
        if campaign.status == CampaignStatus.DRAFT and request.GET.get("preview"):
            preview = campaign_preview(campaign)
            context["preview"] = preview
            context["skip_labels"] = [(SkipReason(reason).label, count) for reason, count in preview.skipped.items()]
            context["channel_labels"] = [(MessageChannel(ch).label, count) for ch, count in preview.by_channel.items()]
        if campaign.status != CampaignStatus.DRAFT:
            results = campaign_results(campaign)
            context["results"] = results
            context["skip_labels"] = [(SkipReason(reason).label, count) for reason, count in results.skipped.items()]
            total = campaign.total or 0
            context["progress"] = round(campaign.processed * 100 / total) if total else 0
        return context

    def _act(self, request, pk: int, permission: str, act):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            message = act(campaign, Actor.from_request(request))
            self.message_user(request, message, messages.SUCCESS)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
        return redirect(reverse("admin:marketing_campaign_change", args=[pk]))

    @staticmethod
    def _send(campaign, actor):
        campaign = services.campaign_launch(campaign=campaign, actor=actor)
        if campaign.send_at and campaign.status == CampaignStatus.SCHEDULED:
            return _("The campaign is scheduled.")
        return _("The campaign is being sent.")

    def send_view(self, request, pk: int):
        return require_POST(lambda req: self._act(req, pk, "marketing.send_campaign", self._send))(request)

    def test_view(self, request, pk: int):
        def test(campaign, actor):
            language = request.POST.get("language", "ru")
            services.campaign_test_send(campaign=campaign, email=request.user.email, language=language, actor=actor)
            return _("A test was sent to %(email)s.") % {"email": request.user.email}

        return require_POST(lambda req: self._act(req, pk, "marketing.change_campaign", test))(request)

    def cancel_view(self, request, pk: int):
        def cancel(campaign, actor):
            services.campaign_cancel(campaign=campaign, actor=actor)
            return _("The campaign is cancelled.")

        return require_POST(lambda req: self._act(req, pk, "marketing.send_campaign", cancel))(request)


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["campaign", "customer", "status", "reason", "channel", "promo_code", "due_at", "decided_at"]
    list_filter = ["status", "reason", "channel", "in_control"]
    list_select_related = ["campaign", "customer"]
    search_fields = ["campaign__name", "promo_code"]
    raw_id_fields = ["campaign", "customer", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Carts the shop and the app reported, their reminders and what the reminders brought back."""

    list_display = [
        "external_id",
        "channel",
        "customer",
        "status",
        "reason",
        "changed_at",
        "reminded_at",
        "recovered_order",
        "recovered_total",
    ]
    list_filter = ["status", "channel", "reason"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "recovered_order"]
    raw_id_fields = ["customer", "reminder"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        since = timezone.now() - datetime.timedelta(days=RECOVERED_DAYS)
        figures = Cart.objects.filter(reminded_at__gte=since).aggregate(
            reminded=Count("pk"), recovered=Count("pk", filter=~Q(recovered_order="")), revenue=Sum("recovered_total")
        )
        period = ngettext("Last %(days)s day", "Last %(days)s days", RECOVERED_DAYS) % {"days": RECOVERED_DAYS}
        subtitle = _(
            "%(period)s: %(reminded)s reminders, %(recovered)s carts recovered, %(revenue)s recovered revenue."
        ) % {
            "period": period,
            "reminded": format_count(figures["reminded"]),
            "recovered": format_count(figures["recovered"]),
            "revenue": format_money(figures["revenue"] or 0),
        }
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": subtitle})


class NpsAnswerFilter(admin.SimpleListFilter):
    title = gettext_lazy("answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [
            ("promoter", _("promoters (9–10)")),
            ("passive", _("passives (7–8)")),
            ("detractor", _("detractors (0–6)")),
        ]

    def queryset(self, request, queryset):
        ranges = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
        if self.value() in ranges:
            low, high = ranges[self.value()]
            return queryset.filter(feedback__score__gte=low, feedback__score__lte=high)
        return queryset


@admin.register(NpsRequest)
class NpsRequestAdmin(admin.ModelAdmin):
    """NPS requests: when each is due or was sent and by which channel, why one was not sent, and
    the answers with their comments and the cases low scores opened. Read-only: they follow orders."""

    # Six columns fit beside the filters at 1366 px: the store by its code, why a request was not
    # sent with its status, the comment and the case a low score opened with the score.
    list_display = ["order", "store_code", "status_and_reason", "answer", "due_at", "customer"]
    list_filter = [
        ("store", admin.RelatedOnlyFieldListFilter),
        "status",
        NpsAnswerFilter,
        "channel",
        "sent_via",
        "reason",
    ]
    list_select_related = ["order", "customer", "store", "feedback__case"]
    search_fields = ["order__number"]
    raw_id_fields = ["order", "customer", "message", "feedback"]
    date_hierarchy = "due_at"
    fields = [
        "order",
        "customer",
        "store",
        "channel",
        "status",
        "reason",
        "due_at",
        "sent_via",
        "sent_at",
        "message",
        "answered_at",
        "score",
        "answer_comment",
        "case",
    ]
    readonly_fields = ["score", "answer_comment", "case"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("score"), ordering="feedback__score")
    def score(self, obj):
        return obj.feedback.score if obj.feedback_id else self.get_empty_value_display()

    @admin.display(description=gettext_lazy("store"), ordering="store__code")
    def store_code(self, obj):
        return obj.store.code if obj.store_id else self.get_empty_value_display()

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_and_reason(self, obj):
        if not obj.reason:
            return obj.get_status_display()
        return format_html("{}<br><small>{}</small>", obj.get_status_display(), obj.get_reason_display())

    @admin.display(description=gettext_lazy("answer"), ordering="feedback__score")
    def answer(self, obj):
        """The score, the comment cut to 80 characters, and the case a low score opened."""
        if not obj.feedback_id:
            return self.get_empty_value_display()
        feedback, parts = obj.feedback, [format_html("<strong>{}</strong>", obj.feedback.score)]
        if feedback.comment:
            text = feedback.comment
            parts.append(format_html("{}", text if len(text) <= 80 else text[:79] + "…"))
        if feedback.case_id:
            parts.append(format_html('<span class="nowrap">{}</span>', self.case(obj)))
        return format_html_join(" · ", "{}", ((part,) for part in parts))

    @admin.display(description=gettext_lazy("comment"))
    def answer_comment(self, obj):
        return obj.feedback.comment if obj.feedback_id else ""

    @admin.display(description=gettext_lazy("case"))
    def case(self, obj):
        if not obj.feedback_id or not obj.feedback.case_id:
            return ""
        case = obj.feedback.case
        return format_html('<a href="{}">{}</a>', reverse("admin:customers_case_change", args=[case.pk]), case.number)
