"""Probable duplicates, listed by ``duplicates_detect``: staff merge each pair or mark it as two people."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers import merge, services
from customers.admin.customer import customer_link
from customers.models import Customer, DuplicateCandidate, DuplicateStatus, Identity
from omni.core.actors import Actor
from omni.core.admin_mixins import ReadOnlyAdminMixin
from omni.core.errors import DomainError


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "first_customer", "second_customer", "reason", "status", "created_at", "reviewed_by"]
    list_filter = ["status", "reason"]
    actions = ["merge_pairs", "dismiss_pairs"]
    change_list_template = "admin/customers/duplicatecandidate/change_list.html"

    def get_queryset(self, request):
        identities = Prefetch("identities", queryset=Identity.objects.order_by("kind", "id"))
        return (
            super()
            .get_queryset(request)
            .select_related("first", "second", "reviewed_by")
            .prefetch_related(
                Prefetch("first__identities", queryset=identities.queryset),
                Prefetch("second__identities", queryset=identities.queryset),
            )
        )

    def has_merge_permission(self, request):
        return request.user.has_perm("customers.merge_customer")

    @staticmethod
    def _describe(customer: Customer):
        contacts = ", ".join(i.value for i in customer.identities.all())
        born = customer.birthday.isoformat() if customer.birthday else ""
        return format_html("{}<br><small>{} {}</small>", customer_link(customer), contacts, born)

    @admin.display(description=_("first customer"))
    def first_customer(self, obj):
        return self._describe(obj.first)

    @admin.display(description=_("second customer"))
    def second_customer(self, obj):
        return self._describe(obj.second)

    @admin.action(description=_("Merge each pair, keeping the older profile"), permissions=["merge"])
    def merge_pairs(self, request, queryset):
        merged = 0
        for candidate in queryset.filter(status=DuplicateStatus.OPEN).order_by("pk"):
            try:
                merge.customer_merge(survivor=candidate.first, merged=candidate.second, actor=Actor(user=request.user))
            except DomainError as exc:
                self.message_user(request, f"{candidate}: {exc.message}", messages.ERROR)
            else:
                merged += 1
        self.message_user(
            request,
            ngettext("%(count)d pair merged.", "%(count)d pairs merged.", merged) % {"count": merged},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark as different people"), permissions=["merge"])
    def dismiss_pairs(self, request, queryset):
        count = 0
        for candidate in queryset.filter(status=DuplicateStatus.OPEN):
            services.duplicate_dismiss(candidate=candidate, actor=Actor(user=request.user))
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d pair dismissed.", "%(count)d pairs dismissed.", count) % {"count": count},
            messages.SUCCESS,
        )

    def get_urls(self):
        detect = path(
            "detect/", self.admin_site.admin_view(self.detect_view), name="customers_duplicatecandidate_detect"
        )
        return [detect, *super().get_urls()]

    def detect_view(self, request):
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        count = services.duplicates_detect()
        self.message_user(
            request,
            ngettext("%(count)d new probable duplicate found.", "%(count)d new probable duplicates found.", count)
            % {"count": count},
        )
        return HttpResponseRedirect(reverse("admin:customers_duplicatecandidate_changelist"))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_merge": self.has_merge_permission(request)}
        return super().changelist_view(request, extra_context)
