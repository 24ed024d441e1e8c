from django.urls import path

from customers.api import duplicates, views

app_name = "customers"

urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/identify/", views.IdentifyView.as_view(), name="customer-identify"),
    path("customers/lookup/", views.LookupView.as_view(), name="customer-lookup"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<int:pk>/timeline/", views.TimelineView.as_view(), name="customer-timeline"),
    path("customers/<int:pk>/interactions/", views.InteractionCreateView.as_view(), name="customer-interactions"),
    path("customers/<int:pk>/cases/", views.CustomerCasesView.as_view(), name="customer-cases"),
    path("customers/<int:pk>/consents/", views.ConsentsView.as_view(), name="customer-consents"),
    path("customers/<int:pk>/feedback/", views.FeedbackCreateView.as_view(), name="customer-feedback"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<int:pk>/messages/", views.CaseMessageCreateView.as_view(), name="case-messages"),
    path("customers/duplicates/", duplicates.DuplicateListView.as_view(), name="duplicate-list"),
    path("customers/duplicates/<int:pk>/dismiss/", duplicates.DuplicateDismissView.as_view(), name="duplicate-dismiss"),
    path("customers/merge/", duplicates.MergeView.as_view(), name="customer-merge"),
]
