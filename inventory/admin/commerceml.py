"""The admin page that imports a 1C exchange (CommerceML import.xml and offers.xml), all or nothing,
through ``inventory.commerceml``. Head office only: offers count stock at every warehouse they name."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory.commerceml.load import import_commerceml
from inventory.commerceml.parse import CommerceMLError, read_import, read_offers
from inventory.models import Location
from inventory.selectors import user_sees_all_locations
from omni.core.actors import Actor

PERMISSIONS = ("inventory.add_product", "inventory.change_product", "inventory.count_stock")


class CommerceMLForm(forms.Form):
    import_file = forms.FileField(label=_("import.xml (goods)"), required=False)
    offers_file = forms.FileField(label=_("offers.xml (prices and stock)"), required=False)
    price_type = forms.CharField(
        label=_("Price type Ид"),
        required=False,
        max_length=100,
        help_text=_("Empty: the first price type in the file."),
    )
    location = forms.ModelChoiceField(
        label=_("Location for quantities without a warehouse"),
        queryset=Location.objects.filter(is_active=True),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if not data.get("import_file") and not data.get("offers_file"):
            raise forms.ValidationError(_("Choose import.xml, offers.xml or both."))
        return data


class CommerceMLImportMixin:
    """``commerceml_view`` for ``ProductModelAdmin``, linked from its list."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_commerceml"
        own = [path("commerceml/", self.admin_site.admin_view(self.commerceml_view), name=name)]
        return own + super().get_urls()

    def can_import_commerceml(self, request) -> bool:
        return request.user.has_perms(PERMISSIONS) and user_sees_all_locations(request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.can_import_commerceml(request):
            extra_context["commerceml_url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_commerceml")
        return super().changelist_view(request, extra_context)

    def commerceml_view(self, request):
        if not self.can_import_commerceml(request):
            raise PermissionDenied
        form = CommerceMLForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid() and self.run_commerceml(request, form.cleaned_data):
            return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import from 1C (CommerceML)"),
            "intro": gettext(
                "Groups become categories, goods become product models and variants, offers set prices and count "
                "stock per warehouse. A file with any error imports nothing."
            ),
            "form": form,
            "opts": self.opts,
            "submit_label": gettext("Import"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/inventory/productmodel/commerceml.html", context)

    def run_commerceml(self, request, data) -> bool:
        try:
            summary = import_commerceml(
                catalogue=read_import(data["import_file"]) if data["import_file"] else None,
                package=read_offers(data["offers_file"]) if data["offers_file"] else None,
                price_type=data["price_type"] or None,
                location=data["location"],
                actor=Actor(user=request.user),
            )
        except CommerceMLError as error:
            self.message_user(request, gettext("Nothing was imported."), messages.ERROR)
            for text in error.errors:
                self.message_user(request, text, messages.ERROR)
            return False
        self.message_user(
            request,
            gettext(
                "Imported. Categories: %(categories)d; product models: %(models)d; variants: %(variants)d; "
                "stock counts: %(counts)d."
            )
            % {
                "categories": summary.categories,
                "models": summary.models,
                "variants": summary.variants,
                "counts": summary.stock_documents,
            },
            messages.SUCCESS,
        )
        return True
