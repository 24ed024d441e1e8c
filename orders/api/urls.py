from django.urls import path

from orders.api import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<str:number>/ready/", views.OrderReadyView.as_view(), name="order-ready"),
    path("orders/<str:number>/accept-partial/", views.OrderAcceptPartialView.as_view(), name="order-accept-partial"),
    path("orders/<str:number>/pack/", views.OrderPackView.as_view(), name="order-pack"),
    path("orders/<str:number>/ship/", views.OrderShipView.as_view(), name="order-ship"),
    path("orders/<str:number>/handover/", views.OrderHandoverView.as_view(), name="order-handover"),
    path("orders/<str:number>/deliver/", views.OrderDeliverView.as_view(), name="order-deliver"),
    path("orders/<str:number>/payments/", views.OrderPaymentView.as_view(), name="order-payments"),
    path("refunds/<int:id>/complete/", views.RefundCompleteView.as_view(), name="refund-complete"),
    path("returns/", views.ReturnCreateView.as_view(), name="return-list"),
    path("returns/<str:ref>/", views.ReturnDetailView.as_view(), name="return-detail"),
]
