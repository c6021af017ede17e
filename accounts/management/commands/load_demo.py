"""`manage.py load_demo`: the fictional demo data of every app, in one transaction."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from accounts.demo import DemoDataRefused, run_demo_loaders


class Command(BaseCommand):
    help = "Load fictional demo data (demo settings only). Safe to run again: adds what is missing."

    def handle(self, *args, **options) -> None:
        # Each app registers its loaders in its own demo.py; importing them here keeps accounts
        # free of imports from the domain apps.
        autodiscover_modules("demo")
        try:
            with transaction.atomic():
                run_demo_loaders(self.stdout)
        except DemoDataRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
