"""The pieces the inventory screens share, and orders' and returns' screens reuse: an admin limited to
the user's locations, its list filter, and all-or-nothing imports."""

from django.contrib import admin, messages
from django.core import checks
from django.shortcuts import redirect
from django.utils.translation import gettext
from import_export.formats.base_formats import CSV, XLSX

from inventory.models import Location
from inventory.resources import SpreadsheetCSV, import_error_messages
from inventory.selectors import filter_for_user_locations, locations_for_user, visible_locations


class UserLocationFilter(admin.RelatedFieldListFilter):
    """A filter on a location field that offers only the locations the user works at."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": locations_for_user(request.user)},
            ordering=ordering,
        )


class LocationScopedAdminMixin:
    """Limit an admin to the locations the user works at (``locations_for_user``).

    ``location_lookups`` names the paths from the model to a location: ``("location",)`` for
    stock, ``("source", "destination")`` for transfers. A row is visible when any of them is
    one of the user's locations, so another location's change page answers "does not exist".
    Head office and superusers see every row. Foreign keys to ``Location`` offer only the
    user's locations; use ``UserLocationFilter`` for location list filters.
    """

    location_lookups: tuple[str, ...] = ()

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not self.location_lookups:
            errors.append(
                checks.Error(
                    "location_lookups must name at least one path to a location.",
                    obj=self.__class__,
                    id="inventory.E001",
                )
            )
        return errors

    def get_queryset(self, request):
        return filter_for_user_locations(super().get_queryset(request), request.user, self.location_lookups)

    def user_locations(self, request):
        return locations_for_user(request.user)

    def user_location_ids(self, request) -> frozenset[int] | None:
        """The ids of the user's locations, or None when the user works with every location."""
        return visible_locations(request.user).ids

    def works_at(self, request, location_id: int) -> bool:
        return visible_locations(request.user).includes(location_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Location and "queryset" not in kwargs:
            kwargs["queryset"] = self.user_locations(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is Location and "queryset" not in kwargs:
            kwargs["queryset"] = self.user_locations(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ServiceImportAdminMixin:
    """django-import-export screens whose imports are all or nothing (``inventory.resources``).

    The library's confirm step reports "Import finished" whatever the result; here a result with
    any error shows each error and "Nothing was imported" instead.
    """

    import_formats = [SpreadsheetCSV, XLSX]
    export_formats = [CSV, XLSX]
    import_template_name = "admin/inventory/import.html"

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            for text in import_error_messages(result):
                self.message_user(request, text, messages.ERROR)
            self.message_user(request, gettext("Nothing was imported."), messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
        return super().process_result(result, request)
