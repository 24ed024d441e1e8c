"""The public page an NPS request links to: no sign-in, the signed token is the proof.

A GET only shows the question (link previews and mail scanners follow links); the form POSTs the
score and the comment, which ``omni.marketing.nps.nps_answer`` records once. The page speaks the
customer's language, like the message that carried the link.
"""

from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from omni.core.errors import DomainError
from omni.marketing.nps import COMMENT_MAX, nps_answer, nps_check_open, nps_request_of
from omni.marketing.rendering import message_language

SCORES = range(11)


def _language(customer_id: int) -> str:
    customer = Customer.objects.filter(pk=customer_id).only("language").first()
    return message_language(customer) if customer is not None else translation.get_language()


@csrf_exempt  # the customer is not signed in and may open the link in a messenger's browser; the token is the proof
@require_http_methods(["GET", "POST"])
def nps(request, token: str):
    context = {"scores": SCORES, "comment_max": COMMENT_MAX}
    try:
        found = nps_request_of(token)
    except DomainError as error:
        return render(request, "marketing/nps.html", {**context, "error": str(error.message)}, status=error.status)
    with translation.override(_language(found.customer_id)):
        context["store"] = found.store.name if found.store is not None else ""
        try:
            if request.method == "GET":
                nps_check_open(found, now=timezone.now())
                return render(request, "marketing/nps.html", context)
            raw_score = request.POST.get("score", "")
            comment = request.POST.get("comment", "")
            if not raw_score.isdigit() or int(raw_score) not in SCORES:
                context.update(comment=comment, missing_score=True)
                return render(request, "marketing/nps.html", context, status=400)
            nps_answer(token=token, score=int(raw_score), comment=comment)
        except DomainError as error:
            return render(request, "marketing/nps.html", {**context, "error": str(error.message)}, status=error.status)
        return render(request, "marketing/nps.html", {**context, "done": True})
