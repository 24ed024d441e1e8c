"""The dashboard's filters as a form; the same form reads the filters of an export job again."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inventory.models import Location
from inventory.selectors import visible_locations
from omni.core.channels import SALES_CHANNEL_CHOICES
from omni.core.dates import DateFormField
from omni.reports.filters import Granularity, ReportFilters, default_period


class ReportFilterForm(forms.Form):
    date_from = DateFormField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DateFormField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(
        label=_("channel"), required=False, choices=[("", _("every channel")), *SALES_CHANNEL_CHOICES]
    )
    store = forms.ModelChoiceField(
        label=_("store"),
        required=False,
        queryset=Location.objects.none(),  # the user's visible locations, set in __init__
        empty_label=_("every store"),
        error_messages={"invalid_choice": _("Choose one of the stores you work at.")},
    )
    city = forms.ChoiceField(label=_("city"), required=False)
    granularity = forms.ChoiceField(
        label=_("detail"),
        required=False,
        choices=[
            ("", _("chosen by the period")),
            (Granularity.DAY, _("day")),
            (Granularity.WEEK, _("week")),
            (Granularity.MONTH, _("month")),
        ],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        visible = visible_locations(user)
        self.location_ids = visible.ids
        locations = visible.locations().order_by("code")
        self.fields["store"].queryset = locations
        cities = sorted({city for city in locations.values_list("city", flat=True) if city})
        self.fields["city"].choices = [("", _("every city")), *((city, city) for city in cities)]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def filters(self) -> ReportFilters:
        """The filters chosen, or the default (the last 30 days, everything the user sees)."""
        date_from, date_to = default_period()
        data = self.cleaned_data if self.is_valid() else {}
        store = data.get("store")
        return ReportFilters(
            date_from=data.get("date_from") or (data.get("date_to") and data["date_to"].replace(day=1)) or date_from,
            date_to=data.get("date_to") or date_to,
            channel=data.get("channel") or "",
            store_id=store.pk if store else None,
            city=data.get("city") or "",
            location_ids=self.location_ids,
            granularity=data.get("granularity") or "",
            churn_days=settings.REPORTS_CHURN_DAYS,
        )


def filters_from_query(query: dict, user) -> ReportFilters:
    """The filters of a stored query; a store or city the user no longer sees is refused."""
    form = ReportFilterForm({key: value for key, value in query.items() if value not in (None, "")}, user=user)
    if not form.is_valid():
        from omni.core.errors import InvalidInput

        raise InvalidInput(
            _("The filters are not valid: %(errors)s")
            % {"errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())},
            details={"fields": form.errors},
        )
    return form.filters()
