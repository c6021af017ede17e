"""The batch exports built in the background (operations/exports.py): their kinds, checks and
builders, registered by PaymentsConfig.ready()."""

from __future__ import annotations

from array import array

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import REVEAL_PERMISSION, reveal_check
from cases.selectors import visible_case_ids
from operations import exports as background
from payments.exports.common import CSV_TYPE, EXPORT_PERMISSION, PDF_TYPE, XLSX_TYPE, file_name
from payments.exports.payroll import write_batch_pdf
from payments.exports.transfers import write_batch_csv, write_batch_xlsx
from payments.models import DisbursementBatch
from payments.rules import PAYOUT_PERMISSION

# --- built in the background -------------------------------------------------------------------


def _batch_of(arguments: dict) -> DisbursementBatch:
    batch = DisbursementBatch.objects.filter(pk=arguments["batch"]).first()
    if batch is None:
        raise background.ExportError(_("This batch does not exist."))
    return batch


def _check_batch(actor: User, arguments: dict) -> None:
    _batch_of(arguments)


def _check_transfers(actor: User, arguments: dict, request=None) -> None:
    """Names and wallets only for the officer paying the batch out, during the payout (asked
    again at the build and at every download: a batch closed meanwhile keeps its list shut),
    as for every reveal of them (the batch's REVEAL_RULE); a refusal is logged."""
    batch = _batch_of(arguments)
    if arguments["payees"]:
        reveal_check(
            actor=actor,
            obj=batch,
            field_name="payees",
            request=request,
            permission=PAYOUT_PERMISSION,
        )


def _names_still_visible(actor: User, case_ids: list[int]) -> bool:
    """The sheet prints the names of the cases whose people the reader may see only (their
    team's: payroll._names_of); each of them must still be one."""
    return set(case_ids) <= visible_case_ids(user=actor, pks=case_ids)


def _reveals_names(arguments: dict) -> tuple[DisbursementBatch, str]:
    return _batch_of(arguments), "real_name"


def _reveals_payees(arguments: dict) -> tuple[DisbursementBatch, str]:
    return _batch_of(arguments), "payees"


def _build_pdf(context: background.ExportContext) -> background.Built:
    batch = _batch_of(context.arguments)
    named = write_batch_pdf(
        context.output, batch=batch, actor=context.actor, progress=context.progress
    )
    return background.Built(file_name(batch, "pdf"), PDF_TYPE, named_case_ids=named)


def _transfer_builder(write, extension: str, content_type: str):
    def build(context: background.ExportContext) -> background.Built:
        batch = _batch_of(context.arguments)
        named = array("q")
        write(
            context.output,
            batch=batch,
            actor=context.actor,
            with_payees=context.arguments["payees"],
            progress=context.progress,
            named=named,
        )
        return background.Built(file_name(batch, extension), content_type, named_case_ids=named)

    return build


def _batch_page(arguments: dict) -> str:
    return reverse("payments:batch_detail", args=[arguments["batch"]])


def register_exports() -> None:
    """Called from PaymentsConfig.ready()."""
    background.register(
        background.ExportKind(
            code="payments.batch_pdf",
            label=gettext_lazy("Payroll sheet (PDF)"),
            permission=EXPORT_PERMISSION,
            build=_build_pdf,
            check=_check_batch,
            back_url=_batch_page,
            names_people=True,
            names_permission=REVEAL_PERMISSION,
            names_still_visible=_names_still_visible,
            reveals=_reveals_names,
            arguments={"batch": int},
        )
    )
    for extension, write, content_type, label in (
        ("csv", write_batch_csv, CSV_TYPE, gettext_lazy("Transfer list (CSV)")),
        ("xlsx", write_batch_xlsx, XLSX_TYPE, gettext_lazy("Transfer list (XLSX)")),
    ):
        background.register(
            background.ExportKind(
                code=f"payments.batch_{extension}",
                label=label,
                permission=EXPORT_PERMISSION,
                build=_transfer_builder(write, extension, content_type),
                check=_check_transfers,
                back_url=_batch_page,
                names_people=True,
                reveals=_reveals_payees,
                arguments={"batch": int, "payees": bool},
            )
        )
