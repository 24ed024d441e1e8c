"""Every change of stock. Each function is one business action in one transaction.

Stock rows are locked in a fixed order (``lock_objects``), checked, changed, and every change
is written to the ledger (``StockMovement``) in the same transaction, so the ledger always
sums to the stored figures.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.catalogue import ProductData, product_upsert  # noqa: F401 (written there, called from here)
from inventory.errors import (
    CountBelowReserved,
    DocumentNumberConflict,
    InsufficientStock,
    InvalidQuantity,
    InvalidTransferStatus,
    ReleaseExceedsReserved,
    StockChangedSinceCount,
    StockLimitExceeded,
)
from inventory.lock_objects import StockKey, stock_rows_for_update
from inventory.models import (
    MAX_STOCK_QUANTITY,
    Location,
    MovementReason,
    Product,
    Stock,
    StockDocument,
    StockDocumentKind,
    StockDocumentLine,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from inventory.product_models import (  # noqa: F401 (written there, called from here)
    ImageData,
    ProductModelData,
    VariantData,
    attribute_upsert,
    images_set,
    product_model_upsert,
    variant_attributes_set,
)
from omni.core.actors import SYSTEM, Actor
from omni.core.errors import InvalidInput
from omni.core.services import sequence_next
from omni.core.validators import validate_storable_text


@dataclass(frozen=True)
class Cause:
    """What caused a stock change, by reference: ``Cause("order", "W-000123")``."""

    type: str
    id: str

    @classmethod
    def none(cls) -> "Cause":
        return cls("", "")


@dataclass(frozen=True)
class StockLine:
    """A quantity of a product at a location."""

    product_id: int
    location_id: int
    quantity: int

    @property
    def key(self) -> StockKey:
        return (self.product_id, self.location_id)


@dataclass(frozen=True)
class ProductQuantity:
    """A line of a document that concerns one location: a product and a quantity."""

    product_id: int
    quantity: int


# --- Helpers ----------------------------------------------------------------------------


def _check_quantity(quantity, *, allow_zero: bool = False) -> None:
    valid = isinstance(quantity, int) and not isinstance(quantity, bool)
    if not valid or quantity < 0 or (quantity == 0 and not allow_zero):
        raise InvalidQuantity(details={"quantity": repr(quantity)})


def merge_stock_lines(lines: Iterable[StockLine]) -> dict[StockKey, int]:
    """Sum the quantities of lines naming the same product and location."""
    merged: dict[StockKey, int] = defaultdict(int)
    for line in lines:
        _check_quantity(line.quantity)
        merged[line.key] += line.quantity
    if not merged:
        raise InvalidQuantity(_("At least one line is required."))
    return dict(merged)


def _shortage_details(shortages: list[tuple[StockKey, int, int]]) -> dict:
    """Name the SKUs and locations that fall short, for the error a client sees."""
    skus = dict(Product.objects.filter(pk__in={key[0] for key, _q, _a in shortages}).values_list("pk", "sku"))
    codes = dict(Location.objects.filter(pk__in={key[1] for key, _q, _a in shortages}).values_list("pk", "code"))
    lines = [
        {"sku": skus[key[0]], "location": codes[key[1]], "requested": requested, "available": available}
        for key, requested, available in shortages
    ]
    return {"skus": sorted({line["sku"] for line in lines}), "lines": lines}


def _check_stock_limit(rows: dict[StockKey, Stock], changes: dict[StockKey, tuple[int, int]]) -> None:
    """Refuse a change that would take on hand past what a stock row holds (instead of a database error)."""
    over = [
        (key, rows[key].on_hand, on_hand_delta)
        for key, (on_hand_delta, _reserved_delta) in sorted(changes.items())
        if on_hand_delta > 0 and rows[key].on_hand + on_hand_delta > MAX_STOCK_QUANTITY
    ]
    if over:
        details = _shortage_details([(key, adding, on_hand) for key, on_hand, adding in over])
        for line in details["lines"]:
            line["on_hand"], line["adding"] = line.pop("available"), line.pop("requested")
        raise StockLimitExceeded(details=details)


def _write(
    rows: dict[StockKey, Stock],
    changes: dict[StockKey, tuple[int, int]],
    *,
    reason: str,
    cause: Cause,
    actor: Actor,
    note: str = "",
    announce: bool = True,
) -> None:
    """Apply (on_hand delta, reserved delta) to locked rows and append the ledger rows.

    With ``announce`` the pairs changed are passed to ``hooks.stock_changed`` (once for them all).
    """
    _check_stock_limit(rows, changes)
    changed, movements = [], []
    for key, (on_hand_delta, reserved_delta) in sorted(changes.items()):
        if on_hand_delta == 0 and reserved_delta == 0:
            continue
        row = rows[key]
        row.on_hand += on_hand_delta
        row.reserved += reserved_delta
        changed.append(row)
        movements.append(
            StockMovement(
                product_id=key[0],
                location_id=key[1],
                on_hand_delta=on_hand_delta,
                reserved_delta=reserved_delta,
                reason=reason,
                cause_type=cause.type,
                cause_id=cause.id,
                note=note[:255],
                **actor.audit_fields,
            )
        )
    if changed:
        now = timezone.now()
        # One small UPDATE per row: cheaper to build than bulk_update's CASE for the 1-5 rows
        # an operation touches (measured in bench/inventory.py).
        for row, movement in zip(changed, movements, strict=True):
            row.updated_at = now
            Stock.objects.filter(pk=row.pk).update(
                on_hand=F("on_hand") + movement.on_hand_delta,
                reserved=F("reserved") + movement.reserved_delta,
                updated_at=now,
            )
        StockMovement.objects.bulk_create(movements)
        if announce:
            hooks.stock_changed([(movement.product_id, movement.location_id) for movement in movements])


def _available(rows: dict[StockKey, Stock], key: StockKey) -> int:
    row = rows.get(key)
    return row.available if row else 0


# --- Reservations and sales (used by orders) --------------------------------------------


def stock_reserve(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> None:
    """Reserve every line, or nothing: raise ``InsufficientStock`` naming each short line."""
    wanted = merge_stock_lines(lines)
    with transaction.atomic():
        rows = stock_rows_for_update(wanted, create_missing=False)
        shortages = [(key, qty, _available(rows, key)) for key, qty in wanted.items() if _available(rows, key) < qty]
        if shortages:
            raise InsufficientStock(details=_shortage_details(shortages))
        _write(
            rows,
            {key: (0, qty) for key, qty in wanted.items()},
            reason=MovementReason.RESERVATION,
            cause=cause,
            actor=actor,
        )


def _consume_reservation(lines, *, cause, actor, reason, on_hand_sign: int) -> None:
    wanted = merge_stock_lines(lines)
    with transaction.atomic():
        rows = stock_rows_for_update(wanted, create_missing=False)
        over = [(key, qty, rows[key].reserved if key in rows else 0) for key, qty in wanted.items()]
        over = [entry for entry in over if entry[2] < entry[1]]
        if over:
            raise ReleaseExceedsReserved(details=_shortage_details(over))
        changes = {key: (on_hand_sign * qty, -qty) for key, qty in wanted.items()}
        _write(rows, changes, reason=reason, cause=cause, actor=actor)


def stock_release(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> None:
    """Give reserved units back to available stock (an order cancelled, goods refused)."""
    _consume_reservation(lines, cause=cause, actor=actor, reason=MovementReason.RELEASE, on_hand_sign=0)


def stock_sell_reserved(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> None:
    """Hand reserved units to the customer: they leave on hand and the reservation."""
    _consume_reservation(lines, cause=cause, actor=actor, reason=MovementReason.SALE, on_hand_sign=-1)


def stock_sell(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> None:
    """Sell from available stock at once (a sale in the store), all lines or none."""
    wanted = merge_stock_lines(lines)
    with transaction.atomic():
        rows = stock_rows_for_update(wanted, create_missing=False)
        shortages = [(key, qty, _available(rows, key)) for key, qty in wanted.items() if _available(rows, key) < qty]
        if shortages:
            raise InsufficientStock(details=_shortage_details(shortages))
        _write(
            rows, {key: (-qty, 0) for key, qty in wanted.items()}, reason=MovementReason.SALE, cause=cause, actor=actor
        )


def stock_return(*, lines: Sequence[StockLine], cause: Cause, actor: Actor = SYSTEM) -> None:
    """Put returned, resellable goods back on hand at the location that took them back."""
    wanted = merge_stock_lines(lines)
    with transaction.atomic():
        rows = stock_rows_for_update(wanted, create_missing=True)
        _write(
            rows, {key: (qty, 0) for key, qty in wanted.items()}, reason=MovementReason.RETURN, cause=cause, actor=actor
        )


# --- Documents: receipts, counts, write-offs --------------------------------------------


def _document_lines(lines: Sequence[ProductQuantity], *, allow_zero: bool) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for line in lines:
        _check_quantity(line.quantity, allow_zero=allow_zero)
        merged[line.product_id] += line.quantity
    if not merged:
        raise InvalidQuantity(_("At least one line is required."))
    if max(merged.values()) > MAX_STOCK_QUANTITY:
        raise InvalidQuantity(
            _("A document holds at most %(max)s units of a product.") % {"max": f"{MAX_STOCK_QUANTITY:,}"},
            details={"max": MAX_STOCK_QUANTITY},
        )
    return dict(merged)


def _next_document_number(kind: str) -> str:
    """``RECEIPT-000123``: for documents recorded without a number of their own."""
    return f"{kind.upper()}-{sequence_next(f'stock_document:{kind}'):06d}"


def _existing_document(kind: str, number: str, location: Location, quantities: dict[int, int]) -> StockDocument | None:
    """The document already recorded under this number, if its contents are the same."""
    document = StockDocument.objects.filter(kind=kind, number=number).first()
    if document is None:
        return None
    recorded = dict(document.lines.values_list("product_id", "quantity"))
    if document.location_id != location.pk or recorded != quantities:
        raise DocumentNumberConflict(details={"number": number, "kind": kind})
    return document


def _record_document(
    *,
    kind: str,
    number: str,
    location: Location,
    quantities: dict[int, int],
    actor: Actor,
    note: str,
    deltas,
    reason: str,
) -> tuple[StockDocument, bool]:
    """Record a document once per (kind, number): a retry returns the first one, unchanged.

    ``deltas(rows)`` computes each product's on-hand change from the locked rows, or raises.
    """
    number = number.strip()
    if not number:
        number = _next_document_number(kind)
    existing = _existing_document(kind, number, location, quantities)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            document = StockDocument.objects.create(
                kind=kind, number=number, location=location, note=note, **actor.audit_fields
            )
            keys = {(product_id, location.pk): qty for product_id, qty in quantities.items()}
            rows = stock_rows_for_update(keys, create_missing=True)
            changes = deltas(rows, quantities)
            StockDocumentLine.objects.bulk_create(
                [
                    StockDocumentLine(
                        document=document,
                        product_id=product_id,
                        quantity=qty,
                        on_hand_before=rows[(product_id, location.pk)].on_hand,
                        on_hand_delta=changes[(product_id, location.pk)][0],
                    )
                    for product_id, qty in quantities.items()
                ]
            )
            _write(rows, changes, reason=reason, cause=Cause(kind, number), actor=actor, note=note)
    except IntegrityError:
        # A concurrent retry recorded the same number first: answer with its document.
        existing = _existing_document(kind, number, location, quantities)
        if existing is None:
            raise
        return existing, False
    return document, True


def stock_receive(
    *, location: Location, lines: Sequence[ProductQuantity], number: str = "", actor: Actor = SYSTEM, note: str = ""
) -> tuple[StockDocument, bool]:
    """Goods arrived at a location. Returns the document and whether it was created now."""
    quantities = _document_lines(lines, allow_zero=False)

    def deltas(rows, quantities):
        return {(pid, location.pk): (qty, 0) for pid, qty in quantities.items()}

    return _record_document(
        kind=StockDocumentKind.RECEIPT,
        number=number,
        location=location,
        quantities=quantities,
        actor=actor,
        note=note,
        deltas=deltas,
        reason=MovementReason.RECEIPT,
    )


def stock_count(
    *,
    location: Location,
    lines: Sequence[ProductQuantity],
    number: str = "",
    actor: Actor = SYSTEM,
    note: str = "",
    expected_on_hand: dict[int, int] | None = None,
) -> tuple[StockDocument, bool]:
    """An inventory count: set on hand to what was counted. Refused below what is reserved.

    ``expected_on_hand`` (product id → on hand as the preview showed it) guards a count posted
    after a preview: if any counted product's on hand is no longer what was shown (a sale, a
    receipt in between), the count is refused with ``StockChangedSinceCount`` rather than
    silently undoing that change. The check is made on the locked rows, so it cannot race.
    """
    quantities = _document_lines(lines, allow_zero=True)

    def deltas(rows, quantities):
        if expected_on_hand is not None:
            _check_unchanged_since_preview(rows, location, quantities, expected_on_hand)
        below = [
            ((pid, location.pk), counted, rows[(pid, location.pk)].reserved)
            for pid, counted in quantities.items()
            if counted < rows[(pid, location.pk)].reserved
        ]
        if below:
            details = _shortage_details(below)
            for line in details["lines"]:
                line["counted"], line["reserved"] = line.pop("requested"), line.pop("available")
            raise CountBelowReserved(details=details)
        return {
            (pid, location.pk): (counted - rows[(pid, location.pk)].on_hand, 0) for pid, counted in quantities.items()
        }

    return _record_document(
        kind=StockDocumentKind.COUNT,
        number=number,
        location=location,
        quantities=quantities,
        actor=actor,
        note=note,
        deltas=deltas,
        reason=MovementReason.COUNT,
    )


def _check_unchanged_since_preview(rows, location: Location, quantities: dict[int, int], expected: dict[int, int]):
    changed = [
        ((pid, location.pk), expected.get(pid), rows[(pid, location.pk)].on_hand)
        for pid in quantities
        if expected.get(pid) != rows[(pid, location.pk)].on_hand
    ]
    if changed:
        details = _shortage_details(changed)
        for line in details["lines"]:
            line["shown"], line["on_hand"] = line.pop("requested"), line.pop("available")
        raise StockChangedSinceCount(details=details)


def stock_write_off(
    *, location: Location, lines: Sequence[ProductQuantity], number: str = "", actor: Actor = SYSTEM, note: str = ""
) -> tuple[StockDocument, bool]:
    """Damaged, lost or expired goods leave stock. Units reserved for orders cannot be written off."""
    quantities = _document_lines(lines, allow_zero=False)

    def deltas(rows, quantities):
        shortages = [
            ((pid, location.pk), qty, rows[(pid, location.pk)].available)
            for pid, qty in quantities.items()
            if rows[(pid, location.pk)].available < qty
        ]
        if shortages:
            raise InsufficientStock(details=_shortage_details(shortages))
        return {(pid, location.pk): (-qty, 0) for pid, qty in quantities.items()}

    return _record_document(
        kind=StockDocumentKind.WRITE_OFF,
        number=number,
        location=location,
        quantities=quantities,
        actor=actor,
        note=note,
        deltas=deltas,
        reason=MovementReason.WRITE_OFF,
    )


# --- Transfers --------------------------------------------------------------------------


def _locked_transfer(transfer: Transfer, *, expected: str | tuple[str, ...]) -> Transfer:
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if locked.status not in ((expected,) if isinstance(expected, str) else expected):
        raise InvalidTransferStatus(
            _("Transfer %(number)s is %(status)s.") % {"number": locked.number, "status": locked.get_status_display()},
            details={"number": locked.number, "status": locked.status},
        )
    return locked


def transfer_create(
    *,
    source: Location,
    destination: Location,
    lines: Sequence[ProductQuantity],
    actor: Actor = SYSTEM,
    cause: Cause | None = None,
    note: str = "",
    reserve_on_receipt: bool = False,
) -> Transfer:
    """Request goods to move; they are reserved at the source until shipped or cancelled.

    With ``reserve_on_receipt`` (and a ``cause``) what arrives is reserved at the destination for
    that cause in the receipt's transaction, so nobody can buy it before the order waiting for it.
    """
    if source.pk == destination.pk:
        raise InvalidTransferStatus(_("A transfer needs two different locations."), details={"location": source.code})
    quantities = _document_lines(lines, allow_zero=False)
    cause = cause or Cause.none()
    with transaction.atomic():
        transfer = Transfer.objects.create(
            number=f"TR-{sequence_next('transfer'):06d}",
            source=source,
            destination=destination,
            cause_type=cause.type,
            cause_id=cause.id,
            note=note,
            reserve_on_receipt=reserve_on_receipt and bool(cause.type),
            **actor.audit_fields,
        )
        TransferLine.objects.bulk_create(
            [TransferLine(transfer=transfer, product_id=pid, quantity=qty) for pid, qty in quantities.items()]
        )
        stock_reserve(
            lines=[StockLine(pid, source.pk, qty) for pid, qty in quantities.items()],
            cause=Cause("transfer", transfer.number),
            actor=actor,
        )
    return transfer


def transfer_ship(*, transfer: Transfer, actor: Actor = SYSTEM) -> Transfer:
    """The goods leave the source: its on-hand and reservation drop; they are in transit."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer, expected=TransferStatus.REQUESTED)
        lines = [line for line in transfer.lines.all() if line.quantity]  # refused lines ship nothing
        _consume_reservation(
            [StockLine(line.product_id, transfer.source_id, line.quantity) for line in lines],
            cause=Cause("transfer", transfer.number),
            actor=actor,
            reason=MovementReason.TRANSFER_OUT,
            on_hand_sign=-1,
        )
        transfer.status = TransferStatus.IN_TRANSIT
        transfer.shipped_at = timezone.now()
        transfer.save(update_fields=["status", "shipped_at", "updated_at"])
    return transfer


def transfer_receive(*, transfer: Transfer, received: dict[int, int] | None = None, actor: Actor = SYSTEM) -> Transfer:
    """Goods arrive at the destination, in full (``received=None``) or in part.

    ``received`` maps product id to the units that arrived; what was shipped but did not
    arrive stays recorded on the line as the discrepancy. A transfer made with
    ``reserve_on_receipt`` reserves what arrived at the destination for its cause. The callbacks
    registered in ``inventory.hooks`` are then called in the same transaction.
    """
    with transaction.atomic():
        transfer = _locked_transfer(transfer, expected=TransferStatus.IN_TRANSIT)
        lines = list(transfer.lines.all())
        shipped = {line.product_id: line.quantity for line in lines}
        received = dict(shipped) if received is None else dict(received)
        unknown = set(received) - set(shipped)
        if unknown:
            raise InvalidQuantity(
                _("These products are not on the transfer."), details={"product_ids": sorted(unknown)}
            )
        for product_id, quantity in received.items():
            _check_quantity(quantity, allow_zero=True)
            if quantity > shipped[product_id]:
                raise InvalidQuantity(
                    _("Cannot receive more than was shipped."),
                    details={"product_id": product_id, "shipped": shipped[product_id], "received": quantity},
                )
        arrived = {(line.product_id, transfer.destination_id): received.get(line.product_id, 0) for line in lines}
        rows = stock_rows_for_update([key for key, qty in arrived.items() if qty], create_missing=True)
        _write(
            rows,
            {key: (qty, 0) for key, qty in arrived.items() if qty},
            reason=MovementReason.TRANSFER_IN,
            cause=Cause("transfer", transfer.number),
            actor=actor,
            announce=not transfer.reserve_on_receipt,  # the reservation below announces both
        )
        if transfer.reserve_on_receipt:
            _write(
                rows,
                {key: (0, qty) for key, qty in arrived.items() if qty},
                reason=MovementReason.RESERVATION,
                cause=Cause(transfer.cause_type, transfer.cause_id),
                actor=actor,
            )
        for line in lines:
            line.received_quantity = received.get(line.product_id, 0)
        TransferLine.objects.bulk_update(lines, ["received_quantity"])
        transfer.status = TransferStatus.RECEIVED
        transfer.received_at = timezone.now()
        transfer.save(update_fields=["status", "received_at", "updated_at"])
        hooks.transfer_received(transfer=transfer, received={line.product_id: line.received_quantity for line in lines})
    return transfer


def transfer_cancel(*, transfer: Transfer, actor: Actor = SYSTEM) -> Transfer:
    """Call off a transfer not yet shipped: its reservation at the source is released (a request
    not yet accepted reserved nothing)."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer, expected=(TransferStatus.REQUESTED, TransferStatus.ASKED))
        if transfer.status == TransferStatus.REQUESTED:
            stock_release(
                lines=[
                    StockLine(line.product_id, transfer.source_id, line.quantity)
                    for line in transfer.lines.all()
                    if line.quantity
                ],
                cause=Cause("transfer", transfer.number),
                actor=actor,
            )
        transfer.status = TransferStatus.CANCELLED
        transfer.cancelled_at = timezone.now()
        transfer.save(update_fields=["status", "cancelled_at", "updated_at"])
    return transfer


# --- Requests: the destination asks, the source ships or declines ------------------------


def transfer_ask(
    *, source: Location, destination: Location, lines: Sequence[ProductQuantity], actor: Actor = SYSTEM, note: str = ""
) -> Transfer:
    """The destination asks the source for goods. Nothing is reserved or moved: the source's
    stock is its own until it ships the request (``transfer_ship_asked``) or declines it."""
    if source.pk == destination.pk:
        raise InvalidTransferStatus(_("A transfer needs two different locations."), details={"location": source.code})
    quantities = _document_lines(lines, allow_zero=False)
    with transaction.atomic():
        transfer = Transfer.objects.create(
            number=f"TR-{sequence_next('transfer'):06d}",
            source=source,
            destination=destination,
            status=TransferStatus.ASKED,
            note=note,
            **actor.audit_fields,
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(transfer=transfer, product_id=pid, quantity=qty, asked_quantity=qty)
                for pid, qty in quantities.items()
            ]
        )
    return transfer


def _sending(lines: list[TransferLine], sending: dict[int, int] | None) -> dict[int, int]:
    """What the source sends of each line asked for: all of it (``None``), or less, 0 refusing it."""
    asked = {line.product_id: line.asked_quantity for line in lines}
    if sending is None:
        return asked
    unknown = set(sending) - set(asked)
    if unknown:
        raise InvalidQuantity(_("These products are not on the transfer."), details={"product_ids": sorted(unknown)})
    result = {pid: sending.get(pid, 0) for pid in asked}
    for pid, quantity in result.items():
        _check_quantity(quantity, allow_zero=True)
        if quantity > asked[pid]:
            raise InvalidQuantity(
                _("Cannot send more than was asked for."),
                details={"product_id": pid, "asked": asked[pid], "sending": quantity},
            )
    if not any(result.values()):
        raise InvalidQuantity(_("Nothing would be sent: decline the request instead, with a reason."))
    return result


def transfer_accept(*, transfer: Transfer, sending: dict[int, int] | None = None, actor: Actor = SYSTEM) -> Transfer:
    """The source agrees to a request: ``sending`` maps product id to the units it sends (less
    than asked, or 0 to refuse a line; ``None`` sends everything asked for). They are reserved at
    the source through ``stock_reserve``, all or nothing, and the transfer is then reserved, to
    ship, like one the source made."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer, expected=TransferStatus.ASKED)
        lines = list(transfer.lines.all())
        quantities = _sending(lines, sending)
        for line in lines:
            line.quantity = quantities[line.product_id]
        TransferLine.objects.bulk_update(lines, ["quantity"])
        stock_reserve(
            lines=[StockLine(pid, transfer.source_id, qty) for pid, qty in quantities.items() if qty],
            cause=Cause("transfer", transfer.number),
            actor=actor,
        )
        transfer.status = TransferStatus.REQUESTED
        transfer.save(update_fields=["status", "updated_at"])
    return transfer


def transfer_ship_asked(
    *, transfer: Transfer, sending: dict[int, int] | None = None, actor: Actor = SYSTEM
) -> Transfer:
    """Accept a request and ship it in one transaction (``transfer_accept``, then ``transfer_ship``)."""
    with transaction.atomic():
        transfer = transfer_accept(transfer=transfer, sending=sending, actor=actor)
        return transfer_ship(transfer=transfer, actor=actor)


def transfer_ship_from_source(
    *, transfer: Transfer, sending: dict[int, int] | None = None, actor: Actor = SYSTEM
) -> Transfer:
    """The source's one "ship" whatever stage the transfer is at: one asked for is accepted with
    ``sending`` and shipped; one already reserved ships what was reserved, so ``sending`` (less
    than agreed) is refused for it."""
    if transfer.status == TransferStatus.ASKED:
        return transfer_ship_asked(transfer=transfer, sending=sending, actor=actor)
    if sending is not None:
        raise InvalidInput.for_field(
            "lines", _("Only a transfer asked for ships in part; this one ships what was reserved.")
        )
    return transfer_ship(transfer=transfer, actor=actor)


def transfer_decline(*, transfer: Transfer, reason: str, actor: Actor = SYSTEM) -> Transfer:
    """The source will not send what was asked for; the destination sees why. Nothing was reserved."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput.for_field("reason", _("Say why the request is declined."))
    _check_text("reason", reason)
    with transaction.atomic():
        transfer = _locked_transfer(transfer, expected=TransferStatus.ASKED)
        transfer.status = TransferStatus.DECLINED
        transfer.declined_at = timezone.now()
        transfer.decline_reason = reason[: Transfer._meta.get_field("decline_reason").max_length]
        transfer.save(update_fields=["status", "declined_at", "decline_reason", "updated_at"])
    return transfer


def _check_text(field: str, value: str) -> None:
    try:
        validate_storable_text(value)
    except ValidationError as error:
        raise InvalidInput.for_field(field, error.messages[0])


def stock_set_minimum(*, stock: Stock, min_quantity: int) -> Stock:
    """The available quantity below which the item is reported as low stock."""
    _check_quantity(min_quantity, allow_zero=True)
    now = timezone.now()
    Stock.objects.filter(pk=stock.pk).update(min_quantity=min_quantity, updated_at=now)
    stock.min_quantity, stock.updated_at = min_quantity, now
    return stock


# --- Imports: one document per location -------------------------------------------------


def stock_documents_record(
    *,
    kind: str,
    lines_by_location: dict[Location, Sequence[ProductQuantity]],
    number: str = "",
    actor: Actor = SYSTEM,
    note: str = "",
) -> list[tuple[StockDocument, bool]]:
    """Record a receipt, count or write-off at each location: all of them, or none (an import file).

    A number names one document of a kind, so with several locations each document is numbered
    ``<number>-<location code>``; without a number each one gets the next of its kind. Numbers are
    taken first, then every stock row of every location is locked in the fixed order, and only
    then are the documents written, so a file spanning several locations cannot deadlock with an
    operation over the same rows. Recording the same file again under the same number changes
    nothing (see ``stock_receive``).
    """
    record = {
        StockDocumentKind.RECEIPT: stock_receive,
        StockDocumentKind.COUNT: stock_count,
        StockDocumentKind.WRITE_OFF: stock_write_off,
    }.get(kind)
    if record is None:
        raise InvalidInput(_("Unknown kind of stock document: %(kind)s.") % {"kind": kind}, details={"kind": kind})
    locations = sorted(lines_by_location, key=lambda location: location.pk)
    if not locations:
        raise InvalidQuantity(_("At least one line is required."))
    number = number.strip()
    max_length = StockDocument._meta.get_field("number").max_length
    with transaction.atomic():
        numbers = {}
        for location in locations:
            if not number:
                numbers[location.pk] = _next_document_number(kind)
            else:
                numbers[location.pk] = number if len(locations) == 1 else f"{number}-{location.code}"
            if len(numbers[location.pk]) > max_length:
                raise InvalidInput.for_field(
                    "number",
                    _("The document number %(number)s is longer than %(max)d characters.")
                    % {"number": numbers[location.pk], "max": max_length},
                )
        stock_rows_for_update(
            [(line.product_id, location.pk) for location in locations for line in lines_by_location[location]],
            create_missing=True,
        )
        return [
            record(
                location=location,
                lines=lines_by_location[location],
                number=numbers[location.pk],
                actor=actor,
                note=note,
            )
            for location in locations
        ]
