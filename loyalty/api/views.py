"""The loyalty API: accounts and their ledger, cards, quotes, redemptions, one-time codes and
promo code validation.

Views parse input, call one service or selector and present the result; the rules are in
``loyalty.services``, and the errors they raise are rendered by ``omni.core.api.exceptions``. A
customer is named by ``customer_id`` (the id of a merged profile resolves to the survivor) or by
a loyalty ``card`` number.
"""

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from customers.selectors import customer_resolve
from inventory.errors import UnknownLocation, UnknownProducts
from inventory.models import Location, Product
from inventory.selectors import location_by_code
from loyalty import selectors, services
from loyalty.api.serializers import (
    AccountOpenSerializer,
    AccountSerializer,
    CardChangeSerializer,
    CardLookupSerializer,
    CodeRequestSerializer,
    CodeSentSerializer,
    EntrySerializer,
    PromoQuoteSerializer,
    PromoValidateInputSerializer,
    QuoteInputSerializer,
    QuoteSerializer,
    RedemptionInputSerializer,
    RedemptionSerializer,
    currency,
)
from loyalty.errors import NoAccount, UnknownCard
from loyalty.filters import EntryFilter
from loyalty.models import Account, Card, PointsEntry
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent, idempotent_replay
from omni.core.api.pagination import SyncPagination
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.errors import NotFound
from omni.core.scopes import Scope

LOYALTY = "loyalty"

CUSTOMER_ID = OpenApiParameter(
    "customer_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The customer's id. The id of a profile merged into another resolves to the survivor.",
)
CARD_NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The card's number.")
WHO_ERRORS = (
    "No customer has this id (`not_found`), no card this number (`unknown_card`), or the customer has no "
    "loyalty account (`no_account`)."
)
CART_ERRORS = (
    "Invalid input (`invalid`, `details.fields` names the field), unknown SKUs (`unknown_sku`), an unknown "
    "store (`unknown_location`): nothing was changed."
)


# --- Helpers ----------------------------------------------------------------------------


def _customer_or_404(customer_id: int) -> Customer:
    customer = customer_resolve(customer_id)
    if customer is None:
        raise NotFound(
            gettext("No customer has id %(id)s.") % {"id": customer_id}, details={"customer_id": customer_id}
        )
    return customer


def _who(data: dict) -> Customer:
    if data.get("customer_id"):
        return _customer_or_404(data["customer_id"])
    return services.account_by_card(data["card"]).customer


def _cart(lines: list[dict]) -> list[services.CartLine]:
    skus = list(dict.fromkeys(line["sku"] for line in lines))
    products = {
        sku: (pk, category_id)
        for sku, pk, category_id in Product.objects.filter(sku__in=skus).values_list("sku", "pk", "category_id")
    }
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise UnknownProducts(
            gettext("Unknown SKUs: %(skus)s.") % {"skus": ", ".join(unknown)}, details={"skus": unknown}
        )
    return [
        services.CartLine(
            product_id=products[line["sku"]][0],
            category_id=products[line["sku"]][1],
            quantity=line["quantity"],
            amount=line["amount"],
        )
        for line in lines
    ]


def _store(code: str | None) -> Location | None:
    if not code:
        return None
    location = location_by_code(code)
    if location is None:
        raise UnknownLocation(
            gettext("Unknown location codes: %(codes)s.") % {"codes": code}, details={"locations": [code]}
        )
    return location


def account_body(account: Account, *, now=None) -> dict:
    """An account as the API shows it (cards must be prefetched: ``selectors.accounts_for_display``)."""
    balance = selectors.balance(account, now=now)
    card = selectors.primary_card(account)
    return {
        "customer_id": account.customer_id,
        "status": account.status,
        "opened_at": account.opened_at,
        "card": card.number if card else None,
        "cards": list(account.cards.all()),
        "tier": account.tier,
        "available": balance.available,
        "pending": balance.pending,
        "next_expiry": (
            {"points": balance.next_expiry_points, "date": balance.next_expiry_date} if balance.next_expiry_at else None
        ),
        "point_value": services.programme_current().point_value,
        "currency": currency(),
    }


def _account_of(customer: Customer) -> Account:
    account = selectors.accounts_for_display().filter(customer=customer).first()
    if account is None:
        raise NoAccount(details={"customer_id": customer.pk})
    return account


# --- Accounts ---------------------------------------------------------------------------


class AccountOpenView(APIView):
    required_scopes = {"POST": Scope.LOYALTY_WRITE}
    staff_permissions = {"POST": "loyalty.add_account"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_accounts_open",
        summary="Open a loyalty account",
        description=(
            "Opens the customer's account with a card and the programme's welcome bonus, or returns the account "
            "they already have (one per customer). `card_number` issues a pre-printed card handed over in a "
            "store; without it a virtual card is issued. The card number becomes an identity of the customer, "
            "so lookup by card works everywhere. Needs the scope `loyalty:write`."
        ),
        request=AccountOpenSerializer,
        responses={
            200: OpenApiResponse(AccountSerializer, description="The customer already had an account."),
            201: OpenApiResponse(AccountSerializer, description="The account was opened."),
            **error_responses(
                400,
                404,
                409,
                e400="Invalid input (`invalid`), a card number that is not an EAN-13 (`invalid_card_number`) or an "
                "unknown store (`unknown_location`): nothing was changed.",
                e404="No customer has this id (`not_found`).",
                e409="The card number is issued already (`card_number_taken`) or the customer's data was erased "
                "(`customer_anonymised`).",
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request):
        serializer = AccountOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer_or_404(data["customer_id"])
        account, created = services.account_open(
            customer=customer,
            channel=data["channel"],
            store=_store(data.get("store")),
            card_number=data.get("card_number", ""),
            actor=Actor.from_request(request),
        )
        body = AccountSerializer(account_body(_account_of(account.customer))).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AccountDetailView(APIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}
    staff_permissions = {"GET": "loyalty.view_account"}

    @extend_schema(
        operation_id="loyalty_accounts_retrieve",
        summary="A customer's loyalty account and balance",
        description=(
            "The card, the tier, the points available now, those pending (earned on orders still within the "
            "return window) and the next points to expire with their date. The same balance in every channel. "
            "Needs the scope `loyalty:read`."
        ),
        parameters=[CUSTOMER_ID],
        responses={200: AccountSerializer, **error_responses(404, e404=WHO_ERRORS)},
        tags=[LOYALTY],
    )
    def get(self, request, customer_id: int):
        return Response(AccountSerializer(account_body(_account_of(_customer_or_404(customer_id)))).data)


class AccountEntriesView(generics.ListAPIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}
    staff_permissions = {"GET": "loyalty.view_account"}
    serializer_class = EntrySerializer
    filterset_class = EntryFilter
    pagination_class = SyncPagination
    sync_field = "recorded_at"  # the ledger is append-only: a change is a new entry

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PointsEntry.objects.none()
        account = selectors.account_of(_customer_or_404(self.kwargs["customer_id"]))
        if account is None:
            raise NoAccount(details={"customer_id": self.kwargs["customer_id"]})
        return selectors.entries_for_display(account)

    @extend_schema(
        operation_id="loyalty_accounts_entries_list",
        summary="A customer's points ledger",
        description=(
            "Every entry of the account's points ledger, newest first, page by page: points earned (pending "
            "until `spendable_from`), spent, reversed, expired, bonuses and manual adjustments, each with its "
            "cause. Positive entries show the `remaining` points not yet spent or expired. With `updated_since` "
            "or `cursor`: the entries written since (`recorded_at`), oldest first, and a `cursor` to resume "
            "from (README, Incremental sync); `remaining` falls through later entries (spent, expired), which "
            "the sync brings. Needs the scope `loyalty:read`."
        ),
        parameters=[CUSTOMER_ID],
        responses={
            200: EntrySerializer(many=True),
            **error_responses(400, 404, e400="A malformed filter (`invalid`).", e404=WHO_ERRORS),
        },
        tags=[LOYALTY],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CardListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}
    staff_permissions = {"GET": "loyalty.view_card"}
    serializer_class = CardChangeSerializer
    pagination_class = SyncPagination
    queryset = Card.objects.select_related("account", "replaced_by").order_by("updated_at", "id")

    @extend_schema(
        operation_id="loyalty_cards_list",
        summary="Loyalty cards by when they changed",
        description=(
            "Every card, blocked and replaced ones included (`status`), oldest change first. With "
            "`updated_since` or `cursor`: the cards changed since, and a `cursor` to resume from (README, "
            "Incremental sync). Needs the scope `loyalty:read`."
        ),
        responses={200: CardChangeSerializer(many=True), **error_responses(400, e400="A malformed cursor or time.")},
        tags=[LOYALTY],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CardDetailView(APIView):
    required_scopes = {"GET": Scope.LOYALTY_READ}
    staff_permissions = {"GET": "loyalty.view_card"}

    @extend_schema(
        operation_id="loyalty_cards_retrieve",
        summary="Look up a loyalty card",
        description=(
            "The card (also a blocked or replaced one: check `status`) with its account and balance. "
            "Needs the scope `loyalty:read`."
        ),
        parameters=[CARD_NUMBER],
        responses={200: CardLookupSerializer, **error_responses(404, e404="No card has this number (`unknown_card`).")},
        tags=[LOYALTY],
    )
    def get(self, request, number: str):
        card = selectors.card_by_number(number)
        if card is None:
            raise UnknownCard(details={"card_number": number[:32]})
        account = selectors.accounts_for_display().get(pk=card.account_id)
        body = {
            "number": card.number,
            "kind": card.kind,
            "status": card.status,
            "issued_at": card.issued_at,
            "account": account_body(account),
        }
        return Response(CardLookupSerializer(body).data)


# --- Spending points --------------------------------------------------------------------


class QuoteView(APIView):
    required_scopes = {"POST": Scope.LOYALTY_READ}
    staff_permissions = {"POST": "loyalty.redeem_points"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_quote",
        summary="How many points may pay for a cart",
        description=(
            "The most points this customer may spend on this cart (the smaller of their available points and "
            "the programme's share of the order) and what they are worth; whether spending needs a one-time "
            "code; what the cart earns when paid in money. Changes nothing. Needs the scope `loyalty:read`."
        ),
        request=QuoteInputSerializer,
        responses={
            200: QuoteSerializer,
            **error_responses(
                400, 404, 409, e400=CART_ERRORS, e404=WHO_ERRORS, e409="The card is blocked (`card_blocked`)."
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request):
        serializer = QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quote = services.points_quote(customer=_who(data), lines=_cart(data["lines"]), channel=data["channel"])
        body = {
            "order_total": quote.order_total,
            "currency": currency(),
            "available": quote.available,
            "max_points": quote.max_points,
            "max_value": quote.max_value,
            "point_value": quote.point_value,
            "max_share_percent": quote.max_share_percent,
            "code_required": quote.code_required,
            "points_to_earn": quote.points_to_earn,
            "tier": quote.tier.name if quote.tier else None,
        }
        return Response(QuoteSerializer(body).data)


class RedemptionView(APIView):
    required_scopes = {"POST": Scope.LOYALTY_WRITE}
    staff_permissions = {"POST": "loyalty.redeem_points"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_redemptions_create",
        summary="Spend points on an order",
        description=(
            "Spends `points` on the order `reference`, first-in first-out. The same reference spends once: "
            "a repeat returns the first redemption (200). With `Idempotency-Key`, a retry with the same body "
            "returns the first result and the same key with another body is refused. In a store or by phone the "
            "programme may require the one-time code sent to the customer (`POST /loyalty/codes/`). Needs the "
            "scope `loyalty:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=RedemptionInputSerializer,
        responses={
            200: OpenApiResponse(RedemptionSerializer, description="This reference had already spent these points."),
            201: OpenApiResponse(RedemptionSerializer, description="The points were spent."),
            **error_responses(
                400,
                404,
                409,
                422,
                e400=CART_ERRORS + " Also `invalid_points` and `code_required` (a one-time code is needed).",
                e404=WHO_ERRORS,
                e409="Not enough points available (`not_enough_points`: `details.requested`, `details.available`), "
                "more than the programme's share of the order (`exceeds_order_share`: `details.max_points`), the "
                "reference was used for other points (`reference_conflict`), a wrong or expired one-time code "
                "(`invalid_code`, `code_expired`), a blocked card (`card_blocked`): nothing was spent.",
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request):
        replay = idempotent_replay(request)
        if replay is not None:
            return replay
        serializer = RedemptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _who(data)
        lines, store = _cart(data["lines"]), _store(data.get("store"))
        # A wrong one-time code must count even though the request is refused, so it is checked
        # before the request's transaction (which a refusal rolls back). A retry (the same key, or
        # a reference already redeemed) needs no new code: the first result is returned.
        programme = services.programme_current()
        verified_code = None
        if services.code_required(programme, data["channel"]) and services.redemption_of(data["reference"]) is None:
            verified_code = services.otp_verify(account=services.account_required(customer), code=data.get("code", ""))

        def redeem() -> Response:
            redemption = services.points_redeem(
                customer=customer,
                points=data["points"],
                reference=data["reference"],
                lines=lines,
                channel=data["channel"],
                store=store,
                code=data.get("code", ""),
                verified_code=verified_code,
                actor=Actor.from_request(request),
            )
            entry = redemption.entry
            body = {
                "reference": entry.cause_id,
                "customer_id": customer.pk,
                "points": redemption.points,
                "value": redemption.value,
                "currency": currency(),
                "available": selectors.balance(entry.account).available,
                "entry_id": entry.pk,
                "created_at": entry.created_at,
            }
            status_code = status.HTTP_201_CREATED if redemption.created else status.HTTP_200_OK
            return Response(RedemptionSerializer(body).data, status=status_code)

        return idempotent(request, redeem)


class CodeView(APIView):
    required_scopes = {"POST": Scope.LOYALTY_WRITE}
    staff_permissions = {"POST": "loyalty.redeem_points"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_codes_send",
        summary="Send the customer a one-time code for spending points",
        description=(
            "Sends a code through the customer's preferred reachable channel; the cashier or the operator asks "
            "the customer for it and passes it with the redemption. A new code replaces the previous one; it "
            "expires after a few minutes and allows a few wrong attempts. The code is never returned here. "
            "Needs the scope `loyalty:write`."
        ),
        request=CodeRequestSerializer,
        responses={
            202: CodeSentSerializer,
            **error_responses(
                400,
                404,
                409,
                e400="Invalid input (`invalid`).",
                e404=WHO_ERRORS,
                e409="Too many codes in the last hour (`too_many_codes`), the customer cannot be reached "
                "(`no_reachable_channel`) or the card is blocked (`card_blocked`).",
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request):
        serializer = CodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        code = services.otp_send(customer=_who(data), channel=data["channel"], actor=Actor.from_request(request))
        body = {"expires_at": code.expires_at, "attempts": code.max_attempts}
        return Response(CodeSentSerializer(body).data, status=status.HTTP_202_ACCEPTED)


# --- Promo codes ------------------------------------------------------------------------


class PromoValidateView(APIView):
    required_scopes = {"POST": Scope.LOYALTY_READ}
    staff_permissions = {"POST": "loyalty.view_promocode"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="loyalty_promo_codes_validate",
        summary="Check a promo code against a cart",
        description=(
            "What the code gives on this cart (money off or extra points) for this customer in this channel, "
            "or the reason it cannot be used, each with its own code. Changes nothing: the order uses the code "
            "when it is placed. The customer (`customer_id` or `card`) is optional unless the code is personal. "
            "Needs the scope `loyalty:read`."
        ),
        request=PromoValidateInputSerializer,
        responses={
            200: PromoQuoteSerializer,
            **error_responses(
                400,
                404,
                409,
                e400=CART_ERRORS,
                e404="No such promo code (`promo_not_found`), customer (`not_found`) or card (`unknown_card`).",
                e409="The code cannot be used here: `promo_inactive`, `promo_not_started`, `promo_expired`, "
                "`promo_exhausted`, `promo_customer_limit`, `promo_min_total`, `promo_wrong_channel`, "
                "`promo_customer_required`, `promo_not_for_customer`.",
            ),
        },
        tags=[LOYALTY],
    )
    def post(self, request):
        serializer = PromoValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _who(data) if data.get("customer_id") or data.get("card") else None
        quote = services.promo_validate(
            code=data["code"], lines=_cart(data["lines"]), channel=data["channel"], customer=customer
        )
        body = {
            "code": quote.code,
            "kind": quote.promo.kind,
            "discount": quote.discount,
            "points": quote.points,
            "order_total": quote.order_total,
            "currency": currency(),
        }
        return Response(PromoQuoteSerializer(body).data)
