"""What the inventory admin tests share: the roles, URLs, messages, and a small world of two
stores and a warehouse built through the services."""

from django.contrib.messages import get_messages
from django.urls import reverse

from inventory import services
from inventory.models import Stock
from inventory.selectors import stock_discrepancies
from inventory.services import ProductQuantity

STORE_STAFF, STORE_MANAGER, HEAD_OFFICE, ADMINISTRATOR = "Store staff", "Store manager", "Head office", "Administrator"


def receive(location, *pairs, number=""):
    services.stock_receive(location=location, lines=[ProductQuantity(p.pk, q) for p, q in pairs], number=number)


def stock_of(product, location) -> Stock:
    return Stock.objects.get(product=product, location=location)


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:inventory_{model}_{view}", args=args)


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_ledger_matches():
    assert stock_discrepancies() == []
