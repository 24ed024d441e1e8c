"""The bases of the API's serializers."""

import functools
import threading
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    # Refuses fields it does not know, so that a misspelt or a computed field is not silently dropped;
    # the schema says so too (no additional properties). A comment, not a docstring: spectacular
    # would print a docstring as the description of every input.

    def unknown_field_message(self, name: str) -> str:
        return _("This field is not accepted.")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [self.unknown_field_message(name)] for name in unknown})
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer: ``"3"``, ``1.5``, ``1.0`` and ``true`` are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    """A read-only choice field whose model field may be blank says so (its enum allows ``""``).

    DRF drops ``allow_blank`` from read-only fields, so the schema would promise a choice where the
    API answers ``""`` (a customer who never told their gender).
    """

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        blank_choice = bool(kwargs.get("allow_blank")) and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs


@functools.cache
def _reader(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    return serializer_class()


def represent(serializer_class: type[serializers.Serializer], instance) -> dict:
    """``serializer_class(instance).data``, without building the serializer's fields again.

    DRF builds a serializer's fields for every instance it is given, and a ``ModelSerializer``
    builds them by inspecting its model: 3-4 ms for a customer, twenty times the cost of reading
    the values. One serializer per class and process is built here and only reads. For
    serializers whose fields need no context (no request, no hyperlinks).
    """
    return _reader(serializer_class).to_representation(instance)


_validators = threading.local()


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """``serializer_class(data=data)``'s validated data, raising what ``is_valid(raise_exception=True)``
    raises, without building the serializer's fields again.

    DRF deep-copies a serializer's declared fields for every instance: for identify's input
    (twenty fields and two nested lists) that is most of the CPU of a call that changes nothing.
    One serializer per class and thread is built here and only validates. For input serializers
    whose validation needs no context and keeps no state between calls (no instance, no request).
    """
    serializer = _validators.__dict__.get(serializer_class)
    if serializer is None:
        serializer = _validators.__dict__[serializer_class] = serializer_class()
    try:
        return serializer.run_validation(data)
    except serializers.ValidationError:
        invalid = serializer_class(data=data)  # the error exactly as is_valid words it (its edge cases too)
        invalid.is_valid(raise_exception=True)
        raise
