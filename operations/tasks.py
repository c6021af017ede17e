"""Celery tasks of operations. Their names keep the "accounts." prefix they had before the
platform was split: beat schedules and queued messages refer to tasks by name."""

import logging

from celery import shared_task

from operations import backups, exports

logger = logging.getLogger(__name__)


@shared_task(name="accounts.ping")
def ping() -> str:
    """Proves that a worker is consuming from the broker; used by health checks and tests."""
    return "pong"


# Acknowledged at the start, unlike the other tasks: a backup that outlives the broker's
# visibility timeout must not be delivered to a second worker, and one lost with its worker is
# simply taken again the next night.
@shared_task(name="accounts.backup_nightly", acks_late=False)
def backup_nightly() -> dict:
    """Write the database backup and the keyring, check them, and delete what is past its
    retention. The result (file names, sizes, hashes) is what administrators see in the admin."""
    try:
        written = backups.backup_all()
        deleted = backups.prune_backups()
    except Exception:
        logger.exception("Nightly backup failed; no backup was written this time.")
        raise
    result = {
        "written": [
            {"file": summary.path.name, "bytes": summary.file_size, "sha256": summary.file_sha256}
            for summary in written
        ],
        "deleted": [path.name for path in deleted],
    }
    logger.info("Nightly backup written.", extra={"backup": result})
    return result


@shared_task(name="accounts.keyring_backup", acks_late=False)
def keyring_backup() -> dict:
    """A keyring written just after an erasure. The newest keyring is never pruned: were the
    nightly backups to stop, the last one before the erasure would otherwise keep the destroyed
    key for good. Backups with no key configured (a demo) skip it."""
    try:
        summary = backups.backup_keyring()
    except backups.BackupError:
        logger.exception("Keyring backup after an erasure failed; the nightly backup writes one.")
        raise
    return {"file": summary.path.name, "bytes": summary.file_size, "sha256": summary.file_sha256}


@shared_task(name="operations.build_export", acks_late=True)
def build_export(job_id: str) -> str:
    """Build one export. Acknowledged at the end: a job lost with its worker is handed to the
    next one, which starts it again; a second delivery of a finished job does nothing."""
    return exports.export_build(job_id=job_id)


@shared_task(name="operations.sweep_exports")
def sweep_exports() -> dict:
    """Destroy the files past their expiry with their keys; fail the jobs stuck too long."""
    return exports.exports_sweep()
