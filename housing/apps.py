"""Application config for housing."""

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class HousingConfig(AppConfig):
    name = "housing"
    verbose_name = _("Housing")

    def ready(self) -> None:
        from accounts import navigation
        from cases import links
        from housing.views.reports import register_exports

        # The bed-nights CSV, built in the background.
        register_exports()
        # The shared bed totals follow the houses, rooms, beds and stays (operations.figures).
        for model in ("House", "Room", "Bed", "Allocation"):
            for signal in (post_save, post_delete):
                signal.connect(
                    _beds_changed,
                    sender=f"housing.{model}",
                    dispatch_uid=f"housing-beds-{model}-{signal}",
                )

        navigation.register(
            label=_("Occupancy board"),
            url_name="housing:board",
            permission="housing.view_bed",
            order=200,
            group=_("Housing"),
        )
        navigation.register(
            label=_("Waiting list"),
            url_name="housing:waiting_list",
            permission="housing.add_allocation",
            order=210,
            group=_("Housing"),
        )
        navigation.register(
            label=_("Housing reports"),
            url_name="housing:reports",
            permission="housing.view_housing_reports",
            order=220,
            group=_("Housing"),
        )
        links.register(
            label=_("Where they stayed"),
            url_name="housing:case_history",
            permission="housing.view_allocation",
            order=10,
        )


def _beds_changed(**_kwargs) -> None:
    from housing.selectors.occupancy import BEDS
    from operations.figures import bump_generation

    bump_generation(BEDS)
