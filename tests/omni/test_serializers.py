"""The API's serializer helpers: ``validated`` answers as ``is_valid`` does, without building fields."""

import threading

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from customers.api.serializers import IdentifySerializer
from omni.core.api.serializers import StrictInputSerializer, validated


class ItemSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=4)


class OrderInputSerializer(StrictInputSerializer):
    number = serializers.IntegerField(min_value=1)
    items = ItemSerializer(many=True, min_length=1)
    note = serializers.CharField(required=False, default="")

    def validate(self, attrs):
        if attrs["number"] == 13:
            raise serializers.ValidationError({"number": ["Unlucky."]})
        return attrs


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.detail


def is_valid(data):
    serializer = OrderInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@pytest.mark.parametrize(
    "data",
    [
        {"number": 0, "items": [{"code": "ABCDE"}, {"code": "A", "size": 1}]},
        {"number": 13, "items": [{"code": "A"}]},
        {"items": "x", "extra": 1},
        None,
        [],
    ],
)
def test_invalid_input_is_refused_in_the_words_of_is_valid(data):
    assert errors_of(lambda: validated(OrderInputSerializer, data)) == errors_of(lambda: is_valid(data))


def test_valid_input_gives_what_is_valid_gives_call_after_call():
    for n in range(1, 4):
        data = {"number": n, "items": [{"code": f"A{n}"}] * n}
        assert validated(OrderInputSerializer, data) == is_valid(data) == {**data, "note": ""}


def test_one_validator_per_thread_gives_each_thread_its_own_answers():
    # given threads validating different inputs through the same class at once
    barrier, answers, failures = threading.Barrier(4), {}, []

    def validate(n):
        barrier.wait()
        for _ in range(200):
            try:
                answers[n] = validated(IdentifySerializer, {"phone": f"+7916000000{n}", "first_name": f"N{n}"})
                errors_of(lambda: validated(IdentifySerializer, {"phone": 1, "gender": f"g{n}"}))
            except Exception as error:  # any error is the failure asserted below
                failures.append(error)

    threads = [threading.Thread(target=validate, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then each got its own input back, and every refusal was raised
    assert failures == []
    assert {n: (answer["phone"], answer["first_name"]) for n, answer in answers.items()} == {
        n: (f"+7916000000{n}", f"N{n}") for n in range(4)
    }
