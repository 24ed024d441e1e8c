from django.urls import include, path

from omni.api.health import HealthView
from omni.reports.api import OrdersCsvView

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("reports/orders.csv", OrdersCsvView.as_view(), name="reports-orders-csv"),
    path("", include("inventory.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("loyalty.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("omni.webhooks.api.urls")),
    path("", include("omni.marketing.api.urls")),
]
