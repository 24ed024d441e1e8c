"""The panels other apps add to the customer's page (orders, the loyalty balance); customers never
imports them. Lists go below the form as inlines (``add_customer_page_inline``); boxes of the
summary at the top of the card through ``add_customer_card_panel``."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from customers.models import Customer


class DisplayOnlyFormSet(BaseInlineFormSet):
    """A list another app shows on the customer's page: never bound to what is posted and never
    saved, so the customer's form is saved exactly as it would be without it."""

    def __init__(self, data=None, files=None, *args, **kwargs):
        super().__init__(None, None, *args, **kwargs)

    def is_valid(self):
        return True

    def save(self, commit=True):
        return []


def add_customer_page_inline(inline, *, first: bool = False, site=admin.site) -> None:
    """Show ``inline`` (built on ``DisplayOnlyFormSet``) on the customer's page. Orders and
    loyalty call this from their admin modules; customers never imports them."""
    customer_admin = site._registry.get(Customer)
    if customer_admin is not None and inline not in customer_admin.inlines:
        customer_admin.inlines = [inline, *customer_admin.inlines] if first else [*customer_admin.inlines, inline]


@dataclass(frozen=True)
class CardPanel:
    """A box of the summary at the top of the customer's card. ``render(request, customer)``
    returns its HTML (made safe with ``format_html`` or ``render_to_string``; a plain string is
    escaped), or "" when the staff member may not see it or there is nothing to show."""

    key: str
    title: object
    render: Callable[[HttpRequest, Customer], str]
    order: int = 50
    wide: bool = False


_card_panels: dict[str, CardPanel] = {}


def add_customer_card_panel(
    key: str, title, render: Callable[[HttpRequest, Customer], str], *, order: int = 50, wide: bool = False
) -> None:
    """Show a box in the summary of the customer's card (loyalty: the balance, orders: the last
    orders). Boxes come in ``order``; a ``wide`` one takes the whole width. Registering a key again
    replaces its box."""
    _card_panels[key] = CardPanel(key, title, render, order, wide)


def customer_card_panels(request: HttpRequest, customer: Customer) -> list[dict]:
    """The registered boxes with something to show this staff member, in their order."""
    shown = []
    for panel in sorted(_card_panels.values(), key=lambda p: (p.order, p.key)):
        html = panel.render(request, customer)
        if html:
            shown.append({"key": panel.key, "title": panel.title, "html": html, "wide": panel.wide})
    return shown
