from django.urls import include, path

from omni.api.health import HealthView

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("", include("inventory.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("loyalty.api.urls")),
    path("", include("orders.api.urls")),
]
