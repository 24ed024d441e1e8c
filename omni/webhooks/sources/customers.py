"""customer.created, customer.updated and customer.merged, from ``customers.hooks``.

The data is the customer as ``GET /api/v1/customers/{id}/`` shows it (``CustomerSerializer``);
customer.merged adds the merged customer's id (``old_id``) and the survivor's (``new_id``).
"""

from customers import hooks, selectors
from customers.api.serializers import CustomerSerializer
from customers.models import Customer
from omni.core.api.serializers import represent
from omni.webhooks.sources import recording


def customer_data(customer: Customer) -> dict:
    return represent(CustomerSerializer, selectors.customers_with_identities().get(pk=customer.pk))


def _record(event_type: str, customer: Customer, data: dict) -> None:
    recording.record(event_type=event_type, object_type="customer", object_id=str(customer.pk), data=data)


def customer_created(customer: Customer) -> None:
    if recording.wanted("customer.created"):
        _record("customer.created", customer, customer_data(customer))


def customer_updated(customer: Customer) -> None:
    if recording.wanted("customer.updated"):
        _record("customer.updated", customer, customer_data(customer))


def customer_merged(old_id: int, customer: Customer) -> None:
    if recording.wanted("customer.merged"):
        data = {"old_id": old_id, "new_id": customer.pk, "customer": customer_data(customer)}
        _record("customer.merged", customer, data)


def connect() -> None:
    hooks.register_customer_created(customer_created)
    hooks.register_customer_updated(customer_updated)
    hooks.register_customer_merged(customer_merged)
