"""Evidence files: stored encrypted under the case's data key, judged by their content, and
every opening logged."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import record_reveal
from audit.services import audit_context
from cases.models import Case, Evidence
from cases.services.common import CaseError, _lock
from protection.keys import decrypt_bytes, encrypt_bytes

EVIDENCE_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


def evidence_content_type(head: bytes) -> str | None:
    """The type of a file judged by its content, not its name."""
    return next(
        (kind for signature, kind in EVIDENCE_SIGNATURES.items() if head.startswith(signature)),
        None,
    )


def _evidence_path(storage_name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "evidence" / storage_name


@transaction.atomic
def evidence_add(*, case: Case, actor: User, kind: str, upload: Any) -> Evidence:
    """Store an uploaded file encrypted under the case's data key; refuse anything but a PDF,
    JPEG or PNG within the size limit."""
    if not (actor.has_perm("cases.change_case") or actor.has_perm("cases.verify_case")):
        require_permission(actor, "cases.change_case")
    case = _lock(case)
    if not case.is_open:
        raise CaseError(_("A closed case takes no new evidence."))
    limit = settings.HAVEN_EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise CaseError(
            _("The file is too large: the limit is %(megabytes)s MB.")
            % {"megabytes": limit // (1024 * 1024)}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise CaseError(_("The file is too large."))
    content_type = evidence_content_type(data[:16])
    if content_type is None:
        raise CaseError(_("Only PDF, JPEG and PNG files can be stored as evidence."))
    storage_name = f"{uuid.uuid4().hex}.bin"
    path = _evidence_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encrypt_bytes(data, data_key_id=case.data_key_id))
    # Should the outer transaction roll back later, the file stays behind as ciphertext under
    # the case's key: unreadable without a row pointing at it, and erased with the case's key.
    try:
        with audit_context(actor=actor, action="case.evidence_add"):
            evidence = Evidence.objects.create(
                case=case,
                kind=kind,
                original_name=Path(getattr(upload, "name", "") or "evidence").name[:255],
                content_type=content_type,
                size=len(data),
                storage_name=storage_name,
                uploaded_by=actor,
            )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return evidence


def evidence_open(*, evidence: Evidence, actor: User, request: Any = None) -> bytes:
    """Decrypt an evidence file for someone allowed to see identity; every opening is logged."""
    require_permission(actor, "cases.view_case")
    # Need-to-know, the reveal budget and the access log, as for any protected value.
    record_reveal(
        actor=actor, obj=evidence.case, field_name=f"evidence:{evidence.pk}", request=request
    )
    return decrypt_bytes(
        _evidence_path(evidence.storage_name).read_bytes(), data_key_id=evidence.data_key_id
    )
