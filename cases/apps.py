"""Application config for cases."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from accounts import navigation

        navigation.register(
            label=_("Cases"), url_name="cases:list", permission="cases.view_case", order=100
        )
        navigation.register(
            label=_("Possible duplicates"),
            url_name="cases:duplicates",
            permission="cases.review_duplicates",
            order=120,
        )
        navigation.register(
            label=_("Case reports"),
            url_name="cases:reports",
            permission="cases.view_case_reports",
            order=130,
        )
