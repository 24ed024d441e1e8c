from django.urls import path

from omni.marketing.api import nps, views

app_name = "marketing"

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/<int:id>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:id>/preview/", views.CampaignPreviewView.as_view(), name="campaign-preview"),
    path("campaigns/<int:id>/test/", views.CampaignTestView.as_view(), name="campaign-test"),
    path("campaigns/<int:id>/send/", views.CampaignSendView.as_view(), name="campaign-send"),
    path("campaigns/<int:id>/cancel/", views.CampaignCancelView.as_view(), name="campaign-cancel"),
    path("carts/", views.CartView.as_view(), name="cart-record"),
    path("campaigns/<int:id>/results/", views.CampaignResultsView.as_view(), name="campaign-results"),
    path("messages/inbound/", views.InboundMessageView.as_view(), name="message-inbound"),
    path("nps/", nps.NpsFiguresView.as_view(), name="nps-figures"),
    path("nps/answers/", nps.NpsAnswerView.as_view(), name="nps-answer"),
]
