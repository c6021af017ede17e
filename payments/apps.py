"""Application config for payments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from accounts import navigation
        from audit.history import register_context_action, register_history_label
        from cases import links
        from operations import schedules
        from payments.exports import register_exports
        from payments.services.runs import RUN_ACTION

        # The monthly run may be scheduled for a given month; never with an actor: a schedule
        # runs as nobody, so it cannot borrow a finance officer's name for the history.
        schedules.allow_schedule("payments.run_monthly_disbursement", period=schedules.is_month)
        # The history names each line's run; the audit pages say which kind of run it was.
        register_context_action(RUN_ACTION, _("Monthly disbursement run"))

        # The payroll sheet and transfer lists, built in the background.
        register_exports()

        navigation.register(
            label=_("Payments"),
            url_name="payments:batches",
            permission="payments.view_disbursementbatch",
            order=300,
            group=_("Payments"),
        )
        navigation.register(
            label=_("Finance dashboard"),
            url_name="payments:dashboard",
            permission="payments.view_finance_reports",
            order=310,
            group=_("Payments"),
        )
        # The audit trail names a line "HV-2026-00023, 2026-12" and a batch "2026-12 THB".
        register_history_label(
            "payments.Payment",
            label=lambda line: f"{line.case.code}, {line.period:%Y-%m}",
            related=("case",),
        )
        register_history_label("payments.DisbursementBatch", label=lambda batch: batch.label)
        # The case page links to the case's stipend plans and payments.
        links.register(
            label=_("Stipend and payments"),
            url_name="payments:case_plans",
            permission="payments.view_stipendplan",
            order=20,
        )
