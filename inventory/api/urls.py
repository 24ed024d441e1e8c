from django.urls import path

from inventory.api import views

app_name = "inventory"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    # <str:...> takes any SKU without a slash, dots and dashes included.
    path("products/<str:sku>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("locations/", views.LocationListView.as_view(), name="location-list"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    path("availability/changes/", views.AvailabilityChangesView.as_view(), name="availability-changes"),
    path("stock/receipts/", views.StockReceiptView.as_view(), name="stock-receipt-list"),
    path("stock/counts/", views.StockCountView.as_view(), name="stock-count-list"),
]
