"""Loyalty entries of the timeline are event codes, read in the reader's language."""

import pytest
from django.utils import translation

from loyalty import services
from omni.core.actors import SYSTEM
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def test_joining_with_a_welcome_bonus_reads_in_russian_whoever_wrote_it(programme):
    programme.welcome_bonus = 301
    programme.save()
    person = customer()
    with translation.override("en"):
        services.account_open(customer=person)
    entry = person.interactions.get(event="loyalty.joined")

    assert entry.params == {"bonus": 301}
    with translation.override("ru"):
        assert entry.text == "Вступление в программу лояльности с приветственным бонусом 301 балл."
    with translation.override("en"):
        assert entry.text == "Joined the loyalty programme with a welcome bonus of 301 points."


def test_a_manual_adjustment_keeps_the_reason_as_typed(programme):
    programme.welcome_bonus = 0
    programme.save()
    person = customer()
    account, _created = services.account_open(customer=person)
    services.points_adjust(account=account, points=5, reason="Извинение за задержку", actor=SYSTEM)
    entry = person.interactions.get(event="points.adjusted")

    with translation.override("en"):
        assert entry.text == "Points adjusted by +5: Извинение за задержку"
    with translation.override("ru"):
        assert entry.text.endswith("+5: Извинение за задержку")
    assert person.interactions.get(event="loyalty.joined").text == "Joined the loyalty programme."
