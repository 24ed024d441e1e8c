"""Stores, warehouses and pickup points as an integration or head office sets them up: create,
update, deactivate. Each change is audited; a location still holding reservations or with goods on
their way is not deactivated (the orders and transfers waiting on it would be stranded)."""

from dataclasses import dataclass, fields
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from inventory.errors import LocationCodeTaken, LocationInUse
from inventory.models import Location, LocationKind, Stock, Transfer, TransferStatus
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.validators import validate_identifier, validate_storable_text


@dataclass(frozen=True)
class LocationData:
    """What describes a location, besides its code (its key, never changed)."""

    name: str
    kind: str
    city: str
    address: str = ""
    opening_hours: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    is_pickup_point: bool = False
    accepts_returns: bool = False
    ships_orders: bool = False


LOCATION_FIELDS = tuple(field.name for field in fields(LocationData))
_TEXT_FIELDS = ("name", "city", "address", "opening_hours")
_OPEN_TRANSFERS = (TransferStatus.ASKED, TransferStatus.REQUESTED, TransferStatus.IN_TRANSIT)


def _check_text(field: str, value: str, *, required: bool) -> None:
    if required and not value.strip():
        raise InvalidInput.for_field(field, _("This field may not be blank."))
    try:
        validate_storable_text(value)
    except ValidationError as error:
        raise InvalidInput.for_field(field, error.messages[0])


def _checked(values: dict) -> dict:
    """The values, stripped, once each passes the rules a location's fields follow."""
    values = {name: value.strip() if isinstance(value, str) else value for name, value in values.items()}
    for name in _TEXT_FIELDS:
        if name in values:
            _check_text(name, values[name], required=name in ("name", "city"))
    if "kind" in values and values["kind"] not in LocationKind.values:
        raise InvalidInput.for_field("kind", _("Unknown kind %(kind)s.") % {"kind": values["kind"]})
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if (latitude is None) != (longitude is None):
        raise InvalidInput.for_field("latitude", _("Give both coordinates, or neither."))
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput.for_field("latitude", _("Latitude is −90 to 90 degrees, longitude −180 to 180."))
    return values


def location_create(*, code: str, data: LocationData, actor: Actor = SYSTEM) -> Location:
    code = code.strip()
    try:
        validate_identifier(code)
    except ValidationError as error:
        raise InvalidInput.for_field("code", error.messages[0])
    values = _checked({name: getattr(data, name) for name in LOCATION_FIELDS})
    try:
        with transaction.atomic():
            location = Location.objects.create(code=code, **values)
            audit_event(actor, location, AuditKind.CREATED)
    except IntegrityError:
        raise LocationCodeTaken(details={"code": code})
    return location


def _check_can_deactivate(location: Location) -> None:
    reserved = Stock.objects.filter(location=location, reserved__gt=0).exists()
    moving = Transfer.objects.filter(Q(source=location) | Q(destination=location), status__in=_OPEN_TRANSFERS).exists()
    if reserved or moving:
        raise LocationInUse(details={"code": location.code, "reserved_stock": reserved, "open_transfers": moving})


def location_update(*, location: Location, changes: dict, actor: Actor = SYSTEM) -> Location:
    """Change some of a location's fields (``LOCATION_FIELDS`` and ``is_active``); the rest stay.
    Both coordinates change together: a change to one keeps the other as it was."""
    unknown = set(changes) - {*LOCATION_FIELDS, "is_active"}
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], _("This field cannot be changed."))
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location.pk)
        before = audit_snapshot(location, changes)
        merged = {"latitude": location.latitude, "longitude": location.longitude, **changes}
        names = set(changes) | ({"latitude", "longitude"} if {"latitude", "longitude"} & set(changes) else set())
        values = _checked({name: merged[name] for name in names})
        if values.get("is_active") is False and location.is_active:
            _check_can_deactivate(location)
        for name, value in values.items():
            setattr(location, name, value)
        location.save()
        audit_changes(actor, location, before, {name: values[name] for name in changes})
    return location


def location_deactivate(*, location: Location, actor: Actor = SYSTEM) -> Location:
    """Close a location: it leaves the lists, availability and pickup choices; its history stays."""
    return location_update(location=location, changes={"is_active": False}, actor=actor)
