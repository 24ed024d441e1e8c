from django.urls import path

from omni.marketing import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="marketing-unsubscribe"),
]
