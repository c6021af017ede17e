"""Referrals of a case to partner organisations, the statuses a referral moves through, and the
directory of partners."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from audit.services import audit_context
from cases.choices import PartnerType, ReferralStatus
from cases.models import Case, Partner, Referral
from cases.services.common import CaseError, _lock


@transaction.atomic
def referral_create(*, case: Case, actor: User, partner: Partner, purpose: str) -> Referral:
    """Refer a case to a partner of the directory; the purpose is encrypted under the case's key."""
    require_permission(actor, "cases.manage_safety")
    case = _lock(case)
    # Locked: a partner retired meanwhile (partner_set_active) takes no new referral.
    partner = Partner.objects.select_for_update().filter(pk=getattr(partner, "pk", None)).first()
    if partner is None or not partner.active:
        raise CaseError(_("Choose a partner organisation in use from the directory."))
    if not purpose.strip():
        raise CaseError(_("Say what the referral is for."))
    with audit_context(actor=actor, action="case.referral_add"):
        return Referral.objects.create(
            case=case, partner=partner, purpose=purpose.strip(), created_by=actor
        )


@transaction.atomic
def partner_create(*, actor: User, name: str, partner_type: str, contact: str = "") -> Partner:
    """Add an organisation to the partner directory (one entry per name, whatever its case)."""
    require_permission(actor, "cases.manage_safety")
    name = " ".join(name.split())
    if not name:
        raise CaseError(_("Give the partner organisation's name."))
    if partner_type not in PartnerType.values:
        raise CaseError(_("Choose the partner type."))
    if Partner.objects.filter(name__iexact=name).exists():
        raise CaseError(_("%(name)s is already in the directory.") % {"name": name})
    try:
        with transaction.atomic(), audit_context(actor=actor, action="case.partner_add"):
            return Partner.objects.create(
                name=name, partner_type=partner_type, contact=contact.strip(), created_by=actor
            )
    except IntegrityError as error:  # the same name added at the same moment
        raise CaseError(_("%(name)s is already in the directory.") % {"name": name}) from error


@transaction.atomic
def partner_set_active(*, partner: Partner, actor: User, active: bool) -> Partner:
    """Retire a partner (no new referrals to it; its referrals stay) or take it back in use."""
    require_permission(actor, "cases.manage_safety")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.active != active:
        partner.active = active
        with audit_context(actor=actor, action="case.partner_active"):
            partner.save(update_fields=["active"])
    return partner


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
