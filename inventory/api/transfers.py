"""The transfers API: goods moving between locations, sent by the source or asked for by the
destination, then shipped (or declined), received or cancelled.

Views parse input and call one ``inventory.services.transfer_*`` function; those lock the transfer
and check its status, and their refusals are rendered by ``omni.core.api.exceptions``.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.api.transfer_serializers import (
    TransferDeclineInputSerializer,
    TransferInputSerializer,
    TransferReceiveInputSerializer,
    TransferSerializer,
    TransferShipInputSerializer,
)
from inventory.api.views import StockDocumentView, raise_unknown_locations, raise_unknown_skus
from inventory.filters import TransferFilter
from inventory.models import Location, Transfer
from omni.core.actors import Actor
from omni.core.api.idempotency import idempotent
from omni.core.api.parsers import JSONParser
from omni.core.api.schema import IDEMPOTENCY_KEY_HEADER, error_responses
from omni.core.scopes import Scope

TRANSFERS = "transfers"

NUMBER_PARAMETER = OpenApiParameter(
    "number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The transfer's number, for example TR-000042."
)

_TRANSITION_ERRORS = error_responses(
    400,
    404,
    409,
    e400="Invalid input (`invalid`), a SKU that is unknown (`unknown_sku`) or not on the transfer, or a quantity "
    "above what was asked for or shipped (`invalid_quantity`): nothing was changed.",
    e404="No transfer has this number (`not_found`).",
    e409="The transfer's status does not allow this (`invalid_transition`, `details.status` says which it is), or "
    "the source lacks the stock (`insufficient_stock`): nothing was changed.",
)


def transfers_for_display():
    return Transfer.objects.select_related("source", "destination").prefetch_related("lines__product")


def _detail(transfer: Transfer, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(TransferSerializer(transfers_for_display().get(pk=transfer.pk)).data, status=status_code)


def _location(code: str) -> Location:
    location = selectors.location_by_code(code)
    if location is None:
        raise_unknown_locations([code])
    return location


def _product_quantities(lines) -> dict[int, int]:
    """``[{"sku", "quantity"}]`` as product id → units, lines naming the same SKU added together."""
    product_ids = selectors.product_ids_by_sku(line["sku"] for line in lines)
    unknown = sorted({line["sku"] for line in lines} - set(product_ids))
    if unknown:
        raise_unknown_skus(unknown)
    quantities: dict[int, int] = {}
    for line in lines:
        pid = product_ids[line["sku"]]
        quantities[pid] = quantities.get(pid, 0) + line["quantity"]
    return quantities


def _partial(lines) -> dict[int, int] | None:
    return None if lines is None else _product_quantities(lines)


class TransferListView(generics.ListAPIView):
    required_scopes = {"GET": Scope.TRANSFERS_READ, "POST": Scope.TRANSFERS_WRITE}
    staff_permissions = {"POST": "inventory.add_transfer"}
    parser_classes = [JSONParser]
    serializer_class = TransferSerializer
    filterset_class = TransferFilter

    def get_queryset(self):
        return transfers_for_display()

    @extend_schema(
        operation_id="transfers_list",
        summary="List transfers",
        description="Transfers, newest first. Needs the scope `transfers:read`.",
        responses={
            200: TransferSerializer(many=True),
            **error_responses(400, e400="A malformed filter (`invalid`) or an unknown location (`unknown_location`)."),
        },
        tags=[TRANSFERS],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="transfers_create",
        summary="Send goods, or ask for them",
        description=(
            "With `ask: false` (the default) the source sends goods: they are reserved there at once (status "
            "`requested`), to ship. With `ask: true` the destination asks for them (status `asked`): nothing is "
            "reserved until the source ships the request (`/ship/`) or declines it (`/decline/`). With an "
            "`Idempotency-Key`, a retry returns the first transfer. Needs the scope `transfers:write`; staff need "
            "the permission to add transfers and to work at the source (or, asking, at the destination)."
        ),
        parameters=[IDEMPOTENCY_KEY_HEADER],
        request=TransferInputSerializer,
        examples=[
            OpenApiExample(
                "Send two SKUs",
                value={"source": "wh-1", "destination": "msk-tver", "lines": [{"sku": "MUG", "quantity": 6}]},
                request_only=True,
            ),
            OpenApiExample(
                "Ask the warehouse",
                value={
                    "source": "wh-1",
                    "destination": "msk-tver",
                    "ask": True,
                    "lines": [{"sku": "MUG", "quantity": 2}],
                },
                request_only=True,
            ),
        ],
        responses={
            201: OpenApiResponse(TransferSerializer, description="The transfer."),
            **error_responses(
                400,
                409,
                422,
                e400="Invalid input (`invalid`), unknown SKUs (`unknown_sku`) or locations (`unknown_location`): "
                "nothing was changed.",
                e409="The source lacks the stock (`insufficient_stock`) or both locations are the same "
                "(`invalid_transition`): nothing was changed.",
            ),
        },
        tags=[TRANSFERS],
    )
    def post(self, request, *args, **kwargs):
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source, destination = _location(data["source"]), _location(data["destination"])
        StockDocumentView.check_location_access(request, destination if data["ask"] else source)
        lines = [services.ProductQuantity(pid, qty) for pid, qty in _product_quantities(data["lines"]).items()]
        create = services.transfer_ask if data["ask"] else services.transfer_create

        def record():
            transfer = create(
                source=source,
                destination=destination,
                lines=lines,
                note=data["note"],
                actor=Actor.from_request(request),
            )
            return _detail(transfer, status_code=status.HTTP_201_CREATED)

        return idempotent(request, record)


class TransferDetailView(APIView):
    required_scopes = {"GET": Scope.TRANSFERS_READ}

    @extend_schema(
        operation_id="transfers_retrieve",
        summary="Get a transfer",
        description="One transfer with its lines. Needs the scope `transfers:read`.",
        parameters=[NUMBER_PARAMETER],
        responses={200: TransferSerializer, **error_responses(404, e404="No transfer has this number (`not_found`).")},
        tags=[TRANSFERS],
    )
    def get(self, request, number: str):
        return _detail(get_object_or_404(Transfer, number=number))


class TransferActionView(APIView):
    """A step in a transfer's life, taken at the location it concerns."""

    required_scopes = {"POST": Scope.TRANSFERS_WRITE}
    parser_classes = [JSONParser]

    def transfer_at(self, request, number: str, *, side: str) -> Transfer:
        transfer = get_object_or_404(Transfer.objects.select_related("source", "destination"), number=number)
        StockDocumentView.check_location_access(request, getattr(transfer, side))
        return transfer


class TransferShipView(TransferActionView):
    staff_permissions = {"POST": "inventory.ship_transfer"}

    @extend_schema(
        operation_id="transfers_ship",
        summary="Ship a transfer",
        description=(
            "The goods leave the source and are in transit. A transfer asked for is accepted and shipped at "
            "once: `lines` may send less than was asked for (0 refuses a line), the units sent being taken from "
            "the source's stock, all or nothing. Needs the scope `transfers:write`; staff need the permission to "
            "ship transfers and to work at the source."
        ),
        parameters=[NUMBER_PARAMETER],
        request=TransferShipInputSerializer,
        examples=[
            OpenApiExample("Send less than asked", value={"lines": [{"sku": "MUG", "quantity": 1}]}, request_only=True)
        ],
        responses={200: TransferSerializer, **_TRANSITION_ERRORS},
        tags=[TRANSFERS],
    )
    def post(self, request, number: str):
        serializer = TransferShipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = self.transfer_at(request, number, side="source")
        sending = _partial(serializer.validated_data.get("lines"))
        transfer = services.transfer_ship_from_source(
            transfer=transfer, sending=sending, actor=Actor.from_request(request)
        )
        return _detail(transfer)


class TransferDeclineView(TransferActionView):
    staff_permissions = {"POST": "inventory.ship_transfer"}

    @extend_schema(
        operation_id="transfers_decline",
        summary="Decline a transfer asked for",
        description=(
            "The source will not send what the destination asked for; the reason is shown to the destination. "
            "Needs the scope `transfers:write`; staff need the permission to ship transfers and to work at the "
            "source."
        ),
        parameters=[NUMBER_PARAMETER],
        request=TransferDeclineInputSerializer,
        examples=[OpenApiExample("Out of stock", value={"reason": "Sold out until Friday."}, request_only=True)],
        responses={200: TransferSerializer, **_TRANSITION_ERRORS},
        tags=[TRANSFERS],
    )
    def post(self, request, number: str):
        serializer = TransferDeclineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = self.transfer_at(request, number, side="source")
        transfer = services.transfer_decline(
            transfer=transfer, reason=serializer.validated_data["reason"], actor=Actor.from_request(request)
        )
        return _detail(transfer)


class TransferReceiveView(TransferActionView):
    staff_permissions = {"POST": "inventory.receive_transfer"}

    @extend_schema(
        operation_id="transfers_receive",
        summary="Receive a transfer",
        description=(
            "The goods in transit arrive at the destination, in full (no `lines`) or in part; what was shipped "
            "but did not arrive stays recorded as the discrepancy. Needs the scope `transfers:write`; staff need "
            "the permission to receive transfers and to work at the destination."
        ),
        parameters=[NUMBER_PARAMETER],
        request=TransferReceiveInputSerializer,
        examples=[
            OpenApiExample("Everything arrived", value={}, request_only=True),
            OpenApiExample("One short", value={"lines": [{"sku": "MUG", "quantity": 5}]}, request_only=True),
        ],
        responses={200: TransferSerializer, **_TRANSITION_ERRORS},
        tags=[TRANSFERS],
    )
    def post(self, request, number: str):
        serializer = TransferReceiveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = self.transfer_at(request, number, side="destination")
        received = _partial(serializer.validated_data.get("lines"))
        transfer = services.transfer_receive(transfer=transfer, received=received, actor=Actor.from_request(request))
        return _detail(transfer)


class TransferCancelView(TransferActionView):
    staff_permissions = {"POST": "inventory.cancel_transfer"}

    @extend_schema(
        operation_id="transfers_cancel",
        summary="Cancel a transfer not yet shipped",
        description=(
            "Calls off a transfer reserved or asked for; what was reserved at the source is released. Needs the "
            "scope `transfers:write`; staff need the permission to cancel transfers and to work at the source."
        ),
        parameters=[NUMBER_PARAMETER],
        request=None,
        responses={200: TransferSerializer, **_TRANSITION_ERRORS},
        tags=[TRANSFERS],
    )
    def post(self, request, number: str):
        transfer = self.transfer_at(request, number, side="source")
        return _detail(services.transfer_cancel(transfer=transfer, actor=Actor.from_request(request)))
