"""The base of the API's model serializers."""

from rest_framework import serializers


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
