"""The count screen: a preview of each product's difference, then the posting of what was previewed."""

import pytest

from inventory import services
from inventory.models import StockDocument, StockMovement
from inventory.services import Cause, StockLine
from tests.inventory.admin_support import STORE_MANAGER, admin_url, assert_ledger_matches, message_texts, stock_of

pytestmark = pytest.mark.django_db


class TestCountScreen:
    def test_count_preview_shows_differences_and_changes_nothing(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        movements = StockMovement.objects.count()

        response = client.post(
            admin_url("stock", "count"), {"location": world["a"].pk, "number": "C-1", "lines": "ONLY-A 12\nSHARED 1"}
        )

        assert response.status_code == 200
        assert StockMovement.objects.count() == movements
        preview = {
            line.product.sku: (line.on_hand, line.counted, line.difference) for line in response.context["preview"]
        }
        assert preview == {"ONLY-A": (10, 12, 2), "SHARED": (4, 1, -3)}
        page = response.content.decode()
        assert "+2" in page and "−3" in page
        assert 'name="_post"' in page
        assert "0 other products in stock at store-a are not on this count" in page

    def test_count_preview_says_which_products_are_left_alone(self, client, login, world):
        login(STORE_MANAGER, world["a"])

        response = client.post(admin_url("stock", "count"), {"location": world["a"].pk, "lines": "SHARED 4"})

        assert "1 other product in stock at store-a is not on this count and keeps its quantity." in (
            response.content.decode()
        )
        assert "1 product as counted" in response.content.decode()

    def test_count_posted_after_its_preview_sets_on_hand(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        data = {"location": world["a"].pk, "number": "C-1", "lines": "ONLY-A 3\nSHARED 0"}
        preview = client.post(admin_url("stock", "count"), data)

        response = client.post(admin_url("stock", "count"), {**data, "shown": preview.context["shown"], "_post": "1"})

        assert response.status_code == 302
        assert stock_of(world["only_a"], world["a"]).on_hand == 3
        assert stock_of(world["shared"], world["a"]).on_hand == 0
        assert StockDocument.objects.get(kind="count").number == "C-1"
        assert_ledger_matches()

    def test_stock_changed_since_the_preview_refuses_and_previews_again(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        data = {"location": world["a"].pk, "lines": "ONLY-A 8"}
        preview = client.post(admin_url("stock", "count"), data)
        services.stock_sell(lines=[StockLine(world["only_a"].pk, world["a"].pk, 1)], cause=Cause("order", "S-1"))

        response = client.post(admin_url("stock", "count"), {**data, "shown": preview.context["shown"], "_post": "1"})

        assert response.status_code == 200
        assert "ONLY-A at store-a: the preview showed 10 on hand, now 9." in message_texts(response)
        assert stock_of(world["only_a"], world["a"]).on_hand == 9
        assert not StockDocument.objects.filter(kind="count").exists()
        assert [(line.on_hand, line.difference) for line in response.context["preview"]] == [(9, -1)]

    def test_lines_changed_since_the_preview_are_previewed_not_posted(self, client, login, world):
        login(STORE_MANAGER, world["a"])
        preview = client.post(admin_url("stock", "count"), {"location": world["a"].pk, "lines": "ONLY-A 8"})

        response = client.post(
            admin_url("stock", "count"),
            {"location": world["a"].pk, "lines": "ONLY-A 8\nSHARED 1", "shown": preview.context["shown"], "_post": "1"},
        )

        assert response.status_code == 200
        assert any("changed since the preview" in text for text in message_texts(response))
        assert not StockDocument.objects.filter(kind="count").exists()
        for forged in ("", "garbage", f"{world['b'].pk}|{world['only_a'].pk}:10"):
            client.post(
                admin_url("stock", "count"),
                {"location": world["a"].pk, "lines": "ONLY-A 8", "shown": forged, "_post": "1"},
            )
        assert not StockDocument.objects.filter(kind="count").exists()

    def test_count_below_reserved_is_refused_with_the_services_message(self, client, login, world):
        services.stock_reserve(lines=[StockLine(world["only_a"].pk, world["a"].pk, 4)], cause=Cause("order", "W-1"))
        login(STORE_MANAGER, world["a"])
        data = {"location": world["a"].pk, "lines": "ONLY-A 2"}
        preview = client.post(admin_url("stock", "count"), data)
        assert 'name="_post"' not in preview.content.decode()
        assert "counted below reserved" in preview.content.decode()

        response = client.post(admin_url("stock", "count"), {**data, "shown": preview.context["shown"], "_post": "1"})

        assert response.status_code == 200
        texts = message_texts(response)
        assert any("below what is reserved" in text for text in texts)
        assert "ONLY-A at store-a: counted 2, but 4 are reserved for orders." in texts
        assert stock_of(world["only_a"], world["a"]).on_hand == 10
        assert not StockDocument.objects.filter(kind="count").exists()
