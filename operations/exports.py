"""Exports built in the background: the kinds apps register, starting a job (two clicks start one),
building it in a Celery task into private storage encrypted under a key of its own, opening it
again for the person who asked (permission checked again), and destroying it when it expires,
when it fails, or when an erasure takes a person it names.

The platform knows no domain app: payments, cases and housing register their builders in their
AppConfig.ready(). A builder writes its file to a binary stream, reports its progress, writes
the access log as the request did before, and returns the file's name and the cases whose
identity it holds (ids, never names)."""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import require_permission
from accounts.services import reveal_within_budget
from audit.models import AccessLog
from audit.services import log_access
from operations.models import ExportJob
from operations.queueing import queue_task
from operations.signals import export_finished
from protection.erasure import destroy_data_key
from protection.files import EncryptedFileWriter, read_encrypted_file
from protection.keys import ProtectedValueError, create_data_key

logger = logging.getLogger(__name__)

BUILD_TASK = "operations.build_export"
# How many exports one person may have waiting or being built at once.
MAX_ACTIVE_PER_PERSON = 5
# How often, at most, a build writes its progress (and its sign of life) to the database.
PROGRESS_EVERY_SECONDS = 1.0

Status = ExportJob.Status


class ExportError(Exception):
    """An export that cannot be started, built or opened; the message is for people."""


class ExportCancelled(Exception):
    """The job was failed, expired or erased while it was being built: stop and keep nothing."""


@dataclass(frozen=True)
class Built:
    """What a builder returns once it has written its file."""

    filename: str
    content_type: str
    # The cases whose identity (a name, a wallet) the file holds: an erasure destroys it.
    named_case_ids: Collection[int] = ()


class Progress:
    """Given to a builder: `total(n)` once, then `advance()` as it goes. Writes at most once a
    second; raises ExportCancelled when the job was stopped meanwhile."""

    def __init__(self, job: ExportJob) -> None:
        self.job_id = job.pk
        self.done = 0
        self.count = 0
        self._written_at = 0.0

    def total(self, count: int) -> None:
        self.count = count
        self._write(force=True)

    def advance(self, step: int = 1) -> None:
        self.done = min(self.done + step, self.count) if self.count else self.done + step
        self._write()

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written_at < PROGRESS_EVERY_SECONDS:
            return
        self._written_at = now
        updated = ExportJob.objects.filter(pk=self.job_id, status=Status.RUNNING).update(
            progress_done=min(self.done, self.count) if self.count else 0,
            progress_total=self.count,
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise ExportCancelled


@dataclass(frozen=True)
class ExportContext:
    job: ExportJob
    actor: User
    arguments: dict[str, Any]
    output: BinaryIO
    progress: Progress


@dataclass(frozen=True)
class ExportKind:
    code: str
    label: str | Promise
    # Checked when the job is asked for, when it is built and at every download.
    permission: str
    build: Callable[[ExportContext], Built]
    # Further checks on the person and arguments (PermissionDenied or ExportError).
    check: Callable[[User, dict[str, Any]], None] | None = None
    # The page the export belongs to, for the way back.
    back_url: Callable[[dict[str, Any]], str] | None = None
    # Whether the file may hold identities: an erasure stops such jobs while they are built.
    names_people: bool = False
    # The permission that let the builder print names: a file that holds some is downloaded
    # only while the reader still has it (a reader who lost it meanwhile gets nothing).
    names_permission: str | None = None
    # Whether the reader may still see every person the file names (on each case's team, for
    # instance): asked at every download of a file that holds names, with their case ids. A
    # reader taken off a team meanwhile gets nothing and builds the file again.
    names_still_visible: Callable[[User, list[int]], bool] | None = None
    # The record (and its field) a file that holds names reveals, as its builder logged it:
    # each download of such a file is a reveal of it, counted in the reader's reveal budget
    # (accounts/budgets.py: once a day a record) and refused past it.
    reveals: Callable[[dict[str, Any]], tuple[models.Model, str]] | None = None
    arguments: dict[str, type] = field(default_factory=dict)


_kinds: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    _kinds[kind.code] = kind
    return kind


def registered_codes() -> set[str]:
    return set(_kinds)


def get_kind(code: str) -> ExportKind:
    try:
        return _kinds[code]
    except KeyError as error:
        raise ExportError(_("This kind of export does not exist.")) from error


def _clean_arguments(kind: ExportKind, arguments: dict[str, Any]) -> dict[str, Any]:
    """Exactly the kind's arguments, each an id, a short code or a flag: they travel through
    the database, Redis and the logs, so nothing else is allowed."""
    if set(arguments) != set(kind.arguments):
        raise ExportError(_("This export was asked for with the wrong details."))
    cleaned = {}
    for name, expected in kind.arguments.items():
        value = arguments[name]
        if expected is bool and not isinstance(value, bool):
            raise ExportError(_("This export was asked for with the wrong details."))
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ExportError(_("This export was asked for with the wrong details."))
        if expected is str and (not isinstance(value, str) or len(value) > 20):
            raise ExportError(_("This export was asked for with the wrong details."))
        cleaned[name] = value
    return dict(sorted(cleaned.items()))


def check_allowed(*, kind: ExportKind, actor: User, arguments: dict[str, Any]) -> None:
    """May `actor` have this export now? PermissionDenied or ExportError if not."""
    require_permission(actor, kind.permission)
    if kind.check is not None:
        kind.check(actor, arguments)


def is_stuck(job: ExportJob, *, now: datetime.datetime | None = None) -> bool:
    """Waiting or building without a sign of life for longer than the setting."""
    limit = datetime.timedelta(minutes=settings.HAVEN_EXPORT_STUCK_MINUTES)
    return job.status in ExportJob.ACTIVE and job.heartbeat_at < (now or timezone.now()) - limit


def is_expired(job: ExportJob, *, now: datetime.datetime | None = None) -> bool:
    return job.status == Status.READY and job.expires_at <= (now or timezone.now())


def shown_status(job: ExportJob) -> str:
    """The status people see: a stuck job is failed, an expired file is expired, at once,
    whether or not the sweep has come by yet."""
    if is_stuck(job):
        return Status.FAILED
    if is_expired(job):
        return Status.EXPIRED
    return job.status


def shown_error(job: ExportJob) -> str:
    if is_stuck(job):
        return str(STUCK_MESSAGE)
    return job.error


STUCK_MESSAGE = gettext_lazy(
    "The file took too long to build (a worker may have stopped). Build it again."
)
QUEUE_DOWN_MESSAGE = gettext_lazy(
    "The task queue cannot be reached, so the file was not started. Build it again in a moment."
)
FAILED_MESSAGE = gettext_lazy(
    "Something went wrong while building the file; the administrators can see why in the "
    "server log. Build it again."
)


# --- starting ---------------------------------------------------------------------------------


def export_start(*, kind: str, actor: User, arguments: dict[str, Any]) -> ExportJob:
    """Ask for an export: the job that is already waiting or being built for the same person
    and export, or a new one, queued once the transaction commits. Two clicks start one job
    (a partial unique constraint settles a race between them)."""
    export_kind = get_kind(kind)
    cleaned = _clean_arguments(export_kind, arguments)
    check_allowed(kind=export_kind, actor=actor, arguments=cleaned)
    fingerprint = json.dumps([kind, cleaned], sort_keys=True, separators=(",", ":"))
    with transaction.atomic():
        for existing in ExportJob.objects.select_for_update().filter(
            requested_by=actor, fingerprint=fingerprint, status__in=ExportJob.ACTIVE
        ):
            if not is_stuck(existing):
                return existing
            _fail(existing, str(STUCK_MESSAGE))
        # One person cannot fill the queue: the workers also build everyone else's files.
        active = ExportJob.objects.filter(
            requested_by=actor,
            status__in=ExportJob.ACTIVE,
            heartbeat_at__gte=timezone.now()
            - datetime.timedelta(minutes=settings.HAVEN_EXPORT_STUCK_MINUTES),
        )
        if active.count() >= MAX_ACTIVE_PER_PERSON:
            raise ExportError(
                _(
                    "You have %(count)d exports on their way already: wait until one is ready, "
                    "then ask again."
                )
                % {"count": MAX_ACTIVE_PER_PERSON}
            )
        try:
            with transaction.atomic():
                job = ExportJob.objects.create(
                    kind=kind,
                    arguments=cleaned,
                    fingerprint=fingerprint,
                    requested_by=actor,
                    heartbeat_at=timezone.now(),
                )
        except IntegrityError:
            # The other click's job committed first: it is this one's too.
            return ExportJob.objects.get(
                requested_by=actor, fingerprint=fingerprint, status__in=ExportJob.ACTIVE
            )
        transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: uuid.UUID) -> None:
    if not queue_task(BUILD_TASK, job_id=str(job_id)):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if job.status == Status.QUEUED:
                _fail(job, str(QUEUE_DOWN_MESSAGE))


def export_again(*, job: ExportJob, actor: User) -> ExportJob:
    """ "Build again": a new job with the same arguments, for the person who asked."""
    if job.requested_by_id != actor.pk:
        raise PermissionDenied(_("Only the person who asked for an export can build it again."))
    return export_start(kind=job.kind, actor=actor, arguments=job.arguments)


# --- building (in the Celery task) ------------------------------------------------------------


def _storage_path(job: ExportJob) -> Path:
    """A name of its own for each attempt, so that deleting what one attempt left never
    touches the file of the next."""
    return Path(settings.MEDIA_ROOT) / "exports" / job.storage_name


def _part_path(job: ExportJob) -> Path:
    return _storage_path(job).with_suffix(".part")


@contextmanager
def _building_lock(job_id: uuid.UUID) -> Iterator[bool]:
    """A session-level advisory lock: one worker builds a job at a time. PostgreSQL releases it
    when the worker's connection ends, so a killed worker never keeps it."""
    key = uuid.UUID(str(job_id)).int & 0x7FFF_FFFF_FFFF_FFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (acquired,) = cursor.fetchone()
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _destroy_file(job: ExportJob) -> None:
    """Destroy the file's key (the ciphertext is unreadable even if a copy of the disk
    survives) and delete it once the transaction commits. Safe to call twice."""
    paths = (_storage_path(job), _part_path(job)) if job.storage_name else ()

    def delete() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(delete)
    if job.data_key_id is not None and job.data_key.destroyed_at is None:
        destroy_data_key(job.data_key)


def _fail(job: ExportJob, message: str) -> None:
    """Inside a transaction holding the job's lock."""
    _destroy_file(job)
    job.status, job.error, job.finished_at = Status.FAILED, message[:300], timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    transaction.on_commit(lambda: export_finished.send(sender=ExportJob, job=job))


def export_build(*, job_id: str) -> str:
    """Build the job's file, once, whichever worker gets it; after a worker died mid-build the
    job starts again from the beginning (a part file is never kept). Returns the job's status."""
    with _building_lock(job_id) as acquired:
        if not acquired:
            return "busy"
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status not in ExportJob.ACTIVE:
                return job.status if job else "missing"
            if is_stuck(job):
                _fail(job, str(STUCK_MESSAGE))
                return job.status
            _destroy_file(job)  # what an interrupted attempt left
            job.status, job.attempts = Status.RUNNING, job.attempts + 1
            job.started_at = job.heartbeat_at = timezone.now()
            job.progress_done = job.progress_total = 0
            job.data_key = create_data_key(purpose="export")
            job.storage_name = f"{uuid.uuid4().hex}.bin"
            job.save()
        return _build(job)


def _build(job: ExportJob) -> str:
    kind = _kinds.get(job.kind)
    actor = job.requested_by
    part = _part_path(job)
    part.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind is None:
            raise ExportError(_("This kind of export does not exist."))
        # The person may have lost the role or the payout since they asked.
        check_allowed(kind=kind, actor=actor, arguments=job.arguments)
        progress = Progress(job)
        with part.open("wb") as raw:
            writer = EncryptedFileWriter(raw, data_key_id=job.data_key_id)
            with translation.override(actor.preferred_language or settings.LANGUAGE_CODE):
                built = kind.build(
                    ExportContext(
                        job=job,
                        actor=actor,
                        arguments=job.arguments,
                        output=writer,
                        progress=progress,
                    )
                )
            size = writer.tell()
            writer.close()
    except ExportCancelled:
        part.unlink(missing_ok=True)
        return "cancelled"
    except (PermissionDenied, ExportError) as error:
        return _finish_failed(job, str(error))
    except Exception as error:
        # The kind of error only: a message could quote a value from the file.
        logger.error(
            "export.failed",
            extra={"export": job.kind, "job": str(job.pk), "error": type(error).__name__},
        )
        return _finish_failed(job, str(FAILED_MESSAGE))
    return _finish_ready(job, built, size=size)


def _finish_failed(job: ExportJob, message: str) -> str:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.status == Status.RUNNING:
            _fail(job, message)
        return job.status


def _finish_ready(job: ExportJob, built: Built, *, size: int) -> str:
    """`size`: of the file as it is downloaded (decrypted), which the response's Content-Length
    says: a browser given the encrypted size waits for bytes that never come."""
    with transaction.atomic():
        current = ExportJob.objects.select_for_update().get(pk=job.pk)
        if current.status != Status.RUNNING:
            # Failed as stuck, or erased, while it was being built: keep nothing.
            _destroy_file(current)
            return current.status
        _part_path(current).rename(_storage_path(current))
        now = timezone.now()
        current.status, current.finished_at = Status.READY, now
        current.heartbeat_at = now
        current.expires_at = now + datetime.timedelta(hours=settings.HAVEN_EXPORT_EXPIRY_HOURS)
        current.progress_done = current.progress_total
        current.filename, current.content_type = built.filename, built.content_type
        current.size = size
        current.named_case_ids = sorted(set(built.named_case_ids))
        current.error = ""
        current.save()
        transaction.on_commit(lambda: export_finished.send(sender=ExportJob, job=current))
    return Status.READY


# --- opening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    size: int
    chunks: Iterator[bytes]


def export_open(*, job: ExportJob, actor: User, request=None) -> Download:
    """The file, decrypted a chunk at a time, for the person who asked for it and only while
    they may still have it (the permission is checked again); every download is logged, and
    the download of a file that holds names is a reveal within the reader's budget."""
    if job.requested_by_id != actor.pk:
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            target=job,
            detail={"export": job.kind, "why": "not the requester"},
        )
        raise PermissionDenied(_("Only the person who asked for an export can download it."))
    kind = get_kind(job.kind)
    try:
        check_allowed(kind=kind, actor=actor, arguments=job.arguments)
        if kind.names_permission and job.named_case_ids:
            require_permission(actor, kind.names_permission)
        if (
            kind.names_still_visible is not None
            and job.named_case_ids
            and not kind.names_still_visible(actor, list(job.named_case_ids))
        ):
            raise PermissionDenied(
                _(
                    "This file names people you may no longer see (your access to some of "
                    "their cases ended since it was built). Build it again."
                )
            )
    except PermissionDenied:
        log_access(
            action=AccessLog.Action.DENIED,
            actor=actor,
            request=request,
            target=job,
            detail={"export": job.kind, "why": "no longer allowed"},
        )
        raise
    if is_expired(job):
        export_expire(job=job)
        raise ExportError(_("This file has expired and was destroyed. Build it again."))
    if job.status != Status.READY:
        raise ExportError(_("This file is not ready."))
    try:
        chunks = read_encrypted_file(_storage_path(job), data_key_id=job.data_key_id)
        first = next(chunks)
    except (ProtectedValueError, FileNotFoundError, StopIteration) as error:
        raise ExportError(_("This file can no longer be read. Build it again.")) from error
    if job.named_case_ids and kind.reveals is not None:
        # Past the reader's budget: RevealBudgetExceeded, logged and alerted, and no file.
        obj, field_name = kind.reveals(job.arguments)
        reveal_within_budget(
            actor=actor,
            obj=obj,
            field_name=field_name,
            request=request,
            detail={"download": job.kind, "job": str(job.pk), "names": len(job.named_case_ids)},
        )
    log_access(
        action=AccessLog.Action.EXPORT,
        actor=actor,
        request=request,
        target=job,
        # "download", not "export": the builder logged the export itself, as requests did.
        detail={"download": job.kind, "bytes": job.size},
    )

    def all_chunks() -> Iterator[bytes]:
        yield first
        yield from chunks

    return Download(
        filename=job.filename, content_type=job.content_type, size=job.size, chunks=all_chunks()
    )


# --- destroying ------------------------------------------------------------------------------


def export_expire(*, job: ExportJob, now: datetime.datetime | None = None) -> bool:
    """Destroy the file and its key if it has expired (by `now`); whether it had."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if not is_expired(job, now=now):
            return False
        _destroy_file(job)
        job.status = Status.EXPIRED
        job.save(update_fields=["status"])
        return True


def exports_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Beat's sweep: expired files destroyed with their keys, stuck jobs failed."""
    now = now or timezone.now()
    expired = stuck = 0
    limit = now - datetime.timedelta(minutes=settings.HAVEN_EXPORT_STUCK_MINUTES)
    for job in ExportJob.objects.filter(status=Status.READY, expires_at__lte=now).only("pk")[:1000]:
        expired += export_expire(job=job, now=now)
    for job_id in ExportJob.objects.filter(
        status__in=ExportJob.ACTIVE, heartbeat_at__lt=limit
    ).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().get(pk=job_id)
            if is_stuck(job, now=now):
                _fail(job, str(STUCK_MESSAGE))
                stuck += 1
    return {"expired": expired, "stuck": stuck}


def exports_erase_naming(*, case_ids: Collection[int]) -> int:
    """Called inside an erasure's transaction: destroy every file that names one of these cases,
    and stop the builds that could (they may be built again, without the person)."""
    count = 0
    naming = ExportJob.objects.filter(named_case_ids__overlap=list(case_ids)).exclude(
        status__in=[Status.EXPIRED, Status.ERASED]
    )
    could_name = ExportJob.objects.filter(
        status__in=ExportJob.ACTIVE,
        kind__in=[kind.code for kind in _kinds.values() if kind.names_people],
    )
    for job in (naming | could_name).select_for_update():
        _destroy_file(job)
        job.status, job.error = Status.ERASED, ""
        job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        count += 1
    return count


# --- reading ---------------------------------------------------------------------------------


def exports_of(*, user: User):
    return ExportJob.objects.filter(requested_by=user).order_by("-created_at")[:50]
