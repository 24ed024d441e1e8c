"""The orders API: place and list orders, move them through their statuses, take returns.

Views parse input, call one service or selector and present the result; the rules are in
``orders.services`` and ``orders.states``, and the errors they raise are rendered by
``omni.core.api.exceptions``. Integrations (API keys) see every order; staff using their session see
the orders of their own locations only (another store's order answers 404).
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import customer_resolve
from inventory.errors import UnknownLocation
from inventory.models import Location
from inventory.selectors import location_by_code, locations_for_user
from loyalty import services as loyalty
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent, idempotent_replay
from omni.core.api.pagination import SyncPagination
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.api.serializers import represent, validated
from omni.core.errors import InvalidInput, NotFound
from omni.core.models import ApiKey
from omni.core.scopes import Scope
from orders import selectors, services
from orders.api.serializers import (
    CancelInputSerializer,
    EmptyInputSerializer,
    HandoverInputSerializer,
    OrderDetailSerializer,
    OrderInputSerializer,
    OrderSerializer,
    PaymentRecordInputSerializer,
    PaymentRecordResultSerializer,
    PaymentSerializer,
    RefundCompleteInputSerializer,
    RefundDetailSerializer,
    ReturnInputSerializer,
    ReturnSerializer,
    placed_order_detail,
)
from orders.filters import OrderFilter
from orders.models import Fulfilment, Order, OrderReturn, Refund
from orders.services import LineInput, PaymentInput, ReturnLineInput

ORDERS = "orders"
RETURNS = "returns"
REFUNDS = "refunds"
NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The order's number.")


def _for_staff(request) -> bool:
    return not isinstance(request.auth, ApiKey)


def visible_orders(request):
    """Every order for an integration; a staff member's own locations' orders for a session."""
    if _for_staff(request):
        return selectors.orders_for_user(request.user)
    return Order.objects.all()


def _order(request, number: str, *, for_display: bool = False) -> Order:
    orders = visible_orders(request)
    if for_display:
        orders = selectors.order_for_display(orders)
    order = orders.filter(number=number).first()
    if order is None:
        raise NotFound(gettext("No order has the number %(number)s.") % {"number": number})
    return order


def _detail(order: Order) -> dict:
    return represent(OrderDetailSerializer, selectors.order_for_display().get(pk=order.pk))


def _location(code: str, field: str) -> Location | None:
    code = code.strip()
    if not code:
        return None
    location = location_by_code(code)
    if location is None:
        raise UnknownLocation(
            gettext("Unknown location code %(code)s.") % {"code": code},
            details={"locations": [code], "fields": {field: [gettext("Unknown location code.")]}},
        )
    return location


def _payments(items) -> list[PaymentInput]:
    return [
        PaymentInput(
            method=item["method"],
            amount=item.get("amount"),
            transaction_id=item["transaction_id"],
            terminal=item["terminal"],
            acquiring_bank=item["acquiring_bank"],
        )
        for item in items
    ]


def _refused(items) -> dict[str, int]:
    refused: dict[str, int] = {}
    for item in items:
        refused[item["sku"]] = refused.get(item["sku"], 0) + item["quantity"]
    return refused


ORDER_ERRORS = error_responses(
    400,
    409,
    422,
    e400="Invalid input (`invalid`), an unknown SKU (`unknown_sku`), location (`unknown_location`) or customer, "
    "a location that cannot serve the order (`invalid_location`), payments that do not add up "
    "(`payment_mismatch`), a figure the server computes sent by the client: nothing was changed.",
    e409="Not enough stock (`insufficient_stock`, naming the SKUs), not enough points (`not_enough_points`), more "
    "points than the programme allows (`exceeds_order_share`), a promo code refused (`promo_*`): nothing changed.",
)


class OrderListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.ORDERS_READ, "POST": Scope.ORDERS_WRITE}
    staff_permissions = {"GET": "orders.view_order", "POST": "orders.add_order"}
    parser_classes = [JSONParser]
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    pagination_class = SyncPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return selectors.orders_for_display(visible_orders(self.request)).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="orders_list",
        summary="List orders",
        description=(
            "Orders of every channel, newest first, with their lines and payments, page by page. Filter by "
            "customer, status and channel (repeatable), fulfilment, location and the date placed. Staff using "
            "their session see their own locations' orders. With `updated_since` or `cursor`: the orders changed "
            "since, oldest change first (a status change, a payment, a refund is a change; cancelled orders "
            "included), and a `cursor` to resume from (README, Incremental sync). Needs the scope `orders:read`."
        ),
        responses={
            200: OrderSerializer(many=True),
            **error_responses(400, e400="A malformed filter (`invalid`) or an unknown location (`unknown_location`)."),
        },
        tags=[ORDERS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="orders_create",
        summary="Place an order",
        description=(
            "Places an order, all or nothing. Prices come from the catalogue; the promo code and the points are "
            "applied and spread over the lines; stock is reserved (click-and-collect: at the pickup store, the rest "
            "brought by a transfer, and the order awaits it; delivery: at locations that ship, one for the whole "
            "order when possible) or, for a sale in a store, sold at once (it must then be paid in full). Clients "
            "never send prices or totals: such fields are refused. Payments given at placement (prepayment) "
            "must cover the total. With an `Idempotency-Key`, a retry returns the first order. Needs the scope "
            "`orders:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=OrderInputSerializer,
        responses={201: OpenApiResponse(OrderDetailSerializer, description="The order."), **ORDER_ERRORS},
        tags=[ORDERS],
    )
    def post(self, request, *args, **kwargs):
        data = validated(OrderInputSerializer, request.data)
        if data["points"] and loyalty.code_may_be_required(data["channel"]):
            replay = idempotent_replay(request)
            if replay is not None:
                return replay  # before the code check: the code the first request spent is used up
        customer = None
        if data.get("customer") is not None and data["points"] and loyalty.code_may_be_required(data["channel"]):
            customer = customer_resolve(data["customer"])  # the code is checked before the transaction
            if customer is None:
                raise InvalidInput.for_field("customer", gettext("No customer has this id."))
        if data["fulfilment"] == Fulfilment.CLICK_AND_COLLECT:
            location = _location(data["pickup_location"], "pickup_location")
        else:
            location = _location(data["location"], "location")
        if (
            data["fulfilment"] == Fulfilment.IN_STORE
            and _for_staff(request)
            and location is not None
            and not locations_for_user(request.user).filter(pk=location.pk).exists()
        ):
            raise PermissionDenied  # staff sell only in the stores they work at
        # A wrong one-time code must count even though the order is refused, so it is checked
        # before the request's transaction (which a refusal rolls back).
        verified_code = services.order_code_verify(
            customer=customer, channel=data["channel"], points=data["points"], code=data["otp_code"]
        )

        def place():
            order = services.order_place(
                channel=data["channel"],
                fulfilment=data["fulfilment"],
                customer=customer,
                customer_id=data.get("customer") if customer is None else None,  # found and locked in one go
                location=location,
                delivery_address=data["delivery_address"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                lines=[LineInput(line["sku"], line["quantity"]) for line in data["lines"]],
                promo_code=data["promo_code"],
                points=data["points"],
                otp_code=data["otp_code"],
                verified_code=verified_code,
                payments=_payments(data["payments"]),
                note=data["note"],
                actor=Actor.from_request(request),
            )
            # The order as it was written (rendered once, also for the order.created event).
            return Response(placed_order_detail(order), status=status.HTTP_201_CREATED)

        return idempotent(request, place)


class OrderDetailView(APIView):
    required_scopes = {"GET": Scope.ORDERS_READ}
    staff_permissions = {"GET": "orders.view_order"}

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Get an order by number",
        description="One order with its lines, payments, refunds, returns and status history. "
        "Needs the scope `orders:read`.",
        parameters=[NUMBER],
        responses={200: OrderDetailSerializer, **error_responses(404, e404="No order has this number (`not_found`).")},
        tags=[ORDERS],
    )
    def get(self, request, number: str):
        return Response(represent(OrderDetailSerializer, _order(request, number, for_display=True)))


ACTION_ERRORS = error_responses(
    400,
    404,
    409,
    e400="Invalid input (`invalid`, `payment_mismatch`): nothing was changed.",
    e404="No order has this number (`not_found`).",
    e409="The order's status does not allow this (`invalid_transition`, naming the current status in "
    "`details.status`): nothing was changed.",
)


class OrderActionView(APIView):
    """An action of the state machine on one order; the order is answered as it is afterwards."""

    required_scopes = {"POST": Scope.ORDERS_WRITE}
    staff_permissions = {"POST": "orders.change_order"}
    parser_classes = [JSONParser]
    input_serializer = EmptyInputSerializer

    def act(self, request, order: Order, data: dict) -> None:
        raise NotImplementedError

    def run(self, request, number: str) -> Response:
        serializer = self.input_serializer(data=request.data if request.data else {})
        serializer.is_valid(raise_exception=True)
        order = _order(request, number)
        self.act(request, order, serializer.validated_data)
        return Response(_detail(order))


def _action_schema(operation_id: str, summary: str, description: str, request=EmptyInputSerializer):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=f"{description} Needs the scope `orders:write`.",
        parameters=[NUMBER],
        request=request,
        responses={200: OrderDetailSerializer, **ACTION_ERRORS},
        tags=[ORDERS],
    )


class OrderCancelView(OrderActionView):
    staff_permissions = {"POST": "orders.cancel_order"}
    input_serializer = CancelInputSerializer

    @_action_schema(
        "orders_cancel",
        "Cancel an order",
        "Before the goods are handed over: stock is released, points come back, the promo code's use is "
        "released, transfers not yet shipped are cancelled and payments are marked for refund.",
        CancelInputSerializer,
    )
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_cancel(order=order, reason=data["reason"], actor=Actor.from_request(request))


class OrderReadyView(OrderActionView):
    @_action_schema(
        "orders_ready",
        "Mark ready for pickup",
        "Click-and-collect: the goods are set aside; the customer is told the store's address and hours and "
        "the date the order is kept until.",
    )
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_mark_ready(order=order, actor=Actor.from_request(request))


class OrderAcceptPartialView(OrderActionView):
    @_action_schema(
        "orders_accept_partial",
        "Go ahead with the goods that are there",
        "Click-and-collect, status `awaiting_decision` (a transfer was received short and the missing goods "
        "are nowhere): the missing units are taken off their lines (`refused_*` figures), their points come "
        "back, what was paid for them is refunded, and the order is ready for pickup; the customer is told. "
        "To drop the order instead, cancel it.",
    )
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_accept_partial(order=order, actor=Actor.from_request(request))


class OrderPackView(OrderActionView):
    @_action_schema("orders_pack", "Mark packed", "Delivery: the order is packed for the courier.")
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_pack(order=order, actor=Actor.from_request(request))


class OrderShipView(OrderActionView):
    @_action_schema("orders_ship", "Ship", "Delivery: the courier took the order; the customer is told.")
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_ship(order=order, actor=Actor.from_request(request))


class OrderHandoverView(OrderActionView):
    staff_permissions = {"POST": "orders.hand_over_order"}
    input_serializer = HandoverInputSerializer

    @_action_schema(
        "orders_handover",
        "Hand over at the counter",
        "Click-and-collect: the customer takes the order, possibly refusing some lines or units (`refused`); "
        "refused goods go back to available stock, totals and points are recomputed, the rest is sold, and "
        "what is left to pay is recorded in `payments` (at the counter: card in store, cash, SBP).",
        HandoverInputSerializer,
    )
    def post(self, request, number: str):
        return self.run(request, number)

    def act(self, request, order, data):
        services.order_hand_over(
            order=order,
            refused=_refused(data["refused"]),
            payments=_payments(data["payments"]),
            actor=Actor.from_request(request),
        )


class OrderDeliverView(OrderHandoverView):
    @_action_schema(
        "orders_deliver",
        "Deliver at the door",
        "Delivery: the courier hands the order over, possibly with lines or units refused (`refused`), and "
        "records what was paid (cash or card to the courier, SBP).",
        HandoverInputSerializer,
    )
    def post(self, request, number: str):
        return self.run(request, number)


class OrderPaymentView(APIView):
    """A payment received after the order was placed (a gateway's confirmation, an SBP link)."""

    required_scopes = {"POST": Scope.ORDERS_WRITE}
    staff_permissions = {"POST": "orders.change_order"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="orders_payments_create",
        summary="Record a payment",
        description=(
            "A payment received after the order was placed: a card payment the gateway confirms, an SBP link "
            "paid later. It must not exceed what is left to pay, and a cancelled or expired order takes none. "
            "A payment is recorded once per order and `transaction_id`: a retry with the same transaction id "
            "answers 200 with the first payment and changes nothing; so does a retry with the same "
            "`Idempotency-Key`. Needs the scope `orders:write`."
        ),
        parameters=[NUMBER, IDEMPOTENCY_KEY_HEADER],
        request=PaymentRecordInputSerializer,
        responses={
            201: OpenApiResponse(PaymentRecordResultSerializer, description="The payment recorded and the order."),
            200: OpenApiResponse(
                PaymentRecordResultSerializer,
                description="This transaction id was already recorded: the first payment.",
            ),
            **error_responses(
                400,
                404,
                409,
                422,
                e400="Invalid input (`invalid`, naming the field in `details.fields`): nothing was changed.",
                e404="No order has this number (`not_found`).",
                e409="More than is left to pay (`overpayment`, with `details.due`), the order is cancelled or "
                "expired (`invalid_transition`, naming the current status in `details.status`), or the "
                "transaction id is recorded with another method or amount (`payment_conflict`): nothing changed.",
            ),
        },
        tags=[ORDERS],
    )
    def post(self, request, number: str):
        def record():
            serializer = PaymentRecordInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            order = _order(request, number)
            payment, created = services.payment_record(
                order=order,
                payment=PaymentInput(
                    method=data["method"],
                    amount=data["amount"],
                    transaction_id=data["transaction_id"],
                    terminal=data["terminal"],
                    acquiring_bank=data["acquiring_bank"],
                ),
                actor=Actor.from_request(request),
            )
            body = {"payment": PaymentSerializer(payment).data, "order": _detail(order)}
            return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

        return idempotent(request, record)


# --- Refunds ----------------------------------------------------------------------------


def visible_refunds(request):
    if _for_staff(request):
        return selectors.refunds_for_user(request.user)
    return Refund.objects.all()


class RefundCompleteView(APIView):
    required_scopes = {"POST": Scope.ORDERS_WRITE}
    staff_permissions = {"POST": "orders.change_order"}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="refunds_complete",
        summary="Mark a refund as made",
        description=(
            "The bank or the payment gateway has paid a pending refund back (refunds to cards and SBP are "
            "created pending, on a cancellation, goods refused at handover or a return): it is marked refunded "
            "with the bank's `transaction_id`, and the customer is told. The refund's `id` is listed in the "
            "order's and the return's `refunds`. Needs the scope `orders:write`."
        ),
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The refund's id.")],
        request=RefundCompleteInputSerializer,
        responses={
            200: OpenApiResponse(RefundDetailSerializer, description="The refund, made."),
            **error_responses(
                400,
                404,
                409,
                e400="Invalid input (`invalid`): nothing was changed.",
                e404="No such refund (`not_found`).",
                e409="The refund is already made (`refund_not_pending`, naming its status in `details.status`).",
            ),
        },
        tags=[REFUNDS],
    )
    def post(self, request, id: int):
        serializer = RefundCompleteInputSerializer(data=request.data if request.data else {})
        serializer.is_valid(raise_exception=True)
        refund = visible_refunds(request).filter(pk=id).first()
        if refund is None:
            raise NotFound(gettext("No refund has the id %(id)s.") % {"id": id})
        refund = services.refund_complete(
            refund=refund, transaction_id=serializer.validated_data["transaction_id"], actor=Actor.from_request(request)
        )
        return Response(RefundDetailSerializer(selectors.refunds_for_display().get(pk=refund.pk)).data)


# --- Returns ----------------------------------------------------------------------------


def visible_returns(request):
    if _for_staff(request):
        return selectors.returns_for_user(request.user)
    return OrderReturn.objects.all()


class ReturnCreateView(generics.ListAPIView):
    required_scopes = {"GET": Scope.ORDERS_READ, "POST": Scope.ORDERS_WRITE}
    staff_permissions = {"GET": "orders.view_orderreturn", "POST": "orders.add_orderreturn"}
    parser_classes = [JSONParser]
    serializer_class = ReturnSerializer
    pagination_class = SyncPagination
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderReturn.objects.none()
        return selectors.returns_for_display(visible_returns(self.request)).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="returns_list",
        summary="List returns",
        description=(
            "Returns, newest first, with their lines and refunds, page by page. Staff using their session see "
            "their own locations' returns. With `updated_since` or `cursor`: the returns changed since (a refund "
            "paid is a change), oldest change first, and a `cursor` to resume from (README, Incremental sync). "
            "Needs the scope `orders:read`."
        ),
        responses={200: ReturnSerializer(many=True), **error_responses(400, e400="A malformed cursor or time.")},
        tags=[RETURNS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="returns_create",
        summary="Accept a return",
        description=(
            "Goods of a completed order of any channel, brought back at a location that accepts returns, within "
            "the return window. Resellable goods go back to available stock there; faulty ones are written off. "
            "The refund is what was paid for those units after discounts and points, less the value of points "
            "earned on them and already spent; to the original payments in proportion, or as points "
            "(`refund_method: points`) where allowed. With an `Idempotency-Key`, a retry returns the first "
            "return. Needs the scope `orders:write`."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=ReturnInputSerializer,
        responses={
            201: OpenApiResponse(ReturnSerializer, description="The return and its refund."),
            **error_responses(
                400,
                404,
                409,
                422,
                e400="Invalid input (`invalid`, `invalid_return`) or an unknown location (`unknown_location`).",
                e404="No order has this number (`not_found`).",
                e409="More than was bought (`return_exceeds_purchase`), the window has passed "
                "(`return_window_closed`), the location takes no returns (`returns_not_accepted`), the order is "
                "not completed (`invalid_transition`), or no refund to points (`refund_to_points_not_allowed`).",
            ),
        },
        tags=[RETURNS],
    )
    def post(self, request):
        def accept():
            serializer = ReturnInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            order = Order.objects.filter(number=data["order"].strip()).first()
            if order is None:
                raise NotFound(gettext("No order has the number %(number)s.") % {"number": data["order"]})
            location = _location(data["location"], "location")
            if _for_staff(request) and not locations_for_user(request.user).filter(pk=location.pk).exists():
                raise PermissionDenied  # staff take returns at the locations they work at
            order_return = services.return_accept(
                order=order,
                location=location,
                lines=[ReturnLineInput(line["sku"], line["quantity"], line["condition"]) for line in data["lines"]],
                reason=data["reason"],
                refund_method=data["refund_method"],
                actor=Actor.from_request(request),
            )
            body = ReturnSerializer(selectors.returns_for_display().get(pk=order_return.pk)).data
            return Response(body, status=status.HTTP_201_CREATED)

        return idempotent(request, accept)


class ReturnDetailView(APIView):
    required_scopes = {"GET": Scope.ORDERS_READ}
    staff_permissions = {"GET": "orders.view_orderreturn"}

    @extend_schema(
        operation_id="returns_retrieve",
        summary="Get a return",
        description="A return by its id or its number (`R-000123`), with its lines and refunds. "
        "Needs the scope `orders:read`.",
        parameters=[
            OpenApiParameter("ref", OpenApiTypes.STR, OpenApiParameter.PATH, description="The return's id or number.")
        ],
        responses={200: ReturnSerializer, **error_responses(404, e404="No such return (`not_found`).")},
        tags=[RETURNS],
    )
    def get(self, request, ref: str):
        returns = selectors.returns_for_display(visible_returns(request))
        if ref.isdigit():
            found = returns.filter(pk=int(ref)).first() if len(ref) < 19 else None
        else:
            found = returns.filter(number=ref).first()
        if found is None:
            raise NotFound(gettext("No return is known as %(ref)s.") % {"ref": ref})
        return Response(ReturnSerializer(found).data)
