"""CommerceML 2 (1C) import of the sample exchange in tests/inventory/data/commerceml: groups, goods with
characteristics, prices and stock per warehouse; hostile or broken files change nothing."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from inventory.models import Attribute, Category, Product, ProductModel, Stock
from omni.core.audit import audit_events_for
from tests.inventory.api_support import db_snapshot
from tests.inventory.factories import LocationFactory, ProductFactory
from tests.inventory.import_support import HEAD_OFFICE, STORE_MANAGER, message_texts

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "commerceml"
IMPORT, OFFERS = str(DATA / "import.xml"), str(DATA / "offers.xml")


@pytest.fixture
def warehouses():
    return LocationFactory(code="MSK-WH", name="Main"), LocationFactory(code="tver", name="Магазин на Тверской")


def attributes_of(sku: str) -> dict[str, str]:
    return dict(Product.objects.get(sku=sku).attribute_values.values_list("attribute__code", "value"))


def on_hand(sku: str) -> dict[str, int]:
    return dict(Stock.objects.filter(product__sku=sku).values_list("location__code", "on_hand"))


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_imports_the_sample_exchange(warehouses):
    call_command("import_commerceml", IMPORT, OFFERS)

    clothes, tees = Category.objects.get(name="Одежда"), Category.objects.get(name="Футболки")
    assert tees.parent == clothes and Category.objects.get(code="grp-dishes").name == "Посуда"
    tee = ProductModel.objects.get(code="TEE-001")
    assert tee.name == "Футболка базовая" and tee.category == tees
    assert list(tee.images.values_list("url", flat=True)) == ["https://cdn.example.com/tee-001.jpg"]
    assert sorted(tee.variants.values_list("sku", flat=True)) == ["TEE-001-L-Белый", "TEE-001-M-Белый"]
    medium = Product.objects.get(sku="TEE-001-M-Белый")
    assert medium.price == Decimal("990.00")  # the first price type (Розничная), not the wholesale 700
    assert list(medium.barcodes.values_list("code", flat=True)) == ["4600000000015"]
    assert attributes_of("TEE-001-M-Белый") == {
        "razmer": "M",
        "tsvet": "Белый",
        "prop-material": "Хлопок",
        "prop-weight": "180",
    }
    assert Attribute.objects.get(code="prop-weight").type == "number"
    assert Product.objects.get(sku="TEE-001-L-Белый").price == Decimal("1090.50")
    mug = Product.objects.get(sku="MUG-001")
    assert (
        mug.model.code == "MUG-001"
        and mug.price == Decimal("450")
        and attributes_of("MUG-001") == {"prop-material": "Керамика"}
    )
    # stock per Склад: by location code (MSK-WH) or name (Магазин на Тверской), 2.08 and 2.04 forms
    assert on_hand("TEE-001-M-Белый") == {"MSK-WH": 5, "tver": 2}
    assert on_hand("TEE-001-L-Белый") == {"MSK-WH": 3}
    assert on_hand("MUG-001") == {"tver": 12}


def test_importing_again_changes_nothing_and_offers_alone_update_price_and_stock(warehouses, tmp_path):
    call_command("import_commerceml", IMPORT, OFFERS)
    before = db_snapshot()["products"]
    call_command("import_commerceml", IMPORT, OFFERS)
    assert db_snapshot()["products"] == before

    offers = (DATA / "offers.xml").read_text(encoding="utf-8").replace("<ЦенаЗаЕдиницу>450<", "<ЦенаЗаЕдиницу>399<")
    offers = offers.replace('КоличествоНаСкладе="12"', 'КоличествоНаСкладе="10"')
    call_command("import_commerceml", write(tmp_path, "offers.xml", offers))

    assert Product.objects.get(sku="MUG-001").price == Decimal("399")
    assert on_hand("MUG-001") == {"tver": 10}


def test_an_offers_file_alone_finds_the_goods_by_their_id(warehouses, tmp_path):
    call_command("import_commerceml", IMPORT, OFFERS)
    # 1C's incremental offers.xml need not repeat the Артикул; the Ид of the earlier exchange is enough
    offers = (DATA / "offers.xml").read_text(encoding="utf-8").replace("<Артикул>TEE-001</Артикул>", "")
    offers = offers.replace("<ЦенаЗаЕдиницу>990<", "<ЦенаЗаЕдиницу>950<")

    call_command("import_commerceml", write(tmp_path, "offers.xml", offers))

    assert Product.objects.get(sku="TEE-001-M-Белый").price == Decimal("950")
    assert Product.objects.get(sku="TEE-001-M-Белый").external_id == "tee-001#size-m"


def test_an_article_corrected_in_1c_renames_the_sku_and_keeps_its_stock(warehouses, tmp_path):
    call_command("import_commerceml", IMPORT, OFFERS)
    mug = Product.objects.get(sku="MUG-001")
    exchange = (DATA / "import.xml").read_text(encoding="utf-8").replace("<Артикул>MUG-001<", "<Артикул>MUG-100<")

    call_command("import_commerceml", write(tmp_path, "import.xml", exchange))

    renamed = Product.objects.get(pk=mug.pk)
    assert renamed.sku == "MUG-100" and not Product.objects.filter(sku="MUG-001").exists()
    assert renamed.model.code == "MUG-100" and ProductModel.objects.filter(code="MUG-001").count() == 0
    assert on_hand("MUG-100") == {"tver": 12}
    changes = [(e.field_name, e.old_value, e.new_value) for e in audit_events_for(renamed)]
    assert ("sku", "MUG-001", "MUG-100") in changes


def test_an_article_renamed_onto_another_products_sku_is_refused(warehouses, tmp_path):
    call_command("import_commerceml", IMPORT, OFFERS)
    ProductFactory(sku="MUG-100")
    exchange = (DATA / "import.xml").read_text(encoding="utf-8").replace("<Артикул>MUG-001<", "<Артикул>MUG-100<")
    before = db_snapshot()

    with pytest.raises(CommandError, match="Another product already has this SKU"):
        call_command("import_commerceml", write(tmp_path, "import.xml", exchange))

    assert db_snapshot() == before and Product.objects.filter(sku="MUG-001").exists()


def test_price_type_can_be_chosen(warehouses):
    call_command("import_commerceml", IMPORT, OFFERS)
    call_command("import_commerceml", OFFERS, "--price-type", "price-wholesale")
    assert Product.objects.get(sku="TEE-001-M-Белый").price == Decimal("700")
    assert Product.objects.get(sku="TEE-001-L-Белый").price == Decimal("1090.50")  # no wholesale price: kept


XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<КоммерческаяИнформация><Каталог><Товары><Товар><Ид>1</Ид><Артикул>X</Артикул>
<Наименование>&x;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<КоммерческаяИнформация><Каталог><Товары><Товар><Ид>1</Ид><Артикул>X</Артикул>
<Наименование>&lol3;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>"""


@pytest.mark.parametrize("text", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_dtd_and_entities_are_refused(tmp_path, text):
    before = db_snapshot()

    with pytest.raises(CommandError, match="DTD or entity declaration is not accepted"):
        call_command("import_commerceml", write(tmp_path, "import.xml", text))

    assert db_snapshot() == before and not ProductModel.objects.exists()


def test_broken_xml_is_named(tmp_path):
    with pytest.raises(CommandError, match="import.xml is not well-formed XML"):
        call_command("import_commerceml", write(tmp_path, "import.xml", "<КоммерческаяИнформация><Каталог>"))


def test_bad_offer_names_the_element_and_changes_nothing(warehouses, tmp_path):
    ProductFactory(sku="OLD-1", price=Decimal("5"))
    offers = (DATA / "offers.xml").read_text(encoding="utf-8").replace("<Ид>mug-001</Ид>", "<Ид>nope</Ид>")
    offers = offers.replace("<Количество>3</Количество>", "<Количество>два</Количество>")
    before = db_snapshot()

    with pytest.raises(CommandError) as raised:
        call_command("import_commerceml", IMPORT, write(tmp_path, "offers.xml", offers))

    message = str(raised.value)
    assert "Nothing was imported" in message
    assert "Предложение 2 (Ид tee-001#size-l): the quantity два is not a whole number." in message
    assert db_snapshot() == before and not ProductModel.objects.exists()


def test_unknown_offer_and_warehouse_are_named(tmp_path):
    LocationFactory(code="MSK-WH")
    offers = (DATA / "offers.xml").read_text(encoding="utf-8").replace("<Ид>mug-001</Ид>", "<Ид>nope</Ид>")

    with pytest.raises(CommandError) as raised:
        call_command("import_commerceml", IMPORT, write(tmp_path, "offers.xml", offers))

    message = str(raised.value)
    assert "Предложение 3 (Ид nope): no product has this Ид, Штрихкод or Артикул." in message
    assert not Product.objects.exists()


def test_unknown_warehouse_is_named(tmp_path):
    LocationFactory(code="MSK-WH")

    with pytest.raises(CommandError, match=r"Склад wh-tver \(Магазин на Тверской\): no location"):
        call_command("import_commerceml", IMPORT, OFFERS)

    assert not Product.objects.exists() and not Stock.objects.exists()


def test_new_product_without_price_is_refused():
    with pytest.raises(CommandError, match=r"Товар 2 \(Ид tee-001#size-m\): a new product needs its price"):
        call_command("import_commerceml", IMPORT)
    assert not Product.objects.exists()


# --- The admin page ---------------------------------------------------------------------------

COMMERCEML_PAGE = "/admin/inventory/productmodel/commerceml/"


def uploaded(name: str, content: bytes):
    return SimpleUploadedFile(name, content, content_type="text/xml")


def test_head_office_imports_through_the_admin(client, login, warehouses):
    login(HEAD_OFFICE)
    assert COMMERCEML_PAGE.encode() in client.get("/admin/inventory/productmodel/").content

    response = client.post(
        COMMERCEML_PAGE,
        {
            "import_file": uploaded("import.xml", (DATA / "import.xml").read_bytes()),
            "offers_file": uploaded("offers.xml", (DATA / "offers.xml").read_bytes()),
        },
        follow=True,
    )

    assert "Imported. Categories: 3; product models: 2; variants: 3; stock counts: 2." in message_texts(response)
    assert on_hand("MUG-001") == {"tver": 12}


def test_admin_shows_every_error_and_imports_nothing(client, login, tmp_path):
    login(HEAD_OFFICE)
    response = client.post(COMMERCEML_PAGE, {"import_file": uploaded("import.xml", XXE.encode())}, follow=True)

    assert message_texts(response) == [
        "Nothing was imported.",
        "import.xml: a DTD or entity declaration is not accepted.",
    ]
    assert not Product.objects.exists()
    empty = client.post(COMMERCEML_PAGE, {"price_type": ""})
    assert "Choose import.xml, offers.xml or both." in empty.content.decode()


def test_store_staff_cannot_import(client, login):
    login(STORE_MANAGER, LocationFactory())
    assert client.get(COMMERCEML_PAGE).status_code == 403
    assert COMMERCEML_PAGE.encode() not in client.get("/admin/inventory/productmodel/").content


def test_model_edited_in_the_admin_is_audited(client, login, warehouses):
    call_command("import_commerceml", IMPORT, OFFERS)
    login(HEAD_OFFICE)
    model = ProductModel.objects.get(code="MUG-001")
    url = f"/admin/inventory/productmodel/{model.pk}/change/"
    form = {
        "code": "MUG-001",
        "name": "Кружка 350 мл",
        "description": "",
        "category": model.category_id,
        "is_active": "on",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "1",
    }

    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert ProductModel.objects.get(pk=model.pk).name == "Кружка 350 мл"
    assert any(event.field_name == "name" and event.new_value == "Кружка 350 мл" for event in audit_events_for(model))
