"""Referrals of a case to partner organisations, and the statuses a referral moves through."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import ReferralStatus
from cases.models import Case, Referral
from cases.services.common import CaseError, _lock


@transaction.atomic
def referral_create(
    *, case: Case, actor: User, partner_type: str, partner_name: str, purpose: str
) -> Referral:
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    if not partner_name.strip() or not purpose.strip():
        raise CaseError(_("Name the partner organisation and the purpose of the referral."))
    with audit_context(actor=actor, action="case.referral_add"):
        return Referral.objects.create(
            case=case,
            partner_type=partner_type,
            partner_name=partner_name.strip(),
            purpose=purpose.strip(),
            created_by=actor,
        )


REFERRAL_TRANSITIONS = {
    ReferralStatus.PROPOSED: {ReferralStatus.SENT, ReferralStatus.DECLINED},
    ReferralStatus.SENT: {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED},
    ReferralStatus.ACCEPTED: {ReferralStatus.COMPLETED},
    ReferralStatus.DECLINED: set(),
    ReferralStatus.COMPLETED: set(),
}


@transaction.atomic
def referral_set_status(*, referral: Referral, actor: User, status: str) -> Referral:
    require_permission(actor, "cases.manage_safety")
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if status not in REFERRAL_TRANSITIONS.get(referral.status, set()):
        raise CaseError(
            _("A referral that is %(current)s cannot become %(new)s.")
            % {
                "current": referral.get_status_display(),
                "new": ReferralStatus(status).label if status in ReferralStatus.values else status,
            }
        )
    referral.status = status
    with audit_context(actor=actor, action="case.referral_status"):
        referral.save(update_fields=["status", "updated_at"])
    return referral
