"""The customer's page: find a customer, see everything about them, register them in a store,
record their consents, export or erase their personal data."""

import contextlib
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers import personal_data, segments, selectors, services
from customers.admin.card import card_context
from customers.errors import InvalidIdentity
from customers.identities import identity_label
from customers.models import (
    Case,
    CaseStatus,
    ConsentPurpose,
    ContactChannel,
    Customer,
    Gender,
    Identity,
    Segment,
)
from customers.services import PROFILE_FIELDS, ConsentChange, IdentityInput
from inventory.selectors import locations_for_user
from omni.core.actors import Actor
from omni.core.admin_mixins import ChangeHistoryAdminMixin, render_form_page
from omni.core.channels import Channel
from omni.core.errors import DomainError


def customer_link(customer: Customer | None):
    """A link to the customer's page, or a dash."""
    if customer is None:
        return "—"
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, str(customer))


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("active")), ("merged", _("merged")), ("anonymised", _("anonymised"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "merged":
            return queryset.filter(merged_into__isnull=False)
        if self.value() == "anonymised":
            return queryset.filter(anonymised_at__isnull=False)
        return queryset


class SegmentFilter(admin.SimpleListFilter):
    title = _("segment")
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        segment = Segment.objects.filter(pk=self.value()).first()
        if segment is None:
            return queryset.none()
        return queryset.filter(pk__in=segments.segment_members(segment).values("pk"))


class IdentityInline(admin.TabularInline):
    """Shown, not edited: identities are normalised and checked by ``customers.services``."""

    model = Identity
    fields = ["kind", "system", "value", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("identities")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


TAGS_HELP = _("Separated by commas: sizes, favourite categories, price range, for example size:M, likes:shoes.")


class TagsField(forms.CharField):
    """Preferences typed as "size:M, likes:shoes" (a JSON list is accepted too)."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(tag) for tag in value)
        if isinstance(value, str) and value.startswith("["):
            with contextlib.suppress(ValueError):
                return self.prepare_value(json.loads(value))
        return value

    def to_python(self, value):
        text = super().to_python(value).strip()
        if text.startswith("["):
            try:
                tags = json.loads(text)
            except ValueError:
                raise forms.ValidationError(
                    _("Write the preferences separated by commas, for example size:M, likes:shoes.")
                )
            if not isinstance(tags, list):
                raise forms.ValidationError(
                    _("Write the preferences separated by commas, for example size:M, likes:shoes.")
                )
            return [str(tag).strip() for tag in tags if str(tag).strip()]
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class CustomerForm(forms.ModelForm):
    tags = TagsField(
        label=_("Preferences"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=TAGS_HELP,
    )

    class Meta:
        model = Customer
        fields = list(PROFILE_FIELDS)


@admin.register(Customer)
class CustomerAdmin(ChangeHistoryAdminMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ["id", "full_name", "contacts", "city", "preferred_store", "created_channel", "created_at"]
    list_filter = [StatusFilter, SegmentFilter, "created_channel", "preferred_channel"]
    search_fields = ["last_name"]  # replaced by get_search_results: phone in any form, e-mail, card, name
    search_help_text = _(
        "A phone in any form or its last 4 or more digits, an e-mail, a card number or its end, a customer number "
        "or a name."
    )
    list_select_related = ["preferred_store"]
    inlines = [IdentityInline]
    readonly_fields = [
        "merged_into_link",
        "anonymised_at",
        "created_channel",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            _("Profile"),
            {
                "fields": [
                    ("last_name", "first_name", "middle_name"),
                    ("birthday", "gender"),
                    ("city", "preferred_store"),
                    ("preferred_channel", "preferred_payment_method"),
                    ("language", "time_zone"),
                    "tags",
                    "notes",
                ]
            },
        ),
        (
            _("Acquisition"),
            {
                "classes": ["collapse"],
                "fields": [
                    "created_channel",
                    "acquisition_channel",
                    "acquisition_campaign",
                    ("utm_source", "utm_medium", "utm_campaign"),
                    ("created_at", "updated_at"),
                ],
            },
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("identities", queryset=Identity.objects.order_by("kind", "id")))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and (obj.is_merged or obj.is_anonymised):
            return [(None, {"fields": ["merged_into_link", "anonymised_at"]}), *fieldsets]
        return fieldsets

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.customer_search(search_term)), False

    def has_delete_permission(self, request, obj=None):
        return False  # personal data is erased by anonymisation, which keeps the records

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and (obj.is_merged or obj.is_anonymised):
            return [*fields, *PROFILE_FIELDS]
        return fields

    @admin.display(description=_("contacts"))
    def contacts(self, obj):
        return ", ".join(identity_label(i.kind, i.value) for i in obj.identities.all() if i.kind in ("phone", "email"))

    @admin.display(description=pgettext_lazy("person", "name"))
    def full_name(self, obj):
        return obj.full_name or "—"

    @admin.display(description=_("merged into"))
    def merged_into_link(self, obj):
        return customer_link(obj.merged_into) if obj.merged_into_id else "—"

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in PROFILE_FIELDS}
        try:
            services.customer_update(customer=obj, data=data, actor=Actor(user=request.user))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass  # identities are read-only here

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)

    # Adding goes through the store registration form, with the customer's consents.
    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:customers_customer_register"))

    def get_urls(self):
        urls = [
            path("register/", self.admin_site.admin_view(self.register_view), name="customers_customer_register"),
            path(
                "<int:pk>/anonymise/",
                self.admin_site.admin_view(self.anonymise_view),
                name="customers_customer_anonymise",
            ),
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="customers_customer_export"),
            path(
                "<int:pk>/consents/",
                self.admin_site.admin_view(self.consents_view),
                name="customers_customer_consents",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        open_cases = (
            selectors.cases_for_user(request.user)
            .filter(customer_id=object_id)
            .exclude(status=CaseStatus.RESOLVED)
            .order_by("-created_at")
            if str(object_id).isdigit()
            else Case.objects.none()
        )
        customer = self.get_object(request, object_id) if str(object_id).isdigit() else None
        card = card_context(request, customer, open_cases) if customer is not None else {}
        extra_context = {
            **(extra_context or {}),
            **card,
            **({"title": str(customer), "subtitle": None} if customer is not None else {}),
            "open_cases": open_cases,
            "can_anonymise": request.user.has_perm("customers.anonymise_customer"),
            "can_export": request.user.has_perm("customers.export_customer_data"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def register_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        stores = locations_for_user(request.user).filter(kind="store", is_active=True)
        form = RegistrationForm(request.POST or None, stores=stores)
        if request.method == "POST" and form.is_valid():
            try:
                result = services.customer_register(
                    identities=form.identities(),
                    profile=form.profile(),
                    consents=form.consents(),
                    store=form.cleaned_data["store"],
                    actor=Actor(user=request.user),
                )
            except InvalidIdentity as exc:
                form.add_error(exc.details["field"] if exc.details["field"] in form.fields else None, exc.message)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                customer = result.customer
                if result.created:
                    text = gettext("Customer %(customer)s registered.") % {"customer": customer}
                else:
                    text = gettext("This customer was already known: %(customer)s. New details were added.") % {
                        "customer": customer
                    }
                self.message_user(request, text, messages.SUCCESS)
                if result.conflicts:
                    self.message_user(
                        request,
                        gettext("Known values were kept for: %(fields)s.") % {"fields": ", ".join(result.conflicts)},
                        messages.WARNING,
                    )
                return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))
        return render_form_page(
            self,
            request,
            form=form,
            title=gettext("Register a customer"),
            submit_label=gettext("Register"),
            intro=gettext(
                "Give at least a phone, an e-mail or a card number. A customer who is already known is found, "
                "not created again."
            ),
        )

    def anonymise_view(self, request, pk: int):
        if not request.user.has_perm("customers.anonymise_customer"):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=pk)
        if request.method == "POST":
            try:
                personal_data.customer_anonymise(customer=customer, actor=Actor(user=request.user))
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, gettext("The customer's personal data was erased."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Erase the personal data of %(customer)s?") % {"customer": customer},
            "customer": customer,
        }
        return TemplateResponse(request, "admin/customers/customer/anonymise.html", context)

    def consents_view(self, request, pk: int):
        """Record what the customer says now: each change is kept with its time, channel and author."""
        if not request.user.has_perm("customers.change_consent"):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=pk)
        current = {(c.purpose, c.channel): c.granted for c in customer.consents.all()}
        initial = {
            "personal_data": current.get((ConsentPurpose.PERSONAL_DATA, ""), False),
            "marketing": [
                channel for (purpose, channel), granted in current.items() if purpose == "marketing" and granted
            ],
        }
        form = ConsentsForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            wanted = form.cleaned_data
            changes = [ConsentChange(ConsentPurpose.PERSONAL_DATA, wanted["personal_data"])]
            changes += [
                ConsentChange(ConsentPurpose.MARKETING, channel in wanted["marketing"], channel)
                for channel in ContactChannel.values
                if (channel in wanted["marketing"]) != current.get((ConsentPurpose.MARKETING, channel), False)
            ]
            try:
                events = services.consents_record(
                    customer=customer,
                    changes=changes,
                    source_channel=wanted["source_channel"],
                    note=wanted["note"],
                    actor=Actor(user=request.user),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    ngettext("%(count)d consent change recorded.", "%(count)d consent changes recorded.", len(events))
                    % {"count": len(events)},
                )
                return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[pk]))
        return render_form_page(
            self,
            request,
            form=form,
            original=customer,
            title=gettext("Consents of %(customer)s") % {"customer": customer},
            submit_label=gettext("Save"),
            intro=gettext(
                "Tick what the customer agrees to now. Every change is kept with its time, the channel and your "
                "name; withdrawing consent to personal data processing withdraws every marketing consent."
            ),
        )

    def export_view(self, request, pk: int):
        if not request.user.has_perm("customers.export_customer_data"):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[pk]))
        customer = get_object_or_404(Customer, pk=pk)
        try:
            document = personal_data.customer_data_export(customer=customer, actor=Actor(user=request.user))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[pk]))
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
        return response


class ConsentsForm(forms.Form):
    personal_data = forms.BooleanField(label=_("agrees to the processing of personal data"), required=False)
    marketing = forms.MultipleChoiceField(
        label=_("agrees to receive offers by"),
        choices=ContactChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    source_channel = forms.ChoiceField(label=_("the customer told us through"), choices=Channel.choices)
    note = forms.CharField(label=_("note"), max_length=255, required=False)


class RegistrationForm(forms.Form):
    """What a seller asks a customer in the store; the consents are what the customer gives."""

    store = forms.ModelChoiceField(queryset=None, label=_("store"))
    phone = forms.CharField(label=_("phone"), max_length=64, required=False)
    email = forms.CharField(label=_("e-mail"), max_length=254, required=False)
    card = forms.CharField(label=_("loyalty card"), max_length=64, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=100, required=False)
    first_name = forms.CharField(label=_("first name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("middle name"), max_length=100, required=False)
    birthday = forms.DateField(label=_("birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    gender = forms.ChoiceField(label=_("gender"), choices=[("", "—"), *Gender.choices], required=False)
    city = forms.CharField(label=_("city"), max_length=100, required=False)
    preferred_channel = forms.ChoiceField(
        label=_("preferred contact channel"), choices=[("", "—"), *ContactChannel.choices], required=False
    )
    consent_personal_data = forms.BooleanField(label=_("agrees to the processing of personal data"), required=False)
    consent_marketing = forms.MultipleChoiceField(
        label=_("agrees to receive offers by"),
        choices=ContactChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        if stores.count() == 1:
            self.fields["store"].initial = stores.first()

    def identities(self) -> list[IdentityInput]:
        return [
            IdentityInput(name, self.cleaned_data[name], field=name)
            for name in ("phone", "email", "card")
            if self.cleaned_data[name].strip()
        ]

    def profile(self) -> dict:
        names = ["last_name", "first_name", "middle_name", "birthday", "gender", "city", "preferred_channel"]
        return {name: self.cleaned_data[name] for name in names}

    def consents(self) -> list[ConsentChange]:
        changes = []
        if self.cleaned_data["consent_personal_data"]:
            changes.append(ConsentChange(ConsentPurpose.PERSONAL_DATA, True))
        changes += [ConsentChange(ConsentPurpose.MARKETING, True, ch) for ch in self.cleaned_data["consent_marketing"]]
        return changes
