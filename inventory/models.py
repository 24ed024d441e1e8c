from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from omni.core.barcodes import validate_ean13
from omni.core.models import TimeStampedModel, by_api_key, by_staff_member
from omni.core.validators import validate_identifier


def validate_sku(sku: str) -> None:
    """A SKU is part of URLs (``/api/v1/products/{sku}/``): no spaces, no slashes, nothing invisible."""
    if sku:
        validate_identifier(sku)
    if not sku or any(char.isspace() or char == "/" for char in sku):
        raise ValidationError(_("A SKU is required and may contain neither spaces nor slashes."), code="invalid_sku")


class Category(TimeStampedModel):
    """A node of the catalogue tree. ``code`` is the stable key integrations send."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def ancestors(self) -> list["Category"]:
        chain, node, seen = [], self.parent, {self.pk}
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain[::-1]

    @property
    def path(self) -> str:
        return " / ".join([*(c.name for c in self.ancestors()), self.name])


class Unit(models.TextChoices):
    PIECE = "pcs", _("piece")
    PAIR = "pair", _("pair")
    PACK = "pack", _("pack")
    KILOGRAM = "kg", _("kilogram")
    LITRE = "l", _("litre")
    METRE = "m", _("metre")


class ProductModel(TimeStampedModel):
    """A style (a model) whose variants are products: one SKU, barcodes and price per size or colour."""

    code = models.CharField(_("model code"), max_length=64, unique=True, validators=[validate_sku])
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="models"
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    external_id = models.CharField(
        _("ERP id"),
        max_length=100,
        blank=True,
        help_text=_("The model's id in the ERP (1C's Ид): an exchange finds the model by it, whatever its code."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="product_model_external_id_unique"
            )
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Product(TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True, validators=[validate_sku])
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("One price for every channel."),
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="variants",
        help_text=_("The style this product is a variant of; empty for a product without variants."),
    )
    external_id = models.CharField(
        _("ERP id"),
        max_length=100,
        blank=True,
        help_text=_("The product's id in the ERP (1C's Ид): an exchange finds the product by it, whatever its SKU."),
    )

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="product_external_id_unique"
            ),
        ]
        # Incremental sync reads by (updated_at, id): omni.core.api.sync.
        indexes = [models.Index(fields=["updated_at", "id"], name="product_sync_idx")]

    def __str__(self):
        return f"{self.sku} — {self.name}"


class Barcode(TimeStampedModel):
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(_("EAN-13"), max_length=13, unique=True, validators=[validate_ean13])

    class Meta:
        ordering = ["code"]
        verbose_name = _("barcode")
        verbose_name_plural = _("barcodes")

    def __str__(self):
        return self.code


class AttributeType(models.TextChoices):
    TEXT = "text", pgettext_lazy("attribute type", "text")
    NUMBER = "number", pgettext_lazy("attribute type", "number")
    CHOICE = "choice", pgettext_lazy("attribute type", "choice")
    COLOUR = "colour", pgettext_lazy("attribute type", "colour")


class Attribute(TimeStampedModel):
    """A typed property of variants (size, colour, material). Values are checked against the type."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=200)
    type = models.CharField(_("type"), max_length=8, choices=AttributeType.choices, default=AttributeType.TEXT)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("The allowed values of a choice attribute.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")

    def __str__(self):
        return self.name


class AttributeValue(models.Model):
    """One attribute's value for one variant, stored as text in its canonical form (numbers as
    ``Decimal`` strings, colours as given), so "every variant of size 42" is a plain filter."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="attribute_values"
    )
    attribute = models.ForeignKey(
        Attribute, verbose_name=_("attribute"), on_delete=models.PROTECT, related_name="values"
    )
    value = models.CharField(_("value"), max_length=255)

    class Meta:
        ordering = ["attribute__code"]
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")
        constraints = [models.UniqueConstraint(fields=["product", "attribute"], name="one_value_per_attribute")]

    def __str__(self):
        return f"{self.attribute}: {self.value}"


class ProductImage(models.Model):
    """An image by URL of a model (all its variants) or of one variant, in display order."""

    model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="images",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.CASCADE, related_name="images"
    )
    url = models.URLField(_("URL"), max_length=1000)
    position = models.PositiveIntegerField(_("position"), default=0)
    alt = models.CharField(_("alternative text"), max_length=255, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("image")
        verbose_name_plural = _("images")
        constraints = [
            models.CheckConstraint(
                condition=Q(model__isnull=False, product__isnull=True) | Q(model__isnull=True, product__isnull=False),
                name="image_of_model_or_variant",
            )
        ]

    def __str__(self):
        return self.url


class LocationKind(models.TextChoices):
    STORE = "store", _("store")
    WAREHOUSE = "warehouse", _("warehouse")


class LocationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Location(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(pgettext_lazy("goods", "name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=LocationKind.choices, db_index=True)
    city = models.CharField(_("city"), max_length=100, db_index=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    opening_hours = models.CharField(
        _("opening hours"), max_length=200, blank=True, help_text=_("For example: Mon–Sun 10:00–22:00")
    )
    is_pickup_point = models.BooleanField(_("accepts click-and-collect pickups"), default=False)
    accepts_returns = models.BooleanField(_("accepts returns"), default=False)
    ships_orders = models.BooleanField(_("ships orders"), default=False)
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=6, null=True, blank=True, help_text=_("Degrees, −90 to 90.")
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True, help_text=_("Degrees, −180 to 180.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            # A point on the map has both coordinates, or the location has none.
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="location_coordinates_valid",
            )
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Employee(TimeStampedModel):
    """Binds a staff user to the locations they work at. Store staff see only these locations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="employee"
    )
    locations = models.ManyToManyField(Location, verbose_name=_("locations"), related_name="employees", blank=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        permissions = [("access_all_locations", _("Can see and manage every location"))]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


# The most units one stock row holds: the range of its integer columns on every database.
MAX_STOCK_QUANTITY = 2_147_483_647


class Stock(models.Model):
    """What a location holds of a product. Changed only by ``inventory.services``."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    min_quantity = models.PositiveIntegerField(
        _("minimum quantity"), default=0, help_text=_("Below this available quantity the item counts as low stock.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["location__code", "product__sku"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_unique_product_location"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_non_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]
        indexes = [
            models.Index(fields=["location", "product"], name="stock_location_product_idx"),
            models.Index(fields=["updated_at", "id"], name="stock_sync_idx"),  # incremental sync
        ]
        permissions = [
            ("receive_stock", _("Can record stock receipts")),
            ("count_stock", _("Can record stock counts")),
            ("write_off_stock", _("Can write off stock")),
        ]

    def __str__(self):
        return f"{self.product.sku} @ {self.location.code}: {self.on_hand} / {self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementReason(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    COUNT = "count", _("inventory count")
    WRITE_OFF = "write_off", _("write-off")
    RESERVATION = "reservation", _("reservation")
    RELEASE = "release", _("release")
    SALE = "sale", _("sale")
    RETURN = "return", _("return")
    TRANSFER_OUT = "transfer_out", _("transfer out")
    TRANSFER_IN = "transfer_in", _("transfer in")


class StockMovement(models.Model):
    """One append-only row of the stock ledger.

    ``cause_type``/``cause_id`` name what caused the change (``transfer``/``TR-000012``,
    ``order``/``W-2026-000001``) as a reference, so lower apps never import the higher ones.
    """

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    on_hand_delta = models.IntegerField(_("change in on hand"), default=0)
    reserved_delta = models.IntegerField(_("change in reserved"), default=0)
    reason = models.CharField(_("operation"), max_length=16, choices=MovementReason.choices)
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause reference"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock ledger")
        indexes = [
            models.Index(fields=["product", "location"], name="movement_product_location_idx"),
            models.Index(fields=["cause_type", "cause_id"], name="movement_cause_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_delta=0) | ~Q(reserved_delta=0), name="movement_changes_something"
            )
        ]

    def __str__(self):
        return f"{self.get_reason_display()} {self.product_id}@{self.location_id}"


class StockDocumentKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    COUNT = "count", _("inventory count")
    WRITE_OFF = "write_off", _("write-off")


class StockDocument(TimeStampedModel):
    """A receipt, count or write-off as a whole. Its number makes a retried API call harmless."""

    kind = models.CharField(_("kind"), max_length=16, choices=StockDocumentKind.choices)
    number = models.CharField(_("document number"), max_length=64)
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="documents"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = by_staff_member()
    api_key = by_api_key()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock document")
        verbose_name_plural = _("stock documents")
        constraints = [models.UniqueConstraint(fields=["kind", "number"], name="stock_document_unique_number")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class StockDocumentLine(models.Model):
    document = models.ForeignKey(
        StockDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(_("quantity"), help_text=_("Received, counted or written off."))
    on_hand_before = models.IntegerField(_("on hand before"))
    on_hand_delta = models.IntegerField(_("change in on hand"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("document line")
        verbose_name_plural = _("document lines")
        constraints = [
            models.UniqueConstraint(fields=["document", "product"], name="stock_document_line_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_document_line_quantity_non_negative"),
        ]

    def __str__(self):
        return f"{self.document}: {self.product_id} × {self.quantity}"


class TransferStatus(models.TextChoices):
    # Asked for by the destination: nothing reserved yet; the source ships it or declines it.
    ASKED = "asked", pgettext_lazy("transfer status", "asked for")
    # Reserved at the source, to ship (the value predates requests from the destination).
    REQUESTED = "requested", pgettext_lazy("transfer status", "reserved")
    IN_TRANSIT = "in_transit", _("in transit")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")
    DECLINED = "declined", _("declined")


class Transfer(TimeStampedModel):
    """Goods moving between two locations.

    Asked for: the destination asked the source for goods; nothing is reserved, and the source
    ships it (all, less, or some lines refused) or declines it with a reason. Requested (shown
    as "reserved"): reserved at the source. Shipped: gone from the source, in transit.
    Received: on hand at the destination; what did not arrive is the discrepancy.
    """

    number = models.CharField(_("number"), max_length=32, unique=True)
    source = models.ForeignKey(
        Location, verbose_name=_("source"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    destination = models.ForeignKey(
        Location, verbose_name=_("destination"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.REQUESTED, db_index=True
    )
    cause_type = models.CharField(_("cause"), max_length=32, blank=True)
    cause_id = models.CharField(_("cause reference"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    reserve_on_receipt = models.BooleanField(
        _("reserve on receipt"),
        default=False,
        help_text=_("What arrives is reserved at the destination for the cause (an order waiting for it)."),
    )
    created_by = by_staff_member()
    api_key = by_api_key()
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_between_two_locations")
        ]
        permissions = [
            ("ship_transfer", _("Can ship transfers")),
            ("receive_transfer", _("Can receive transfers")),
            ("cancel_transfer", _("Can cancel transfers")),
        ]

    def __str__(self):
        return self.number

    @property
    def has_discrepancy(self) -> bool:
        return any(line.discrepancy for line in self.lines.all())


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    asked_quantity = models.PositiveIntegerField(
        _("asked for"), null=True, blank=True, help_text=_("What the destination asked for, when it asked.")
    )
    received_quantity = models.PositiveIntegerField(_("received"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transfer_line_unique_product"),
            # A line may ship nothing only when it was asked for and the source refused it.
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(asked_quantity__isnull=False), name="transfer_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(asked_quantity__isnull=True) | Q(quantity__lte=F("asked_quantity")),
                name="transfer_line_within_asked",
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True) | Q(received_quantity__lte=F("quantity")),
                name="transfer_line_received_within_shipped",
            ),
        ]

    def __str__(self):
        return f"{self.transfer.number}: {self.product_id} × {self.quantity}"

    @property
    def discrepancy(self) -> int:
        """Units shipped that did not arrive."""
        if self.received_quantity is None:
            return 0
        return self.quantity - self.received_quantity
