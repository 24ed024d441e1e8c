"""The count screen: what was counted, previewed against the system's figures, then posted.

The first submit changes nothing: it shows, per product, the units on hand, the units counted and
the difference. Posting sends the on-hand figures the preview showed with the count, and
``inventory.services.stock_count`` refuses the count if any of them changed in between, so a
sale made while the manager was reading the preview is never silently undone.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from inventory.forms import (
    StockDocumentForm,
    format_count_snapshot,
    merged_quantities,
    message_domain_error,
    parse_count_snapshot,
)
from inventory.selectors import count_preview, uncounted_items
from inventory.services import stock_count
from omni.core.actors import Actor
from omni.core.errors import DomainError

POST_BUTTON = "_post"


class StockCountScreenMixin:
    """``count_view`` for ``StockAdmin``: enter, preview, post."""

    def count_view(self, request, screen):
        form = StockDocumentForm(request.POST or None, locations=self.user_locations(request), allow_zero=True)
        if request.method != "POST" or not form.is_valid():
            return self.render_count_page(request, screen, form, preview=None)
        data = form.cleaned_data
        counted = merged_quantities(data["lines"])
        if POST_BUTTON in request.POST:
            shown = parse_count_snapshot(request.POST.get("shown", ""))
            if shown is None or shown[0] != data["location"].pk or set(shown[1]) != set(counted):
                self.message_user(
                    request,
                    gettext("The lines changed since the preview: check the differences below and post again."),
                    messages.WARNING,
                )
            else:
                posted = self.post_count(request, data, expected_on_hand=shown[1])
                if posted is not None:
                    return posted
        return self.render_count_page(request, screen, form, preview=count_preview(data["location"], counted))

    def post_count(self, request, data, *, expected_on_hand):
        """Record the count; the redirect to the stock list, or None when the service refused it."""
        try:
            document, created = stock_count(
                location=data["location"],
                lines=data["lines"],
                number=data["number"],
                note=data["note"],
                actor=Actor(user=request.user),
                expected_on_hand=expected_on_hand,
            )
        except DomainError as exc:
            message_domain_error(self, request, exc)
            return None
        self.message_document(request, document, created)
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return redirect(f"{changelist}?location__id__exact={document.location_id}")

    def render_count_page(self, request, screen, form, *, preview):
        context = {
            **self.admin_site.each_context(request),
            "title": screen.title,
            "intro": screen.intro,
            "form": form,
            "opts": self.opts,
            "preview": preview,
        }
        if preview is not None:
            location = form.cleaned_data["location"]
            context.update(
                location=location,
                shown=format_count_snapshot(location.pk, {line.product.pk: line.on_hand for line in preview}),
                short=[line for line in preview if line.difference < 0],
                short_units=-sum(line.difference for line in preview if line.difference < 0),
                over=[line for line in preview if line.difference > 0],
                over_units=sum(line.difference for line in preview if line.difference > 0),
                unchanged=sum(1 for line in preview if line.difference == 0),
                uncounted=uncounted_items(location, [line.product.pk for line in preview]),
                blocked=any(line.below_reserved for line in preview),
            )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/inventory/stock/count.html", context)
