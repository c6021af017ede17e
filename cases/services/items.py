"""The items a person brought (weapons, ammunition, vehicles), recorded at intake or later by
a case manager."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_context
from cases.choices import ITEM_CATEGORY_OF_TYPE
from cases.models import Case, ItemBrought
from cases.services.common import CaseError, _lock, _require_editable_details


@transaction.atomic
def item_add(
    *,
    case: Case,
    actor: User,
    item_type: str,
    count: int,
    handed_over_to: str = "",
    notes: str = "",
) -> ItemBrought:
    case = _lock(case)
    _require_editable_details(case, actor)
    if item_type not in ITEM_CATEGORY_OF_TYPE:
        raise CaseError(_("Choose what kind of item it is."))
    if count is None or count < 1:
        raise CaseError(_("The count must be at least 1."))
    with audit_context(actor=actor, action="case.item_add"):
        return ItemBrought.objects.create(
            case=case,
            category=ITEM_CATEGORY_OF_TYPE[item_type],
            item_type=item_type,
            count=count,
            handed_over_to=handed_over_to.strip(),
            notes=notes.strip(),
            recorded_by=actor,
        )


@transaction.atomic
def item_remove(*, item: ItemBrought, actor: User) -> None:
    case = _lock(item.case)
    _require_editable_details(case, actor)
    with audit_context(actor=actor, action="case.item_remove"):
        ItemBrought.objects.filter(pk=item.pk, case=case).delete()
