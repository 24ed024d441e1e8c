from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from omni.core.api.exceptions import api_bad_request, api_not_found, api_server_error

admin.site.site_header = "Omni"
admin.site.site_title = "Omni"
# Omni has no public site: "View site" led to a 404. Not the dashboard either, which store staff
# may not see; the admin's own title already leads home.
admin.site.site_url = None

urlpatterns = [
    # Bookmarks of the dashboard from before it moved to the reports app (label "reports").
    path(
        "admin/omni/dashboard/",
        RedirectView.as_view(pattern_name="admin:reports_dashboard_changelist", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("omni.api.urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("m/", include("omni.marketing.urls")),
]


def handler400(request, exception):
    if request.path.startswith("/api/"):
        return api_bad_request(request, exception)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler404(request, exception):
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)


if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
