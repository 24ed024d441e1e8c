"""Export buttons on the admin change lists: CSV and XLSX of exactly the rows the list shows.

``add_list_exports`` puts ``ListExportMixin`` on the ModelAdmin of each list that
``omni.reports.exports.kinds.LISTS`` names (``admin_model``): the apps' admins know nothing of
exports, the reports floor on top of them adds the buttons. The mixin is django-import-export's
``ExportMixin``, whose ``get_export_queryset`` builds the rows from the change list's filters,
search and ``get_queryset`` (so the user's locations), with the library's export page replaced by
one link per format on the change list. A small export downloads at once; a large one becomes an
export job (``omni.reports.exports.services``) and the user is taken to its progress page. Who may
export is ``kinds.can_export``, checked again when the job runs.
"""

from django.apps import apps
from django.contrib import messages
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext, pgettext_lazy
from import_export.admin import ExportMixin

from omni.core.errors import DomainError
from omni.reports.exports import kinds, lists
from omni.reports.exports.headers import ExportHeaders
from omni.reports.exports.services import CONTENT_TYPES, ExportRefused, list_export_start
from omni.reports.models import ExportFormat

# What a change list's export link says: short, beside the page's own tools (the whole name on hover).
SHORT_FORMAT_LABELS = {
    ExportFormat.CSV: "CSV",
    ExportFormat.CSV_EXCEL_RU: pgettext_lazy("export format, short", "Excel (Russia)"),
    ExportFormat.XLSX: "XLSX",
}

# The column names of a change list's export (for people by default; ``names`` for integrations),
# kept apart from the list's own filters.
HEADERS_PARAMETER = "_headers"


def _is_library_page(url, name: str) -> bool:
    # By its route too: the model's own admin may have a page of that name ("<int:pk>/export/").
    return getattr(url, "name", None) == name and str(url.pattern) == "export/"


class ListExportMixin(ExportMixin):
    """Export the change list, as it is filtered and searched, to CSV or XLSX."""

    import_export_change_list_template = "admin/exports/change_list.html"
    # What the export links extend: the admin's own change list (``add_list_exports`` sets it).
    list_export_base_template = "admin/change_list.html"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        kind = kinds.list_of_admin_model(self.opts.label_lower)
        if kind is None or kind.at is None:
            errors.append(
                checks.Error(
                    "A list of omni.reports.exports.kinds.LISTS must name this admin's model (admin_model) and "
                    "limit its rows to the user's locations (at).",
                    obj=self.__class__,
                    id="omni.E002",
                )
            )
        return errors

    @property
    def list_export(self) -> str:
        """What this list's export is called on an export job (``admin:<list key>``)."""
        kind = kinds.list_of_admin_model(self.opts.label_lower)
        if kind is None:
            raise ImproperlyConfigured(
                f"No list of omni.reports.exports.kinds.LISTS is exported from {self.opts.label}."
            )
        return kinds.admin_list(kind.key)

    def has_export_permission(self, request):
        return kinds.can_export(request.user, self.list_export)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        export = path(
            "export/<str:file_format>/",
            self.admin_site.admin_view(self.list_export_view),
            name="{}_{}_export_list".format(*info),
        )
        # The library's export page (choose a format, a resource, fields) gives way to one link per format.
        library_page = "{}_{}_export".format(*info)
        return [export, *(url for url in super().get_urls() if not _is_library_page(url, library_page))]

    def changelist_view(self, request, extra_context=None):
        context = {
            "list_export_formats": [
                (value, label, SHORT_FORMAT_LABELS[value]) for value, label in ExportFormat.choices
            ],
            "list_export_base_template": self.list_export_base_template,
        }
        return super().changelist_view(request, {**(extra_context or {}), **context})

    def list_export_view(self, request, file_format: str):
        """The change list's rows under the query string's filters: the file, or the job's progress page."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        what = self.list_export
        query = request.GET.copy()
        headers = query.pop(HEADERS_PARAMETER, [ExportHeaders.LABELS])[-1]
        try:
            content, job = list_export_start(
                user=request.user, what=what, query=query.urlencode(), file_format=file_format, headers=headers
            )
        except ExportRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return export_response(
            self,
            request,
            content=content,
            job=job,
            file_format=file_format,
            name=lists.list_file_name(what, file_format),
        )


def export_response(model_admin, request, *, content, job, file_format: str, name: str) -> HttpResponse:
    """What an export started from an admin page answers: the file when it was written at once,
    else a message and the page where the job's progress shows."""
    if job is not None:
        model_admin.message_user(
            request,
            gettext("%(rows)d rows: the file is being written; this page shows its progress.")
            % {"rows": job.rows_total},
        )
        return redirect("admin:reports_exportjob_progress", job.pk)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def add_list_exports(site) -> None:
    """Give the change list of every exported list (``kinds.LISTS``, ``admin_model``) its export
    links: its ModelAdmin is registered again with ``ListExportMixin`` in front."""
    for kind in kinds.LISTS.values():
        if not kind.admin_model:
            continue
        model = apps.get_model(kind.admin_model)
        registered = site.get_model_admin(model)
        model_admin = type(registered)
        if issubclass(model_admin, ListExportMixin):
            continue
        site.unregister(model)
        site.register(
            model,
            type(
                model_admin.__name__,
                (ListExportMixin, model_admin),
                {"list_export_base_template": _own_change_list(model_admin)},
            ),
        )
        # The panels other apps added to the registered admin (customers.admin.add_customer_page_inline).
        site.get_model_admin(model).inlines = registered.inlines


def _own_change_list(model_admin) -> str:
    """The change list template the admin draws itself (its links, its import button), which the
    export links extend."""
    own = getattr(model_admin, "import_export_change_list_template", None) or model_admin.change_list_template
    return own or "admin/change_list.html"
