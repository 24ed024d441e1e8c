from django.urls import path

from omni.webhooks.api import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.SubscriptionListView.as_view(), name="subscription-list"),
    path("webhooks/<int:id>/", views.SubscriptionDetailView.as_view(), name="subscription-detail"),
    path("webhooks/<int:id>/ping/", views.SubscriptionPingView.as_view(), name="subscription-ping"),
    path("webhooks/<int:id>/deliveries/", views.DeliveryListView.as_view(), name="subscription-deliveries"),
]
