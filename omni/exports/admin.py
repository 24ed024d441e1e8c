"""Export buttons on the admin change lists: CSV and XLSX of exactly the rows the list shows.

``ListExportMixin`` goes on the ModelAdmin of each list that ``omni.exports.kinds.LISTS`` names
(``admin_model``). It is django-import-export's ``ExportMixin``, whose ``get_export_queryset`` builds
the rows from the change list's filters, search and ``get_queryset`` (so the user's locations), with
the library's export page replaced by one link per format on the change list. A small export
downloads at once; a large one becomes an export job (``omni.exports.services``) and the user is
taken to its progress page. Who may export is ``kinds.can_export``, checked again when the job runs.
"""

from django.contrib import messages
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext
from import_export.admin import ExportMixin

from omni.errors import DomainError
from omni.exports import kinds, lists
from omni.exports.services import CONTENT_TYPES, ExportRefused, list_export_start
from omni.models import ExportFormat


class ListExportMixin(ExportMixin):
    """Export the change list, as it is filtered and searched, to CSV or XLSX."""

    import_export_change_list_template = "admin/exports/change_list.html"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        kind = kinds.list_of_admin_model(self.opts.label_lower)
        if kind is None or kind.at is None:
            errors.append(
                checks.Error(
                    "A list of omni.exports.kinds.LISTS must name this admin's model (admin_model) and "
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
            raise ImproperlyConfigured(f"No list of omni.exports.kinds.LISTS is exported from {self.opts.label}.")
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
        return [export, *(url for url in super().get_urls() if getattr(url, "name", None) != library_page)]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "list_export_formats": ExportFormat.choices})

    def list_export_view(self, request, file_format: str):
        """The change list's rows under the query string's filters: the file, or the job's progress page."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        what = self.list_export
        try:
            content, job = list_export_start(
                user=request.user, what=what, query=request.GET.urlencode(), file_format=file_format
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
        return redirect("admin:omni_exportjob_progress", job.pk)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
