from django.urls import path

from inventory.api import catalogue, categories, locations, transfers, views

app_name = "inventory"

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    # <str:...> takes any SKU without a slash, dots and dashes included.
    path("products/<str:sku>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("categories/", categories.CategoryListView.as_view(), name="category-list"),
    path("categories/<str:code>/", categories.CategoryDetailView.as_view(), name="category-detail"),
    path(
        "categories/<str:code>/deactivate/",
        categories.CategoryDeactivateView.as_view(),
        name="category-deactivate",
    ),
    path("locations/", locations.LocationListCreateView.as_view(), name="location-list"),
    path("locations/<str:code>/", locations.LocationDetailView.as_view(), name="location-detail"),
    path("locations/<str:code>/deactivate/", locations.LocationDeactivateView.as_view(), name="location-deactivate"),
    path("product-models/", catalogue.ProductModelListView.as_view(), name="product-model-list"),
    path("product-models/<str:model_code>/", catalogue.ProductModelDetailView.as_view(), name="product-model-detail"),
    path("attributes/", catalogue.AttributeListView.as_view(), name="attribute-list"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    path("availability/changes/", views.AvailabilityChangesView.as_view(), name="availability-changes"),
    path("stock/receipts/", views.StockReceiptView.as_view(), name="stock-receipt-list"),
    path("stock/counts/", views.StockCountView.as_view(), name="stock-count-list"),
    path("transfers/", transfers.TransferListView.as_view(), name="transfer-list"),
    path("transfers/<str:number>/", transfers.TransferDetailView.as_view(), name="transfer-detail"),
    path("transfers/<str:number>/ship/", transfers.TransferShipView.as_view(), name="transfer-ship"),
    path("transfers/<str:number>/decline/", transfers.TransferDeclineView.as_view(), name="transfer-decline"),
    path("transfers/<str:number>/receive/", transfers.TransferReceiveView.as_view(), name="transfer-receive"),
    path("transfers/<str:number>/cancel/", transfers.TransferCancelView.as_view(), name="transfer-cancel"),
]
