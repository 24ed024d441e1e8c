from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from omni.core.api import sync


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages from 1: ``?page=0`` or ``?page=x`` is invalid input (400); a page past the last is 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and not (raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: [_("A page number is a whole number from 1.")]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class SyncPagination(PageNumberPagination):
    """Pages as ``PageNumberPagination``, or, when the request names ``updated_since`` or ``cursor``,
    the rows changed since, in (change time, id) order, with a cursor to resume from.

    The view names the change time's field in ``sync_field`` (default ``updated_at``). The answer
    stops at ``until`` (now less ``SYNC_SAFETY_WINDOW_SECONDS``): see ``omni.core.api.sync``.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.sync_mode = sync.is_sync_request(request)
        if not self.sync_mode:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        position = sync.start_position(request)
        self.until = sync.sync_until()
        size = self.get_page_size(request)
        field = getattr(view, "sync_field", "updated_at")
        rows = list(sync.rows_after(queryset, position, field=field, until=self.until)[: size + 1])
        self.has_more = len(rows) > size
        rows = rows[:size]
        if rows:
            last = rows[-1]
            position = sync.SyncPosition(changed_at=getattr(last, field), pk=last.pk)
        self.position = position
        return rows

    def get_paginated_response(self, data):
        if not self.sync_mode:
            return super().get_paginated_response(data)
        cursor = self.position.encode()
        url = self.request.build_absolute_uri()
        url = remove_query_param(remove_query_param(url, sync.UPDATED_SINCE), self.page_query_param)
        return Response(
            {
                "cursor": cursor,
                "next": replace_query_param(url, sync.CURSOR, cursor) if self.has_more else None,
                "has_more": self.has_more,
                "until": self.until.isoformat(),
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": sync.UPDATED_SINCE,
                "required": False,
                "in": "query",
                "description": (
                    "Incremental sync: the rows changed at or after this time (ISO 8601), oldest change first, "
                    "deactivated, cancelled and merged ones included; the answer carries a `cursor` to resume "
                    "from instead of page numbers."
                ),
                "schema": {"type": "string", "format": "date-time"},
            },
            {
                "name": sync.CURSOR,
                "required": False,
                "in": "query",
                "description": (
                    "Incremental sync: resume after the last row of an earlier answer (its `cursor`). "
                    "Not with `updated_since`."
                ),
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema):
        pages = super().get_paginated_response_schema(schema)
        changes = {
            "type": "object",
            "required": ["cursor", "next", "has_more", "until", "results"],
            "properties": {
                "cursor": {"type": "string", "description": "Send it as `cursor` to get the rows changed after."},
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page of changes now; null when there are no more yet.",
                },
                "has_more": {"type": "boolean"},
                "until": {
                    "type": "string",
                    "format": "date-time",
                    "description": "The answer holds changes up to this time (now less the safety window).",
                },
                "results": schema,
            },
        }
        return {"anyOf": [pages, changes]}
