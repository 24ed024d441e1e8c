"""The catalogue a shop syncs: product models with variants, typed attributes and images."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory import services
from inventory.models import AttributeValue, Product, ProductImage, ProductModel
from tests.inventory.api_support import AVAILABILITY, assert_error, db_snapshot, product_url, receive
from tests.inventory.factories import CategoryFactory, LocationFactory, ean13

pytestmark = pytest.mark.django_db

MODELS = reverse("api:inventory:product-model-list")
ATTRIBUTES = reverse("api:inventory:attribute-list")


@pytest.fixture
def attributes():
    services.attribute_upsert(code="size", name="Size", type="choice", choices=["S", "M", "L"])
    services.attribute_upsert(code="colour", name="Colour", type="colour")
    services.attribute_upsert(code="weight", name="Weight, g", type="number")


def tee(**overrides) -> dict:
    body = {
        "code": "TEE",
        "name": "Basic T-shirt",
        "category": "tees",
        "images": [{"url": "https://cdn.example.com/tee.jpg", "alt": "Front"}],
        "variants": [
            {
                "sku": "TEE-M",
                "price": "990.00",
                "barcodes": [ean13(1)],
                "attributes": {"size": "M", "colour": "#FF0000", "weight": "180.0"},
                "images": [{"url": "https://cdn.example.com/tee-m.jpg"}],
            },
            {"sku": "TEE-L", "name": "T-shirt L", "price": "1090.00", "attributes": {"size": "L"}},
        ],
    }
    return body | overrides


class TestProductModelUpsert:
    def test_creates_model_with_variants_attributes_and_images(self, catalog_writer, reader, attributes):
        CategoryFactory(code="tees", name="Tees")

        response = catalog_writer.post(MODELS, tee(), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["code"] == "TEE" and body["category"] == {"code": "tees", "name": "Tees"}
        assert body["images"] == [{"url": "https://cdn.example.com/tee.jpg", "alt": "Front", "position": 0}]
        large, medium = body["variants"]  # by SKU
        assert medium["sku"] == "TEE-M" and medium["name"] == "Basic T-shirt" and medium["price"] == "990.00"
        assert medium["model"] == "TEE" and medium["barcodes"] == [ean13(1)]
        assert medium["attributes"] == {"colour": "#FF0000", "size": "M", "weight": "180"}
        assert medium["images"][0]["url"] == "https://cdn.example.com/tee-m.jpg"
        assert large["name"] == "T-shirt L" and large["attributes"] == {"size": "L"}
        assert Product.objects.get(sku="TEE-L").category.code == "tees"
        # the variant is a product: found by SKU in the products API and in availability
        assert reader.get(product_url("TEE-M")).json()["attributes"]["size"] == "M"
        receive(LocationFactory(code="shop"), (Product.objects.get(sku="TEE-M"), 4))
        assert reader.get(AVAILABILITY, {"sku": "TEE-M"}).json()["results"][0]["total_available"] == 4

    def test_update_replaces_given_parts_and_keeps_the_rest(self, catalog_writer, attributes):
        CategoryFactory(code="tees")
        catalog_writer.post(MODELS, tee(), format="json")

        response = catalog_writer.post(
            MODELS,
            {"code": "TEE", "name": "Tee", "variants": [{"sku": "TEE-M", "price": "899", "attributes": {"size": "S"}}]},
            format="json",
        )

        assert response.status_code == 200, response.content
        medium = Product.objects.get(sku="TEE-M")
        assert medium.price == Decimal("899") and medium.name == "Tee"
        assert dict(medium.attribute_values.values_list("attribute__code", "value")) == {"size": "S"}
        assert medium.images.count() == 1  # images omitted: left as they were
        assert ProductImage.objects.filter(model__code="TEE").count() == 1
        assert Product.objects.get(sku="TEE-L").model.code == "TEE"

    @pytest.mark.parametrize(
        ("attrs", "code"),
        [
            ({"size": "XXL"}, "invalid_attribute_value"),
            ({"weight": "heavy"}, "invalid_attribute_value"),
            ({"colour": "#GG0000"}, "invalid_attribute_value"),
            ({"fabric": "cotton"}, "unknown_attribute"),
        ],
    )
    def test_bad_attribute_value_changes_nothing(self, catalog_writer, attributes, attrs, code):
        CategoryFactory(code="tees")
        body = tee()
        body["variants"][1]["attributes"] = attrs
        before = db_snapshot()

        details = assert_error(catalog_writer.post(MODELS, body, format="json"), 400, code)

        assert details
        assert db_snapshot() == before
        assert not ProductModel.objects.exists() and not AttributeValue.objects.exists()

    def test_duplicate_sku_and_bad_url_are_refused(self, catalog_writer, attributes):
        body = tee(category=None)
        body["variants"][1]["sku"] = "TEE-M"
        assert_error(catalog_writer.post(MODELS, body, format="json"), 400, "invalid")
        assert_error(
            catalog_writer.post(MODELS, tee(category=None, images=[{"url": "javascript:alert(1)"}]), format="json"),
            400,
            "invalid",
        )
        assert not ProductModel.objects.exists()

    def test_reader_cannot_write(self, reader):
        assert reader.post(MODELS, tee(), format="json").status_code == 403


class TestProductModelRead:
    def test_list_and_detail(self, catalog_writer, reader, attributes, django_assert_max_num_queries):
        CategoryFactory(code="tees")
        catalog_writer.post(MODELS, tee(), format="json")
        catalog_writer.post(MODELS, tee(code="TEE2", variants=[{"sku": "TEE2-S", "price": "1"}]), format="json")
        reader.get(MODELS)

        with django_assert_max_num_queries(10):
            body = reader.get(MODELS).json()

        assert [m["code"] for m in body["results"]] == ["TEE", "TEE2"]
        assert [v["sku"] for v in body["results"][0]["variants"]] == ["TEE-L", "TEE-M"]
        url = reverse("api:inventory:product-model-detail", kwargs={"model_code": "TEE2"})
        assert reader.get(url).json()["variants"][0]["sku"] == "TEE2-S"
        missing = reverse("api:inventory:product-model-detail", kwargs={"model_code": "NOPE"})
        assert_error(reader.get(missing), 404, "not_found")


class TestAttributes:
    def test_create_update_and_list(self, catalog_writer, reader):
        created = catalog_writer.post(
            ATTRIBUTES, {"code": "size", "name": "Size", "type": "choice", "choices": ["S", "M"]}, format="json"
        )
        updated = catalog_writer.post(
            ATTRIBUTES, {"code": "size", "name": "Size", "type": "choice", "choices": ["S", "M", "L"]}, format="json"
        )

        assert (created.status_code, updated.status_code) == (201, 200)
        assert reader.get(ATTRIBUTES).json()["results"] == [
            {"code": "size", "name": "Size", "type": "choice", "choices": ["S", "M", "L"]}
        ]

    def test_choice_without_choices_is_refused(self, catalog_writer):
        response = catalog_writer.post(ATTRIBUTES, {"code": "size", "name": "Size", "type": "choice"}, format="json")
        assert_error(response, 400, "invalid")

    @pytest.mark.parametrize("code", ["Размер", "size 2", "a/b"])
    def test_code_must_be_a_slug(self, catalog_writer, code):
        response = catalog_writer.post(ATTRIBUTES, {"code": code, "name": "Size"}, format="json")
        assert_error(response, 400, "invalid")
