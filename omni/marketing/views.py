"""The unsubscribe page a campaign's link opens: no sign-in, the signed token is the proof.

A GET only asks (mail scanners follow links); the button POSTs, which withdraws the consent.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.models import MessageChannel
from omni.core.errors import DomainError
from omni.marketing.unsubscribe import unsubscribe_apply, unsubscribe_read


@csrf_exempt  # one-click unsubscribe (RFC 8058) POSTs from the mail client; the token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        found = unsubscribe_apply(token) if request.method == "POST" else unsubscribe_read(token)
    except DomainError as error:
        return render(request, "marketing/unsubscribe.html", {"error": str(error.message)}, status=400)
    context = {
        "channel": MessageChannel(found.channel).label,
        "done": request.method == "POST",
        "title": _("Unsubscribe"),
    }
    return render(request, "marketing/unsubscribe.html", context)
