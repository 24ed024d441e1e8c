"""The managers' dashboard and the export jobs in the Django admin.

The dashboard is at ``/admin/reports/dashboard/`` (listed on the admin index as "Managers'
dashboard"); its tables and the main lists export from there with the dashboard's filters.
Store managers see and export their own stores only (``inventory.selectors.visible_locations``).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omni.core.admin_mixins import ReadOnlyAdminMixin
from omni.core.errors import DomainError
from omni.reports import selectors
from omni.reports.display import table_display
from omni.reports.exports import kinds
from omni.reports.exports.admin import add_list_exports, export_response
from omni.reports.exports.headers import ExportHeaders
from omni.reports.exports.services import CONTENT_TYPES, export_start, file_name
from omni.reports.forms import ReportFilterForm
from omni.reports.models import Dashboard, ExportFormat, ExportJob, ExportStatus


def _can_see_dashboard(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("reports.view_dashboard")


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The dashboard in place of a change list: one page, no rows of its own."""

    def has_view_permission(self, request, obj=None):
        return _can_see_dashboard(request.user)

    def get_model_perms(self, request):
        return {"view": self.has_view_permission(request)}

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("", self.admin_site.admin_view(self.dashboard_view), name="{}_{}_changelist".format(*info)),
            path("export/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info)),
        ]

    def dashboard_view(self, request):
        if not _can_see_dashboard(request.user):
            raise PermissionDenied
        form = ReportFilterForm(request.GET or None, user=request.user)
        filters = form.filters()
        sections, computed_at = selectors.dashboard_cached(filters, refresh=bool(request.GET.get("refresh")))
        sections = {
            key: {**section, "tables": [table_display(table) for table in section["tables"]]}
            for key, section in sections.items()
        }
        query = request.GET.copy()
        query.pop("what", None)
        query.pop("format", None)
        query.pop("headers", None)
        query.pop("refresh", None)
        lists = [(key, kind.label) for key, kind in kinds.LISTS.items() if kinds.can_export(request.user, key)]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Managers' dashboard"),
            "opts": self.opts,
            "form": form,
            "filters": filters,
            "previous": filters.previous(),
            "sections": sections,
            "query": query.urlencode(),
            "can_export": request.user.has_perm("reports.export_reports"),
            "lists": lists,
            "formats": ExportFormat.choices,
            "header_choices": ExportHeaders.choices,
            "scoped": not filters.visible.every,
            "computed_at": computed_at,
            "kept_until": selectors.dashboard_kept_until(computed_at),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reports/dashboard.html", context)

    def export_view(self, request):
        """Export a report table or a list with the dashboard's filters: at once when small, else as a job."""
        what = request.GET.get("what", "")
        file_format = request.GET.get("format", ExportFormat.CSV)
        if not _can_see_dashboard(request.user) or not kinds.can_export(request.user, what):
            raise PermissionDenied
        form = ReportFilterForm(request.GET, user=request.user)
        if not form.is_valid():
            # A store or city the user does not work with is refused, not silently widened.
            raise PermissionDenied
        filters = form.filters()
        try:
            content, job = export_start(
                user=request.user,
                what=what,
                filters=filters,
                file_format=file_format,
                headers=request.GET.get("headers", ExportHeaders.LABELS),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(reverse("admin:reports_dashboard_changelist") + "?" + request.GET.urlencode())
        return export_response(
            self, request, content=content, job=job, file_format=file_format, name=file_name(what, filters, file_format)
        )


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Export jobs: each user sees their own (superusers all), with progress and the file."""

    list_display = ["what_label", "file_format", "status", "progress", "created_at", "finished_at", "download"]
    list_filter = ["status", "file_format"]
    readonly_fields = [
        "user",
        "what",
        "filters",
        "file_format",
        "status",
        "rows_done",
        "rows_total",
        "file",
        "error",
        "created_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        jobs = super().get_queryset(request).select_related("user")
        return jobs if request.user.is_superuser else jobs.filter(user=request.user)

    @admin.display(description=_("what"), ordering="what")
    def what_label(self, obj):
        return kinds.export_label(obj.what)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return format_html(
            '<progress max="100" value="{}"></progress> {} %', obj.progress_percent, obj.progress_percent
        )

    @admin.display(description=_("file"))
    def download(self, obj):
        if obj.status == ExportStatus.DONE and obj.file:
            return format_html(
                '<a href="{}">{}</a>', reverse("admin:reports_exportjob_download", args=[obj.pk]), _("download")
            )
        if obj.status == ExportStatus.FAILED:
            return obj.error
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:reports_exportjob_progress", args=[obj.pk]), _("progress")
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="{}_{}_progress".format(*info),
            ),
            path("<int:pk>/status/", self.admin_site.admin_view(self.status_view), name="{}_{}_status".format(*info)),
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="{}_{}_download".format(*info),
            ),
            *super().get_urls(),
        ]

    def _job(self, request, pk: int) -> ExportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None:
            raise Http404
        return job

    def progress_view(self, request, pk: int):
        job = self._job(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Export %(what)s") % {"what": kinds.export_label(job.what)},
            "opts": self.opts,
            "job": job,
            "status_url": reverse("admin:reports_exportjob_status", args=[job.pk]),
            "download_url": reverse("admin:reports_exportjob_download", args=[job.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reports/export_progress.html", context)

    def status_view(self, request, pk: int):
        job = self._job(request, pk)
        return JsonResponse(job_status(job))

    def download_view(self, request, pk: int):
        job = self._job(request, pk)
        if job.status != ExportStatus.DONE or not job.file:
            raise Http404
        name = job.file.name.rsplit("/", 1)[-1]
        return FileResponse(
            job.file.open("rb"), as_attachment=True, filename=name, content_type=CONTENT_TYPES[job.file_format]
        )


def job_status(job: ExportJob) -> dict:
    """What the progress page polls."""
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(ExportStatus(job.status).label),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.progress_percent,
        "error": job.error,
        "download_url": reverse("admin:reports_exportjob_download", args=[job.pk])
        if job.status == ExportStatus.DONE
        else "",
    }


# The apps' admins are registered by now (this app comes after them in INSTALLED_APPS).
add_list_exports(admin.site)
