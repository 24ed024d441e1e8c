"""Promo codes: what they give, every refusal with its own code, and uses counted once."""

from decimal import Decimal

import pytest

from customers.models import Segment, SegmentCondition
from loyalty import errors
from loyalty.models import PromoKind, PromoUsage, PromoUsageStatus
from loyalty.services import promo_apply, promo_release, promo_validate
from omni.core.errors import InvalidInput
from tests.loyalty.factories import NOW, PromoCodeFactory, cart, customer, days, member

pytestmark = pytest.mark.django_db


def validate(code, total=1000, channel="site", person=None, at=NOW):
    return promo_validate(code=code, lines=cart(total), channel=channel, customer=person, now=at)


class TestWhatACodeGives:
    def test_percentage(self):
        quote = validate(PromoCodeFactory(kind=PromoKind.PERCENT, value=Decimal("12.5")).code, total="999.99")
        assert (quote.discount, quote.points) == (Decimal("125.00"), 0)

    def test_fixed_amount_never_above_the_order(self):
        assert validate(PromoCodeFactory(kind=PromoKind.AMOUNT, value=150).code).discount == Decimal("150.00")
        assert validate(PromoCodeFactory(kind=PromoKind.AMOUNT, value=1500).code).discount == Decimal("1000.00")

    def test_extra_points(self):
        quote = validate(PromoCodeFactory(kind=PromoKind.POINTS, value=300).code)
        assert (quote.discount, quote.points) == (Decimal("0.00"), 300)

    def test_codes_are_read_in_any_case(self):
        promo = PromoCodeFactory(code="SUMMER")
        assert validate(" summer ").promo == promo


class TestRefusals:
    @pytest.mark.parametrize(
        ("fields", "kwargs", "error"),
        [
            ({"is_active": False}, {}, errors.PromoInactive),
            ({"valid_from": NOW + days(1)}, {}, errors.PromoNotStarted),
            ({"valid_from": NOW - days(10), "valid_until": NOW}, {}, errors.PromoExpired),
            ({"channels": ["store"]}, {"channel": "site"}, errors.PromoWrongChannel),
            ({"min_order_total": Decimal("1000.01")}, {}, errors.PromoMinimumTotal),
            ({"max_uses_per_customer": 1}, {}, errors.PromoCustomerRequired),
            ({"max_uses": 0}, {}, errors.PromoExhausted),
        ],
    )
    def test_each_rule_has_its_code(self, fields, kwargs, error):
        promo = PromoCodeFactory(**fields)
        with pytest.raises(error) as raised:
            validate(promo.code, **kwargs)
        assert raised.value.status == 409
        assert raised.value.code.startswith("promo_")

    def test_unknown_code_is_404(self):
        with pytest.raises(errors.PromoNotFound) as raised:
            validate("NOPE")
        assert raised.value.status == 404

    def test_blank_code_is_bad_input(self):
        with pytest.raises(InvalidInput):
            validate("  ")

    def test_a_code_with_an_invisible_character_is_bad_input(self):
        with pytest.raises(InvalidInput) as raised:
            validate("SPRING\u202e")
        assert raised.value.details["fields"]["code"][0].startswith("The character U+202E")

    def test_segments_limit_who_may_use_it(self, programme):
        from loyalty import services

        gold = Segment.objects.create(name="Gold members")
        SegmentCondition.objects.create(segment=gold, condition="loyalty.tier", value="Gold")
        promo = PromoCodeFactory()
        promo.segments.add(gold)
        rich, poor = member(), member()
        services.spend_record(
            customer=rich.customer, amount=Decimal("60000"), occurred_at=NOW, cause=services.Cause("import", "1")
        )
        services.tier_recalculate(customer=rich.customer, now=NOW)

        assert validate(promo.code, person=rich.customer).promo == promo
        with pytest.raises(errors.PromoNotForCustomer):
            validate(promo.code, person=poor.customer)
        with pytest.raises(errors.PromoCustomerRequired):
            validate(promo.code)

    def test_channels_where_it_is_valid(self):
        promo = PromoCodeFactory(channels=["store", "app"])
        assert validate(promo.code, channel="app").promo == promo


class TestUse:
    def test_use_is_counted_and_recorded_with_its_order(self):
        promo = PromoCodeFactory(max_uses=2)
        person = customer()

        usage, created = promo_apply(
            code=promo.code, reference="W-1", lines=cart(1000), channel="site", customer=person, now=NOW
        )

        promo.refresh_from_db()
        assert created and promo.used_count == 1
        assert (usage.reference, usage.customer, usage.discount) == ("W-1", person, Decimal("100.00"))

    def test_the_same_order_uses_it_once(self):
        promo = PromoCodeFactory(max_uses=5)
        promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", now=NOW)
        usage, created = promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", now=NOW)
        promo.refresh_from_db()
        assert (created, promo.used_count) == (False, 1)

    def test_limits_in_total_and_per_customer(self):
        promo = PromoCodeFactory(max_uses=3, max_uses_per_customer=1)
        person = customer()
        promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", customer=person, now=NOW)
        with pytest.raises(errors.PromoCustomerLimit):
            promo_apply(code=promo.code, reference="W-2", lines=cart(1000), channel="site", customer=person, now=NOW)
        promo_apply(code=promo.code, reference="W-3", lines=cart(1000), channel="site", customer=customer(), now=NOW)
        promo_apply(code=promo.code, reference="W-4", lines=cart(1000), channel="site", customer=customer(), now=NOW)
        with pytest.raises(errors.PromoExhausted):
            promo_apply(
                code=promo.code, reference="W-5", lines=cart(1000), channel="site", customer=customer(), now=NOW
            )
        promo.refresh_from_db()
        assert promo.used_count == 3
        assert PromoUsage.objects.count() == 3

    def test_releasing_a_cancelled_order_gives_the_use_back_once(self):
        promo = PromoCodeFactory(max_uses=1)
        promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", now=NOW)

        assert promo_release(reference="W-1", now=NOW) == 1
        assert promo_release(reference="W-1", now=NOW) == 0

        promo.refresh_from_db()
        assert promo.used_count == 0
        assert PromoUsage.objects.get().status == PromoUsageStatus.RELEASED
        promo_apply(code=promo.code, reference="W-2", lines=cart(1000), channel="site", now=NOW)
        promo.refresh_from_db()
        assert promo.used_count == 1

    def test_a_refused_use_changes_nothing(self):
        promo = PromoCodeFactory(min_order_total=5000, max_uses=10)
        with pytest.raises(errors.PromoMinimumTotal):
            promo_apply(code=promo.code, reference="W-1", lines=cart(1000), channel="site", now=NOW)
        promo.refresh_from_db()
        assert promo.used_count == 0
        assert not PromoUsage.objects.exists()
