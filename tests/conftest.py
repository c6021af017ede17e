"""Shared fixtures: staff in each role, logged-in clients with a verified second factor."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.db import connections
from django.test import Client
from django_otp.oath import totp

from accounts.roles import Role
from config.celery import app as celery_app
from operations.figures import forget_read_figures
from protection.keys import data_key_cache
from tests.databases import drop_database, set_up_from_template, template_name
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory, UserFactory

RUN_ID = pytest.StashKey[str]()

# What start-up loaded (Django, the apps, their models) lives for the whole run: frozen out of the
# collector's generations, so that full collections stop walking it again.
gc.freeze()


# The tests that take a minute or more (a trip through the migrations, the demo loader, a killed
# worker, a browser) start first within their group, each on whichever worker is free
# (`--maxschedchunk 1` in the Makefile), so that the workers finish together: one of them started
# last would leave the other core idle for minutes. The groups stay in pytest-django's order
# (tests in a rolled-back transaction, then those that commit, whose end empties every table), and
# every test still runs.
LONGEST_FIRST = (
    # First of all, as it needs no test database: it runs while another worker migrates one.
    "tests/operations/test_platform_move.py::test_a_backup_written_before_the_move",
    "tests/cases/test_encryption_migration.py",
    "tests/test_demo_data.py",
    "tests/operations/test_platform_move.py",
    "tests/housing/test_migration.py",
    "tests/faults/",
    "tests/browser/",
    "tests/payments/test_run_resilience.py",
    "tests/hostile/",
)


def _commits(item: pytest.Item) -> bool:
    """As pytest-django groups a test: does it commit (a transactional test, a live server)?"""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker is not None and (marker.kwargs.get("transaction") or (marker.args[:1] == (True,))))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (index for index, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    groups = {id(item): _commits(item) for item in items}
    # A stable sort: pytest-django has already put the committing tests last; that stays so.
    items.sort(key=lambda item: (groups[id(item)], rank(item)))


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
    tmp_path_factory,
) -> Iterator[None]:
    """pytest-django's test databases, except that the workers of one run migrate once between
    them (tests/databases.py). The migrations still run from an empty database on every run."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose

    def migrate_own() -> list[tuple]:
        return setup_databases(
            verbosity=verbosity,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=keepdb,
        )

    worker = getattr(request.config, "workerinput", None)
    with django_db_blocker.unblock():
        if worker is None or keepdb or aliases != {"default"}:
            configuration = migrate_own()
        else:
            configuration = set_up_from_template(
                lock_path=tmp_path_factory.getbasetemp().parent / "haven-test-database.lock",
                run_id=worker["haven_run"],
                serialize="default" in serialized_aliases,
                migrate_own=migrate_own,
            )
    yield
    with django_db_blocker.unblock():
        if django_db_keepdb:
            # A test that commits empties every table when it ends; serialized_rollback brings
            # the roles of the data migrations back only at the start of the next one. Bring
            # them back once more, so that the database kept for the next run still has them.
            for connection in connections.all():
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents:
                    connection.creation.deserialize_db_from_string(contents)
                connection.close()
        else:
            teardown_databases(configuration, verbosity=verbosity)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.stash[RUN_ID] = uuid.uuid4().hex


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """(pytest-xdist, in the controller) Each worker learns the run it belongs to."""
    node.workerinput["haven_run"] = node.config.stash[RUN_ID]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's template database goes once every worker has finished (in the controller)."""
    config = session.config
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        from pytest_django.plugin import blocking_manager_key

        try:
            with config.stash[blocking_manager_key].unblock():
                drop_database(template_name(config.stash[RUN_ID]))
        except Exception as error:  # a leftover template must not fail the run
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"The template test database was not dropped: {error!r}")


@pytest.fixture(autouse=True)
def _celery_not_left_eager():
    """A test that makes Celery run tasks in place must undo it: left on, a later test's task
    would run inside that test's own process (and one waiting on the test's lock, for ever)."""
    yield
    assert not celery_app.conf.task_always_eager, "This test left Celery in eager mode."


@pytest.fixture(autouse=True)
def _private_files_in_a_temporary_folder(settings, tmp_path_factory):
    """Exports and evidence written by a test go to a folder of its own, never to var/private
    of the working tree (a test may point MEDIA_ROOT elsewhere still)."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _forget_cached_data_keys():
    """Unwrapped data keys are cached per process; a test must not see another test's keys."""
    data_key_cache.clear()
    yield
    data_key_cache.clear()


@pytest.fixture(autouse=True)
def _forget_read_figures():
    """Each process keeps the shared figures it read; a test must not see another test's."""
    forget_read_figures()
    yield
    forget_read_figures()


def current_totp(device) -> str:
    """The code an authenticator app would show now for this device."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def make_staff(db) -> Callable:
    def make(*roles: str, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def login(db) -> Callable[..., Client]:
    """A client logged in with password and a verified second factor, as a browser would be."""

    def log_in(user, client: Client | None = None) -> Client:
        client = client or Client()
        device = user.totpdevice_set.filter(confirmed=True).first() or TOTPDeviceFactory(user=user)
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302, "password step failed"
        response = client.post("/accounts/2fa/verify/", {"token": current_totp(device)})
        assert response.status_code == 302, "second factor step failed"
        return client

    return log_in


@pytest.fixture
def auditor(make_staff):
    return make_staff(Role.AUDITOR)


@pytest.fixture
def administrator(make_staff):
    return make_staff(Role.ADMINISTRATOR, is_staff=True)
