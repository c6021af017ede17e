"""Layout I moved the data keys to protection and the access log to audit without losing
anything: the roles keep their permissions under the new labels, the append-only triggers are
installed under their new names with none orphaned, every beat schedule names a task that
exists, and a backup written before the move restores and migrates forward."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pghistory.models
import pgtrigger
import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from operations import backups
from protection.keys import unwrap_key

PREVIOUS = Path(__file__).parent / "previous_layout"
# What moved, as a permission's app label and model: (old label, model) -> new label.
MOVED = {("accounts", "accesslog"): "audit", ("accounts", "datakey"): "protection"}


def _relabelled(permission: str) -> str:
    app_label, codename = permission.split(".")
    model = codename.split("_", 1)[1] if "_" in codename else ""
    return f"{MOVED.get((app_label, model), app_label)}.{codename}"


def permissions_before_the_move() -> dict[str, set[str]]:
    """Each role's permissions as the code before the move left them, relabelled."""
    roles: dict[str, set[str]] = defaultdict(set)
    for line in (PREVIOUS / "role_permissions.txt").read_text().splitlines():
        role, permission = line.split("|")
        roles[role].add(_relabelled(permission))
    return dict(roles)


def _labels(roles: dict[str, set[str]]) -> set[str]:
    return {
        permission.split(".")[0] for permissions in roles.values() for permission in permissions
    }


# Roles that migrations after the move create (journeys, issue 17).
ROLES_SINCE_THE_MOVE = {"Journey coordinator"}

# Permissions that migrations after the move grant (need-to-know, issue 14).
GRANTED_SINCE_THE_MOVE = {
    "accounts.raise_reveal_budget",
    "cases.review_break_glass",
    "cases.view_caseteammember",
    "cases.view_breakglass",
}


def of_apps(roles: dict[str, set[str]], labels: set[str]) -> dict[str, set[str]]:
    """The roles' permissions in the given apps only (apps added since hold new ones), less
    those granted by later migrations."""
    return {
        role: {
            permission
            for permission in permissions
            if permission.split(".")[0] in labels and permission not in GRANTED_SINCE_THE_MOVE
        }
        for role, permissions in roles.items()
        if role not in ROLES_SINCE_THE_MOVE
    }


def role_permissions(cursor) -> dict[str, set[str]]:
    cursor.execute(
        "SELECT g.name, ct.app_label || '.' || p.codename FROM auth_group g "
        "JOIN auth_group_permissions gp ON gp.group_id = g.id "
        "JOIN auth_permission p ON p.id = gp.permission_id "
        "JOIN django_content_type ct ON ct.id = p.content_type_id"
    )
    roles: dict[str, set[str]] = defaultdict(set)
    for role, permission in cursor.fetchall():
        roles[role].add(permission)
    return dict(roles)


def installed_triggers(cursor) -> set[tuple[str, str]]:
    cursor.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger_%%'"
    )
    return set(cursor.fetchall())


def registered_triggers() -> set[tuple[str, str]]:
    return {
        (model._meta.db_table, trigger.get_pgid(model)) for model, trigger in pgtrigger.registered()
    }


def test_relabelling_changes_only_the_moved_models():
    assert _relabelled("accounts.view_accesslog") == "audit.view_accesslog"
    assert _relabelled("accounts.delete_datakey") == "protection.delete_datakey"
    assert _relabelled("accounts.view_audit") == "accounts.view_audit"
    assert _relabelled("accounts.view_user") == "accounts.view_user"


@pytest.mark.django_db
def test_each_role_keeps_the_permissions_it_had_before_the_move():
    expected = permissions_before_the_move()
    assert set(expected) == set(Group.objects.values_list("name", flat=True)) - ROLES_SINCE_THE_MOVE
    with connection.cursor() as cursor:
        assert of_apps(role_permissions(cursor), _labels(expected)) == expected
    # The moved permissions are there under their new labels, and granted.
    assert "audit.view_accesslog" in expected["Auditor"]
    assert "accounts.view_accesslog" not in expected["Auditor"]


@pytest.mark.django_db
def test_no_content_type_is_left_under_the_old_label():
    labels = set(ContentType.objects.values_list("app_label", "model"))
    assert ("audit", "accesslog") in labels and ("protection", "datakey") in labels
    assert not labels & set(MOVED)


@pytest.mark.django_db
def test_every_trigger_is_installed_under_its_name_and_none_is_orphaned():
    with connection.cursor() as cursor:
        installed = installed_triggers(cursor)
    registered = registered_triggers()
    assert installed == registered
    # The access log's and every history table's append-only trigger, under the new label.
    access_log = apps.get_model("audit", "AccessLog")
    assert (access_log._meta.db_table, "pgtrigger_access_log_append_only_d3c16") in installed
    event_tables = {
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.proxy
    }
    guarded = {table for table, name in installed if name.startswith("pgtrigger_append_only_")}
    assert event_tables and event_tables <= guarded


@pytest.mark.django_db
def test_every_beat_schedule_names_a_registered_task():
    celery_app.loader.import_default_modules()
    schedules = dict(PeriodicTask.objects.values_list("name", "task"))
    assert {"Nightly backup", "Monthly disbursement run"} <= set(schedules)
    unknown = {name: task for name, task in schedules.items() if task not in celery_app.tasks}
    assert not unknown


def _migrate(database: dict) -> subprocess.CompletedProcess:
    """`manage.py migrate` against another database, in a process of its own."""
    url = (
        f"postgres://{database.get('USER') or ''}:{database.get('PASSWORD') or ''}"
        f"@{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}/{database['NAME']}"
    )
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_backup_written_before_the_move_restores_and_migrates_forward(empty_database, tmp_path):
    [database_backup] = PREVIOUS.glob("database-*.hvb")
    [keyring] = PREVIOUS.glob("keyring-*.hvb")
    summary = backups.restore_backup(
        database_backup, keyring_path=keyring, database=empty_database, files_root=tmp_path
    )
    assert summary.files == 1 and summary.missing_keys == 0

    counted = [
        "accounts_datakey",
        "accounts_accesslog",
        "accounts_user",
        "cases_case",
        "cases_caseevent",
        "payments_payment",
    ]
    with backups.connect(empty_database) as restored:
        before = {
            table: restored.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in counted
        }
    assert all(before.values()), before

    result = _migrate(empty_database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "protection.0001_initial" in result.stdout

    with backups.connect(empty_database) as migrated, migrated.cursor() as cursor:
        after = {
            table: cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in counted
        }
        assert after == before
        expected = permissions_before_the_move()
        assert of_apps(role_permissions(cursor), _labels(expected)) == expected
        assert installed_triggers(cursor) == registered_triggers()
        # The erased case stays erased; the others still decrypt under the same master key.
        erased_keys = cursor.execute(
            "SELECT count(*) FROM accounts_datakey WHERE wrapped_key IS NULL"
        ).fetchone()[0]
        assert erased_keys == 1
        stored, wrapped = cursor.execute(
            "SELECT c.real_name, k.wrapped_key FROM cases_case c "
            "JOIN accounts_datakey k ON k.id = c.data_key_id "
            "WHERE k.wrapped_key IS NOT NULL ORDER BY c.id LIMIT 1"
        ).fetchone()
        plaintext = Fernet(unwrap_key(bytes(wrapped))).decrypt(stored.rsplit(":", 1)[1].encode())
        assert plaintext.decode()
        # The access log refuses rewriting under its new trigger.
        with pytest.raises(Exception, match="Cannot update or delete"):
            cursor.execute("DELETE FROM accounts_accesslog")
