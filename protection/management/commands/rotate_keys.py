"""Re-wraps the data keys under the newest master key, and recomputes blind indexes.

Run it after putting a new master key first in HAVEN_FIELD_KEYS (the old keys stay after it
until the run has finished), and with `--blind-indexes` after changing HAVEN_BLIND_INDEX_KEY.
Each batch commits on its own, so an interrupted run is simply run again: keys already under
the newest master key and indexes already up to date are skipped.
"""

from __future__ import annotations

from typing import Any

import pghistory.models
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from protection.blind_indexes import BlindIndexField
from protection.keys import (
    ProtectedValueError,
    is_wrapped_by_newest_master_key,
    master_keys,
    rewrap_key,
)
from protection.models import DataKey


class Command(BaseCommand):
    help = (
        "Re-wrap every data key under the newest key in HAVEN_FIELD_KEYS; with --blind-indexes, "
        "also recompute every blind index under the current HAVEN_BLIND_INDEX_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows locked and written per transaction (default 500).",
        )
        parser.add_argument(
            "--blind-indexes",
            action="store_true",
            help="Also recompute every blind index (after HAVEN_BLIND_INDEX_KEY changed).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would change, and check every key can be unwrapped; write nothing.",
        )

    def handle(self, *args: Any, batch_size: int, blind_indexes: bool, dry_run: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            master_keys()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error

        rewrapped, already_newest = self.rewrap_data_keys(batch_size=batch_size, dry_run=dry_run)
        if dry_run:
            self.stdout.write(
                f"Dry run: would re-wrap {rewrapped} data keys "
                f"({already_newest} already under the newest key)."
            )
        else:
            self.stdout.write(
                f"Re-wrapped {rewrapped} data keys ({already_newest} already under the newest key)."
            )

        if blind_indexes:
            rewritten = 0
            for model, index_fields in self.models_with_blind_indexes():
                rewritten += self.recompute_blind_indexes(
                    model, index_fields, batch_size=batch_size, dry_run=dry_run
                )
            if dry_run:
                self.stdout.write(f"Dry run: would rewrite the blind indexes of {rewritten} rows.")
            else:
                self.stdout.write(f"Rewrote the blind indexes of {rewritten} rows.")

    # --- data keys -------------------------------------------------------------------------

    def rewrap_data_keys(self, *, batch_size: int, dry_run: bool) -> tuple[int, int]:
        rewrapped = already_newest = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                keys = DataKey.objects.all()
                if not dry_run:
                    keys = keys.select_for_update(skip_locked=False)
                batch = list(
                    # Destroyed keys have nothing left to re-wrap (and must stay destroyed).
                    keys.filter(
                        pk__gt=last_pk, destroyed_at__isnull=True, wrapped_key__isnull=False
                    )
                    .order_by("pk")
                    .only("id", "purpose", "wrapped_key")[:batch_size]
                )
                if not batch:
                    return rewrapped, already_newest
                last_pk = batch[-1].pk
                changed = []
                for data_key in batch:
                    if is_wrapped_by_newest_master_key(data_key.wrapped_key):
                        already_newest += 1
                        continue
                    try:
                        data_key.wrapped_key = rewrap_key(data_key.wrapped_key)
                    except ProtectedValueError as error:
                        progress = (
                            "" if dry_run else f"; the {rewrapped} re-wrapped so far are saved"
                        )
                        raise CommandError(
                            f"Data key #{data_key.pk} ({data_key.purpose}) cannot be unwrapped "
                            "by any key in HAVEN_FIELD_KEYS. Put the master key it was wrapped "
                            f"with back in HAVEN_FIELD_KEYS (after the newest key) and run again"
                            f"{progress}."
                        ) from error
                    changed.append(data_key)
                if changed and not dry_run:
                    DataKey.objects.bulk_update(changed, ["wrapped_key"])
                rewrapped += len(changed)

    # --- blind indexes ---------------------------------------------------------------------

    def models_with_blind_indexes(self) -> list[tuple[type[models.Model], list[BlindIndexField]]]:
        found = []
        for model in apps.get_models():
            opts = model._meta
            if opts.proxy or not opts.managed:
                continue
            index_fields = [f for f in opts.concrete_fields if isinstance(f, BlindIndexField)]
            if not index_fields:
                continue
            if issubclass(model, pghistory.models.Event):
                # History is append-only (a trigger refuses updates); its copies of old indexes
                # match nothing once the old blind-index key is gone.
                self.stdout.write(f"Skipped {opts.label}: history rows cannot be changed.")
                continue
            found.append((model, index_fields))
        return found

    def recompute_blind_indexes(
        self,
        model: type[models.Model],
        index_fields: list[BlindIndexField],
        *,
        batch_size: int,
        dry_run: bool,
    ) -> int:
        loaded = {model._meta.pk.name}
        for field in index_fields:
            loaded |= {field.name, *field.sources}
        rewritten = 0
        last_pk = None
        while True:
            with transaction.atomic():
                rows = model._base_manager.order_by("pk")
                if not dry_run:
                    rows = rows.select_for_update(skip_locked=False)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.only(*loaded)[:batch_size])
                if not batch:
                    return rewritten
                last_pk = batch[-1].pk
                changed = []
                for row in batch:
                    stale = False
                    for field in index_fields:
                        try:
                            index = field.recompute(row)
                        except ProtectedValueError as error:
                            raise CommandError(
                                f"{model._meta.label} #{row.pk}: {error} Run rotate_keys "
                                "without --blind-indexes first to find the key at fault."
                            ) from error
                        if getattr(row, field.attname) != index:
                            # Only the index column is written: the encrypted values stay as
                            # they are (and cannot be written back through an UPDATE anyway).
                            setattr(row, field.attname, index)
                            stale = True
                    if stale:
                        changed.append(row)
                if changed and not dry_run:
                    model._base_manager.bulk_update(changed, [f.name for f in index_fields])
                rewritten += len(changed)
