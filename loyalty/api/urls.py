from django.urls import path

from loyalty.api import setup, views

app_name = "loyalty"

urlpatterns = [
    path("loyalty/accounts/", views.AccountOpenView.as_view(), name="account-list"),
    path("loyalty/accounts/<int:customer_id>/", views.AccountDetailView.as_view(), name="account-detail"),
    path("loyalty/accounts/<int:customer_id>/entries/", views.AccountEntriesView.as_view(), name="account-entries"),
    path("loyalty/cards/", views.CardListView.as_view(), name="card-list"),
    path("loyalty/cards/<str:number>/", views.CardDetailView.as_view(), name="card-detail"),
    path("loyalty/quote/", views.QuoteView.as_view(), name="quote"),
    path("loyalty/redemptions/", views.RedemptionView.as_view(), name="redemption-list"),
    path("loyalty/codes/", views.CodeView.as_view(), name="code-list"),
    path("loyalty/promo-codes/validate/", views.PromoValidateView.as_view(), name="promo-validate"),
    path("loyalty/programme/", setup.ProgrammeView.as_view(), name="programme"),
    path("loyalty/promo-codes/", setup.PromoCodeListView.as_view(), name="promo-code-list"),
    path("loyalty/promo-codes/<str:code>/", setup.PromoCodeDetailView.as_view(), name="promo-code-detail"),
    path(
        "loyalty/promo-codes/<str:code>/deactivate/",
        setup.PromoCodeDeactivateView.as_view(),
        name="promo-code-deactivate",
    ),
    path("loyalty/promo-codes/<str:code>/usages/", setup.PromoCodeUsagesView.as_view(), name="promo-code-usages"),
]
