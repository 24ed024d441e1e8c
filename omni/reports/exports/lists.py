"""Exports of the admin change lists (orders with their lines, returns with their lines, customers,
stock, the stock ledger, the points ledger), with what the list shows: its filters, its search, its
date hierarchy, and the user's locations.

The ModelAdmin builds the rows from the list's query string, for the user who exports, with
django-import-export's ``ExportMixin.get_export_queryset`` (the change list's own queryset, which
starts from the admin's ``get_queryset``). An export job stores that query string and, when it
runs, rebuilds the same rows for the same user the same way. ``kinds.ExportKind`` says which admin
list exports which list (``admin_model``), turns the list's rows into the file's (``from_list``: an
order into its lines) and limits them once more to the user's locations (``at``), as the dashboard's
export of that list does: the customers and points ledger screens show every store's rows, their
exports do not.
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, ImproperlyConfigured, SuspiciousOperation, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.admin import ExportMixin

from inventory.selectors import visible_locations
from omni.core.errors import InvalidInput
from omni.reports.exports import kinds


def list_kind(what: str) -> kinds.ExportKind:
    """The list that ``admin:<key>`` exports."""
    kind = kinds.LISTS.get(what.removeprefix(kinds.ADMIN_LIST_PREFIX)) if kinds.is_admin_list(what) else None
    if kind is None or not kind.admin_model:
        raise InvalidInput.for_field("what", _("There is no such export."))
    return kind


def list_model_admin(kind: kinds.ExportKind, site: admin.AdminSite = admin.site):
    """The ModelAdmin whose change list exports ``kind``."""
    model_admin = site.get_model_admin(apps.get_model(kind.admin_model))
    if not isinstance(model_admin, ExportMixin) or kind.at is None:
        raise ImproperlyConfigured(f"The admin of {kind.admin_model} does not export the list {kind.key!r}.")
    return model_admin


def changelist_request(model_admin, *, user, query: str) -> HttpRequest:
    """A GET of the change list with ``query`` by ``user``: what the ModelAdmin builds its rows from."""
    request = HttpRequest()
    request.method = "GET"
    opts = model_admin.opts
    request.path = request.path_info = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    request.GET = QueryDict(query)
    request.user = user
    return request


def list_rows(kind: kinds.ExportKind, model_admin, request) -> QuerySet:
    """The rows of the file: those of the change list under its filters and search, at the user's
    locations. Filters the list refuses are refused here with a clear message."""
    search = model_admin.get_changelist(request).search_form_class(request.GET)
    if not search.is_valid():
        # The change list would drop the search with a message; an export must not widen silently.
        raise _invalid_query("; ".join(" ".join(errors) for errors in search.errors.values()))
    try:
        shown = model_admin.get_export_queryset(request)
    except (IncorrectLookupParameters, SuspiciousOperation, ValidationError, FieldError, ValueError) as exc:
        raise _invalid_query(str(exc)) from exc
    rows = kind.from_list(shown)
    visible = visible_locations(request.user)
    if not visible.every:
        rows = kind.at(rows, kinds.in_locations(visible.ids))
    return rows


def list_source(*, user, what: str, query: str):
    """(resource, rows) of the export of an admin change list, shown to ``user`` with ``query``."""
    kind = list_kind(what)
    model_admin = list_model_admin(kind)
    rows = list_rows(kind, model_admin, changelist_request(model_admin, user=user, query=query))
    resource = kind.resource()
    return resource, resource.filter_export(rows)


def list_file_name(what: str, file_format: str) -> str:
    return f"{list_kind(what).key}-{timezone.localdate():%Y%m%d}.{file_format}"


def _invalid_query(error: str) -> InvalidInput:
    error = error.split(" Choices are:", 1)[0][:300]  # the model's every field name does not help the user
    return InvalidInput.for_field(
        "query", _("The list's filters are not valid (%(error)s): nothing was exported.") % {"error": error}
    )
