"""What every store desk shares: finding a product or a customer as the cashier types, and the
panel of the customer at the counter. The endpoints answer with HTML fragments for htmx."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from customers.models import Customer
from orders import selectors


class DeskCommonMixin:
    """The desks' shared endpoints, part of ``OrderAdmin``."""

    def desk_common_urls(self):
        view = self.admin_site.admin_view
        return [
            path("desk/products/", view(self.desk_products_view), name="orders_order_desk_products"),
            path("desk/customers/", view(self.desk_customers_view), name="orders_order_desk_customers"),
            path("desk/customer/", view(self.desk_customer_panel_view), name="orders_order_desk_customer_panel"),
        ]

    def _check_desk_user(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def desk_products_view(self, request):
        self._check_desk_user(request)
        query = request.GET.get("q", "")[:100]
        products = selectors.desk_products(query, self.user_location_ids(request))
        return TemplateResponse(
            request, "admin/orders/desk/product_results.html", {"products": products, "query": query}
        )

    def desk_customers_view(self, request):
        self._check_desk_user(request)
        query = request.GET.get("q", "")[:100]
        customers = selectors.desk_customers(query)
        return TemplateResponse(
            request, "admin/orders/desk/customer_results.html", {"customers": customers, "query": query}
        )

    def desk_customer_panel_view(self, request):
        self._check_desk_user(request)
        customer_id = request.GET.get("customer", "")
        customer = (
            Customer.objects.active().filter(pk=int(customer_id)).first()
            if customer_id.isascii() and customer_id.isdigit() and len(customer_id) < 12
            else None
        )
        return TemplateResponse(
            request, "admin/orders/desk/customer_panel.html", {"panel": selectors.customer_panel(customer)}
        )
