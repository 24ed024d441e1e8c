from django.urls import path

from inventory.api import catalogue, views

app_name = "inventory"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    # <str:...> takes any SKU without a slash, dots and dashes included.
    path("products/<str:sku>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("product-models/", catalogue.ProductModelListView.as_view(), name="product-model-list"),
    path("product-models/<str:model_code>/", catalogue.ProductModelDetailView.as_view(), name="product-model-detail"),
    path("attributes/", catalogue.AttributeListView.as_view(), name="attribute-list"),
    path("locations/", views.LocationListView.as_view(), name="location-list"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    path("stock/receipts/", views.StockReceiptView.as_view(), name="stock-receipt-list"),
    path("stock/counts/", views.StockCountView.as_view(), name="stock-count-list"),
]
