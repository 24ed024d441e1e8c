"""Requests for goods in the transfer admin: a store asks a warehouse (or another location), and
the source ships what it can, refuses lines, or declines the request with a reason.

Asking needs the right to add transfers and a destination the user works at; answering needs the
right to ship transfers and a source the user works at, as shipping does.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext, gettext_lazy

from inventory.forms import TransferAskForm, TransferShipForm, message_domain_error
from inventory.models import Location, Transfer, TransferStatus
from inventory.selectors import available_at
from inventory.services import transfer_accept, transfer_ask, transfer_decline, transfer_ship_asked
from omni.core.actors import Actor
from omni.core.errors import DomainError

SHIP, RESERVE, DECLINE = "_ship", "_reserve", "_decline"


class TransferRequestsMixin:
    """``ask_view`` and ``answer_view`` for ``TransferAdmin``."""

    def request_urls(self):
        return [
            path("ask/", self.admin_site.admin_view(self.ask_view), name="inventory_transfer_ask"),
            path(
                "<path:object_id>/ship/", self.admin_site.admin_view(self.answer_view), name="inventory_transfer_ship"
            ),
        ]

    def can_answer(self, request, transfer: Transfer) -> bool:
        return (
            transfer.status == TransferStatus.ASKED
            and self.has_ship_permission(request)
            and self.works_at(request, transfer.source_id)
        )

    def ask_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TransferAskForm(
            request.POST or None,
            sources=Location.objects.active(),
            destinations=self.user_locations(request).filter(is_active=True),
        )
        return self.new_transfer_page(
            request,
            form,
            service=transfer_ask,
            done=gettext_lazy(
                "Request %(number)s is sent to %(source)s. Nothing is reserved until %(source)s ships it."
            ),
            title=gettext("Ask for goods"),
            submit_label=gettext("Send the request"),
            intro=gettext(
                "Ask a warehouse or another store for goods. It ships what it can, or declines with a reason; "
                "you receive the goods as any transfer."
            ),
        )

    def answer_view(self, request, object_id):
        transfer = self.get_object(request, unquote(object_id))
        if transfer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.has_ship_permission(request) and self.works_at(request, transfer.source_id)):
            raise PermissionDenied
        if transfer.status != TransferStatus.ASKED:
            self.message_user(
                request,
                gettext("Transfer %(number)s is %(status)s; only a request can be shipped from here.")
                % {"number": transfer.number, "status": transfer.get_status_display()},
                messages.ERROR,
            )
            return redirect("admin:inventory_transfer_change", transfer.pk)
        lines = list(transfer.lines.all())
        available = available_at(transfer.source_id, [line.product_id for line in lines])
        form = TransferShipForm(request.POST or None, lines=lines, available=available)
        if request.method == "POST" and form.is_valid():
            answered = self.answer(request, transfer, form)
            if answered is not None:
                self.message_user(request, answered, messages.SUCCESS)
                return redirect("admin:inventory_transfer_change", transfer.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Ship request %(number)s to %(destination)s")
            % {"number": transfer.number, "destination": transfer.destination},
            "intro": gettext(
                "Enter the units you send of each line: less than asked for if you must, 0 to refuse a line. "
                "Or decline the whole request with a reason."
            ),
            "form": form,
            "opts": self.opts,
            "original": transfer,
            "buttons": {"ship": SHIP, "reserve": RESERVE, "decline": DECLINE},
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/inventory/transfer/ship_request.html", context)

    def answer(self, request, transfer, form) -> str | None:
        """Ship, reserve or decline as the button pressed says; the success message, or None."""
        actor = Actor(user=request.user)
        values = {"number": transfer.number, "destination": transfer.destination}
        try:
            if DECLINE in request.POST:
                transfer_decline(transfer=transfer, reason=form.cleaned_data["reason"], actor=actor)
                return gettext("Request %(number)s is declined; %(destination)s sees your reason.") % values
            if RESERVE in request.POST:
                transfer_accept(transfer=transfer, sending=form.sending(), actor=actor)
                return gettext("Request %(number)s is reserved; ship it from the list when it is packed.") % values
            transfer_ship_asked(transfer=transfer, sending=form.sending(), actor=actor)
            return gettext("Request %(number)s is shipped to %(destination)s.") % values
        except DomainError as exc:
            message_domain_error(self, request, exc)
            return None
