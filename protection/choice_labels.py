"""`get_FOO_display()` without the cost Django pays on every call.

Django rebuilds a dict of a field's choices for each call, hashing every label; our labels are
lazy translations, so each call translated every choice of the field (a case list of 25 rows
spent a quarter of its time there). The labels are kept lazy here, so the dict, built once per
field, still answers in the language of the request."""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_labels_by_field: dict[Any, dict[Any, Any]] = {}


class CachedChoiceLabels:
    """Mixin for models, before `models.Model` (or a model base) in the bases."""

    def _get_FIELD_display(self, field) -> str:
        labels = _labels_by_field.get(field)
        if labels is None:
            labels = {make_hashable(value): label for value, label in field.flatchoices}
            _labels_by_field[field] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)
