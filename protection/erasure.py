"""The primitive of crypto-erasure: destroying a data key, and the blind indexes under it."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from protection.blind_indexes import BlindIndexField
from protection.fields import ProtectedModel
from protection.keys import data_key_cache
from protection.models import DataKey


@transaction.atomic
def destroy_data_key(data_key) -> None:
    """Crypto-erase: forget the data key, so every value under it becomes unreadable.

    The blind indexes of the rows under the key are blanked too: they are keyed hashes of the
    erased values, so they would still let anyone who can search confirm that a given service
    number was in the database (and service numbers are few enough to try them all).
    """

    for model in apps.get_models():
        if not issubclass(model, ProtectedModel) or model._meta.proxy:
            continue
        index_fields = [
            field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)
        ]
        if index_fields:
            model._base_manager.filter(data_key_id=data_key.pk).update(
                **{field.attname: "" for field in index_fields}
            )
    DataKey.objects.filter(pk=data_key.pk).update(wrapped_key=None, destroyed_at=timezone.now())
    data_key_cache.put(data_key.pk, None)
