"""Application config for cases."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from accounts import navigation
        from audit.history import register_history_label
        from cases import links
        from cases.views.reports import register_exports
        from notifications import kinds
        from operations import schedules

        schedules.allow_schedule("cases.propose_erasures")
        # The case list's shared counts follow the cases and the items brought, which decide its
        # weapons filter (operations.figures).
        for model in ("Case", "ItemBrought"):
            for signal in (post_save, post_delete):
                signal.connect(
                    _cases_changed, sender=f"cases.{model}", dispatch_uid=f"cases-{model}-{signal}"
                )
        # The reports' CSV, built in the background.
        register_exports()

        kinds.register(
            kinds.AlertKind(
                code="cases.lookup_limit",
                label=_("Search limit reached"),
                severity="warning",
                message=_(
                    "A member of staff reached the limit of %(count)s searches by service or ID "
                    "number in an hour. The access log says who."
                ),
                parameters=("count",),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.verifier_assigned",
                label=_("Verifier assigned"),
                severity="info",
                message=_("Case %(case)s has a new verifier."),
                parameters=("case",),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.case_manager_changed",
                label=_("Case manager changed"),
                severity="info",
                message=_("Case %(case)s has a new case manager, or none."),
                parameters=("case",),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.team_changed",
                label=_("Case team changed"),
                severity="info",
                message=_("The team of case %(case)s changed. Its team page says how."),
                parameters=("case",),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.break_glass",
                label=_("Break-the-glass"),
                severity="urgent",
                message=_(
                    "Someone outside its team broke the glass to open case %(case)s for "
                    "%(minutes)s minutes. Review it."
                ),
                parameters=("case", "minutes"),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.break_glass_unjustified",
                label=_("Break-the-glass not justified"),
                severity="urgent",
                message=_(
                    "A break-the-glass of case %(case)s was reviewed and judged not justified."
                ),
                parameters=("case",),
            )
        )
        kinds.register(
            kinds.AlertKind(
                code="cases.checks_reset",
                label=_("Checks reset"),
                severity="warning",
                message=_(
                    "Identity details of case %(case)s changed after verification started: its "
                    "checks were reset and it must be verified again."
                ),
                parameters=("case",),
            )
        )

        # The audit trail names a case by its code (and every record of a case by the same).
        register_history_label("cases.Case", label=lambda case: case.code)
        navigation.register(
            label=_("Cases"),
            url_name="cases:list",
            permission="cases.view_case",
            order=100,
            group=_("Cases"),
        )
        navigation.register(
            label=_("Possible duplicates"),
            url_name="cases:duplicates",
            permission="cases.review_duplicates",
            order=120,
            group=_("Cases"),
        )
        navigation.register(
            label=_("Case reports"),
            url_name="cases:reports",
            permission="cases.view_case_reports",
            order=130,
            group=_("Cases"),
        )
        navigation.register(
            label=_("Break-the-glass reviews"),
            url_name="cases:break_glass_list",
            permission="cases.review_break_glass",
            order=135,
            group=_("Cases"),
        )
        navigation.register(
            label=_("Erasure requests"),
            url_name="cases:erasure_list",
            permission="cases.view_erasurerequest",
            order=140,
            group=_("Cases"),
        )
        links.register(
            label=_("Erase identity"),
            url_name="cases:erasure_create",
            permission="cases.request_erasure",
            order=900,
        )


def _cases_changed(**_kwargs) -> None:
    from operations.figures import bump_generation

    bump_generation("cases")
