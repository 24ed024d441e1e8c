from django.urls import path

from omni.marketing import nps_views, views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="marketing-unsubscribe"),
    path("nps/<str:token>/", nps_views.nps, name="marketing-nps"),
]
