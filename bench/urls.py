"""Omni's URLs and ``/bench/empty/``: what every API request costs before its own work.

The view authenticates the API key, checks a scope and counts the request against the throttle
like every endpoint (the project's defaults), then answers ``{}`` without a query of its own.
"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from omni.core.scopes import Scope
from omni.urls import *  # noqa: F403
from omni.urls import urlpatterns as omni_urlpatterns


class EmptyView(APIView):
    required_scopes = {"GET": Scope.CUSTOMERS_READ}

    def get(self, request):
        return Response({})


urlpatterns = [*omni_urlpatterns, path("bench/empty/", EmptyView.as_view())]
