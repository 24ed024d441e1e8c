"""A tiny API used to test the conventions every endpoint shares."""

import uuid

from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.errors import InsufficientStock
from omni.core.api.idempotency import idempotent
from omni.core.models import NumberSequence
from omni.core.scopes import Scope


class EchoSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class ScopedView(APIView):
    required_scopes = {"GET": Scope.CATALOG_READ, "POST": Scope.STOCK_WRITE}
    staff_permissions = {"POST": "inventory.receive_stock"}

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["quantity"] > 10:
            raise InsufficientStock(details={"skus": ["A"]})
        return Response(serializer.validated_data)


class IdempotentView(APIView):
    """Creates a row each time it runs: a side effect a retry must not repeat."""

    required_scopes = {"POST": Scope.STOCK_WRITE}

    def post(self, request):
        def create():
            if request.data.get("fail"):
                raise InsufficientStock(details={"skus": ["A"]})
            row = NumberSequence.objects.create(name=f"idempotency-test-{uuid.uuid4()}")
            return Response({"number": row.name, "note": request.data.get("note")}, status=201)

        return idempotent(request, create)


class UnscopedView(APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/scoped/", ScopedView.as_view()),
    path("api/v1/unscoped/", UnscopedView.as_view()),
    path("api/v1/idempotent/", IdempotentView.as_view()),
    path("", include("omni.urls")),
]
handler404 = "omni.urls.handler404"
