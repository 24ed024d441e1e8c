"""The category tree as an integration sets it up: create a category, rename it, move it under
another parent (never under itself or its own subtree). Each change is audited."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inventory.errors import CategoryCodeTaken, CategoryInUse, UnknownCategory
from inventory.models import Category, Product, ProductModel
from inventory.selectors import category_subtree_ids
from omni.core.actors import SYSTEM, Actor
from omni.core.audit import audit_changes, audit_event, audit_snapshot
from omni.core.errors import InvalidInput
from omni.core.models import AuditKind
from omni.core.validators import validate_identifier, validate_storable_text


def _check(field: str, value: str, validator) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput.for_field(field, _("This field may not be blank."))
    try:
        validator(value)
    except ValidationError as error:
        raise InvalidInput.for_field(field, error.messages[0])
    return value


def _parent(code: str | None) -> Category | None:
    if not code:
        return None
    parent = Category.objects.filter(code=code).first()
    if parent is None:
        raise UnknownCategory(details={"category": code, "field": "parent"})
    if not parent.is_active:
        raise InvalidInput.for_field("parent", _("This category is deactivated; choose an active one."))
    return parent


def category_create(*, code: str, name: str, parent_code: str | None = None, actor: Actor = SYSTEM) -> Category:
    code = _check("code", code, validate_identifier)
    name = _check("name", name, validate_storable_text)
    parent = _parent(parent_code)
    try:
        with transaction.atomic():
            category = Category.objects.create(code=code, name=name, parent=parent)
            audit_event(actor, category, AuditKind.CREATED)
    except IntegrityError:
        raise CategoryCodeTaken(details={"code": code})
    return category


def category_update(*, category: Category, changes: dict, actor: Actor = SYSTEM) -> Category:
    """Rename (``name``) or move (``parent``: a category code, or None for the top level)."""
    values = {}
    if "name" in changes:
        values["name"] = _check("name", changes["name"], validate_storable_text)
    with transaction.atomic():
        if "parent" in changes:
            # Two moves racing could each pass the cycle check; moves take the whole tree in turn.
            list(Category.objects.select_for_update().values_list("pk", flat=True).order_by("pk"))
        category = Category.objects.select_for_update().get(pk=category.pk)
        if "parent" in changes:
            parent = _parent(changes["parent"])
            if parent is not None and parent.pk in category_subtree_ids(category):
                raise InvalidInput.for_field("parent", _("A category cannot move under itself or its subcategories."))
            values["parent"] = parent
        before = audit_snapshot(category, values)
        for name, value in values.items():
            setattr(category, name, value)
        category.save()
        audit_changes(actor, category, before, values)
    return category


def category_deactivate(*, category: Category, actor: Actor = SYSTEM) -> Category:
    """Retire a category: it stays in the tree for history and sync (``is_active`` false) and takes
    no new subcategories. Refused while active subcategories, products or product models are in it,
    so nothing sellable is left in a category the shop no longer shows. Twice changes nothing."""
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        if not category.is_active:
            return category
        in_use = (
            category.children.filter(is_active=True).exists()
            or Product.objects.filter(category=category, is_active=True).exists()
            or ProductModel.objects.filter(category=category, is_active=True).exists()
        )
        if in_use:
            raise CategoryInUse(details={"category": category.code})
        category.is_active = False
        category.save(update_fields=["is_active", "updated_at"])
        audit_changes(actor, category, {"is_active": True}, {"is_active": False})
    return category
