"""Application config for journeys: its alert kinds, the sweep beat runs every minute (and the
watchdog watches), the navigation entry, and the receiver of cases' arrival signal."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = _("Journeys")

    def ready(self) -> None:
        from accounts import navigation
        from cases.signals import case_arrival_undone, case_arrived, case_erased, case_team_left
        from journeys import receivers
        from notifications import kinds
        from operations import health, schedules

        schedules.allow_schedule("journeys.escalate")
        # Beat runs the sweep every minute: ten minutes without it and the administrators hear.
        health.watch("journeys.escalate", minutes=10)
        # Minimisation runs nightly: a day and two hours without it and the administrators hear.
        schedules.allow_schedule("journeys.minimise")
        health.watch("journeys.minimise", minutes=26 * 60)
        case_arrived.connect(receivers.stop_clock_on_arrival, dispatch_uid="journeys.arrival")
        case_arrival_undone.connect(
            receivers.restart_clock_on_arrival_undone, dispatch_uid="journeys.arrival_undone"
        )
        case_erased.connect(receivers.destroy_with_the_case, dispatch_uid="journeys.erasure")
        case_team_left.connect(receivers.handler_off_the_team, dispatch_uid="journeys.team_left")

        for kind in (
            kinds.AlertKind(
                code="journeys.missed_lead",
                label=_("Check-in missed"),
                severity="urgent",
                message=_(
                    "A check-in of the journey of case %(case)s is %(minutes)s minutes past its "
                    "grace period. Try the agreed channels now."
                ),
                parameters=("case", "minutes"),
            ),
            kinds.AlertKind(
                code="journeys.missed_backup",
                label=_("Check-in still missing"),
                severity="urgent",
                message=_(
                    "A check-in of the journey of case %(case)s is still missing, %(minutes)s "
                    "minutes after its grace period. The lead handler has not closed it."
                ),
                parameters=("case", "minutes"),
            ),
            kinds.AlertKind(
                code="journeys.incident",
                label=_("Journey incident"),
                severity="urgent",
                message=_(
                    "Contingency: no check-in from the journey of case %(case)s for %(minutes)s "
                    "minutes after its grace period. Work through the incident's steps."
                ),
                parameters=("case", "minutes"),
            ),
            kinds.AlertKind(
                code="journeys.late_check_in",
                label=_("Late check-in"),
                severity="info",
                message=_(
                    "A late check-in arrived for the journey of case %(case)s: its escalation "
                    "is closed."
                ),
                parameters=("case",),
            ),
            kinds.AlertKind(
                code="journeys.duress",
                label=_("Duress word heard"),
                severity="urgent",
                message=_(
                    "DURESS: the duress word was heard at a check-in of the journey of case "
                    "%(case)s. Its emergency flag is raised."
                ),
                parameters=("case",),
            ),
            kinds.AlertKind(
                code="journeys.code_word_misses",
                label=_("Code words not matching"),
                severity="warning",
                message=_(
                    "%(count)s code words checked for the journey of case %(case)s in the last "
                    "hour matched nothing. The access log says who checked them."
                ),
                parameters=("case", "count"),
            ),
            kinds.AlertKind(
                code="journeys.handler_left",
                label=_("Journey handler left the team"),
                severity="urgent",
                message=_(
                    "A handler of the journey of case %(case)s was taken off the case's team and "
                    "no longer sees it. Name another handler now."
                ),
                parameters=("case",),
            ),
            kinds.AlertKind(
                code="journeys.handler_named",
                label=_("Journey handed to you"),
                severity="warning",
                message=_(
                    "You are now a handler of the journey of case %(case)s. Read its plan and "
                    "its next check-in."
                ),
                parameters=("case",),
            ),
            kinds.AlertKind(
                code="journeys.resumed",
                label=_("Journey resumed"),
                severity="warning",
                message=_(
                    "The arrival of case %(case)s was taken back (the bed that recorded it was "
                    "undone): its journey is in progress again and its check-ins are due as "
                    "planned."
                ),
                parameters=("case",),
            ),
            kinds.AlertKind(
                code="journeys.ended",
                label=_("Journey ended"),
                severity="info",
                message=_(
                    "The journey of case %(case)s has ended: its check-in clock has stopped "
                    "and open escalations are closed."
                ),
                parameters=("case",),
            ),
        ):
            kinds.register(kind)

        navigation.register(
            label=_("Journeys"),
            url_name="journeys:list",
            permission="journeys.view_journey",
            order=150,
        )
