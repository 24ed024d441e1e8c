"""NPS over the API: the app and the messenger bots answer a request with its token; figures by
store, channel or month. Views parse input and call ``omni.marketing.nps`` and
``omni.marketing.nps_figures``; refusals are rendered by ``omni.core.api.exceptions``."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import Location
from inventory.selectors import visible_locations
from omni.core import dates
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import StrictInputSerializer, WholeNumberField
from omni.core.channels import SALES_CHANNEL_CHOICES, Channel
from omni.core.errors import InvalidInput
from omni.core.models import ApiKey
from omni.core.scopes import Scope
from omni.marketing.nps import COMMENT_MAX, nps_answer
from omni.marketing.nps_figures import GROUPS, NpsFigures, nps_cube, nps_rollup, nps_total

NPS = "nps"
MAX_DAYS = 366
DEFAULT_DAYS = 30


class AnswerInputSerializer(StrictInputSerializer):
    token = serializers.CharField(max_length=200, help_text=_("The token of the request, from its link."))
    score = WholeNumberField(min_value=0, max_value=10, help_text=_("0 to 10."))
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default="", help_text=_("What could be better.")
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Where the answer came from; by default the channel the request was sent by."),
    )


class AnswerSerializer(serializers.Serializer):
    order = serializers.CharField(help_text=_("The number of the order rated."))
    score = serializers.IntegerField()
    feedback_id = serializers.IntegerField()
    case = serializers.CharField(allow_null=True, help_text=_("The number of the case a low score opened."))
    answered_at = serializers.DateTimeField()


class FiguresQuerySerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=GROUPS, default="store")
    date_from = dates.DateField(required=False)
    date_to = dates.DateField(required=False)
    store = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=SALES_CHANNEL_CHOICES, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        date_to = attrs.get("date_to") or timezone.localdate()
        date_from = attrs.get("date_from") or date_to - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise serializers.ValidationError({"date_to": [_("The period ends before it starts.")]})
        if (date_to - date_from).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"date_to": [_("A period is at most %(days)d days long.") % {"days": MAX_DAYS}]}
            )
        return {**attrs, "date_from": date_from, "date_to": date_to}


class FiguresRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The store's code, the channel, or the month (YYYY-MM)."))
    label = serializers.CharField(help_text=_("The store's name, the channel or the month, for people."))
    sent = serializers.IntegerField(help_text=_("Requests sent in the period."))
    answered = serializers.IntegerField(help_text=_("Of them, answered."))
    answered_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    promoters = serializers.IntegerField(help_text=_("Answers of 9 or 10."))
    passives = serializers.IntegerField(help_text=_("Answers of 7 or 8."))
    detractors = serializers.IntegerField(help_text=_("Answers of 0 to 6."))
    nps = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        allow_null=True,
        help_text=_("Promoters less detractors, in per cent of the answers; null without answers."),
    )


class FiguresSerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=GROUPS)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    rows = FiguresRowSerializer(many=True)
    total = FiguresRowSerializer()


def _row(key: str, label: str, figures: NpsFigures) -> dict:
    return {
        "key": key,
        "label": label,
        "sent": figures.sent,
        "answered": figures.answered,
        "answered_percent": figures.answered_percent,
        "promoters": figures.promoters,
        "passives": figures.passives,
        "detractors": figures.detractors,
        "nps": figures.nps,
    }


class NpsAnswerView(APIView):
    required_scopes = {"POST": Scope.NPS_WRITE}
    staff_permissions = {"POST": "customers.add_feedback"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="nps_answer",
        summary="Record a customer's answer to an NPS request",
        description=(
            "The app or a messenger bot passes on the customer's 0–10 score (and comment) with the request's "
            "token, the one in the link the customer got. The answer becomes the customer's feedback on the "
            "order; a score at or below `CUSTOMERS_FEEDBACK_CASE_THRESHOLD` opens a case for the store's manager. "
            "A request is answered once (`nps_already_answered`), within `MARKETING_NPS_ANSWER_DAYS` of sending "
            "(`nps_link_expired`); an unknown or altered token is `nps_link_invalid`. With an `Idempotency-Key`, "
            "a retry returns the first answer. Needs `nps:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=AnswerInputSerializer,
        examples=[
            OpenApiExample(
                "A 9 from the messenger bot",
                value={"token": "MTI:1tXk2b:…", "score": 9, "comment": "Quick pickup", "channel": "messenger"},
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(AnswerSerializer, description="The answer as recorded."),
            **error_responses(
                400,
                409,
                422,
                e400="Invalid input or an unknown token (`invalid`, `nps_link_invalid`): nothing recorded.",
                e409="Already answered (`nps_already_answered`) or expired (`nps_link_expired`).",
            ),
        },
        tags=[NPS],
    )
    def post(self, request):
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def answer():
            answered = nps_answer(
                token=data["token"],
                score=data["score"],
                comment=data["comment"],
                channel=data["channel"],
                actor=Actor.from_request(request),
            )
            feedback = answered.feedback
            body = {
                "order": answered.order.number,
                "score": feedback.score,
                "feedback_id": feedback.pk,
                "case": feedback.case.number if feedback.case_id else None,
                "answered_at": answered.answered_at,
            }
            return Response(AnswerSerializer(body).data, status=status.HTTP_201_CREATED)

        return idempotent(request, answer)


class NpsFiguresView(APIView):
    required_scopes = {"GET": Scope.NPS_READ}
    staff_permissions = {"GET": "reports.view_dashboard"}

    @extend_schema(
        operation_id="nps_figures",
        summary="NPS by store, channel or month",
        description=(
            "Of the NPS requests sent in the period (by the local day they were sent, both days included, at "
            "most 366 days; by default the last 30 days), per `group`: how many were sent and answered, the "
            "share answered, promoters (9–10), passives (7–8), detractors (0–6) and the NPS (promoters less "
            "detractors in per cent of the answers, −100 to 100), with the total. `store` (a code) and "
            "`channel` narrow it. Staff signed in to the admin see their own stores. Needs `nps:read`."
        ),
        parameters=[
            OpenApiParameter(
                "group", str, enum=list(GROUPS), description="`store` (the default), `channel` or `month`."
            ),
            OpenApiParameter("date_from", datetime.date, description="First day, included."),
            OpenApiParameter("date_to", datetime.date, description="Last day, included (default today)."),
            OpenApiParameter("store", str, description="A store's code."),
            OpenApiParameter("channel", str, enum=[value for value, _label in SALES_CHANNEL_CHOICES]),
        ],
        responses={200: FiguresSerializer, **error_responses(400)},
        tags=[NPS],
    )
    def get(self, request):
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        store_id = None
        if options["store"]:
            store_id = Location.objects.filter(code=options["store"]).values_list("pk", flat=True).first()
            if store_id is None:
                raise InvalidInput.for_field("store", _("No store has this code."))
        location_ids = None  # an integration's key: every store
        if not isinstance(request.auth, ApiKey):  # staff signed in to the admin: their own stores
            location_ids = visible_locations(request.user).ids
        cells = nps_cube(
            date_from=options["date_from"],
            date_to=options["date_to"],
            location_ids=location_ids,
            store_id=store_id,
            channel=options["channel"],
        )
        body = {
            "group": options["group"],
            "date_from": options["date_from"],
            "date_to": options["date_to"],
            "rows": [_row(row.key, row.label, row.figures) for row in nps_rollup(cells, options["group"])],
            "total": _row("", str(_("total")), nps_total(cells)),
        }
        return Response(FiguresSerializer(body).data)
