"""``{{ value|phone }}``: a phone as people read it (+7 916 100-00-02), in any template."""

from django import template

from customers.identities import identity_label
from customers.models import IdentityKind

register = template.Library()


@register.filter
def phone(value) -> str:
    return identity_label(IdentityKind.PHONE, value) if value else ""
