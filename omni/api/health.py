from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from omni.celery import app as celery_app
from omni.core.availability import RETRY_AFTER_SECONDS


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unavailable"
    return "ok"


def broker_status() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not_configured"
    try:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # any transport error means the broker cannot be reached
        return "unavailable"
    return "ok"


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        summary="Service health",
        description="Reports the database and, when one is configured, the Celery broker. "
        "Needs no authentication; answers 503 with `Retry-After` when a component is unavailable.",
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(help_text="`ok` or `unavailable`."),
                    "database": serializers.ChoiceField(["ok", "unavailable"]),
                    "broker": serializers.ChoiceField(["ok", "unavailable", "not_configured"]),
                },
            )
        },
        tags=["health"],
    )
    def get(self, request):
        components = {"database": database_status(), "broker": broker_status()}
        healthy = all(value in {"ok", "not_configured"} for value in components.values())
        if healthy:
            return Response({"status": "ok", **components})
        return Response(
            {"status": "unavailable", **components}, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
