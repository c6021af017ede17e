"""Production settings: `check --deploy` is clean, and missing secrets stop start-up."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

# `env("NAME"`, `env.int("NAME"`, ... and `os.environ.setdefault("NAME"` in config/.
SETTINGS_VARIABLE = re.compile(
    r"""(?:\benv(?:\.\w+)?|os\.environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)

# Variables the test settings (or a developer's shell) may have put into this process's
# environment; a production start-up must see only what each test gives it.
HAVEN_VARIABLE_PREFIXES = ("DJANGO_", "HAVEN_", "CELERY_")
HAVEN_VARIABLES = {"DATABASE_URL", "DATABASE_CONN_MAX_AGE", "REDIS_URL"}


def production_environment(**overrides: str | None) -> dict[str, str]:
    """A production-like environment with fresh random secrets; None removes a variable."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(HAVEN_VARIABLE_PREFIXES) and name not in HAVEN_VARIABLES
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="haven.example.org",
        HAVEN_FIELD_KEYS=Fernet.generate_key().decode(),
        HAVEN_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
        HAVEN_BACKUP_KEYS=Fernet.generate_key().decode(),
    )
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def manage(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dotenv_defines(name: str) -> bool:
    """A `.env` file fills in variables missing from the environment, so a test that removes
    one cannot prove anything on a machine whose `.env` defines it."""
    dotenv = settings.BASE_DIR / ".env"
    if not dotenv.exists():
        return False
    lines = dotenv.read_text().splitlines()
    return any(line.strip().removeprefix("export ").startswith(f"{name}=") for line in lines)


def test_deploy_check_passes_without_warnings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", environment=production_environment()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "HAVEN_FIELD_KEYS", "HAVEN_BACKUP_KEYS"])
def test_production_refuses_to_start_without_a_secret(variable):
    if dotenv_defines(variable):
        pytest.skip(f".env defines {variable}")

    result = manage("check", environment=production_environment(**{variable: None}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Set the {variable} environment variable" in result.stderr


def test_production_refuses_to_switch_off_the_second_factor():
    result = manage("check", environment=production_environment(HAVEN_REQUIRE_2FA="false"))

    assert result.returncode != 0
    assert "HAVEN_REQUIRE_2FA cannot be switched off in production" in result.stderr


# `os.environ.get("NAME"` and `_positive_int("NAME"` in gunicorn's configuration.
GUNICORN_VARIABLE = re.compile(
    r"""(?:os\.environ\.get|_positive_int)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def variables_read_by_settings() -> set[str]:
    """What Django's settings and gunicorn's configuration read from the environment."""
    gunicorn_conf = (settings.BASE_DIR / "deploy" / "gunicorn.conf.py").read_text()
    return {
        name
        for path in (settings.BASE_DIR / "config").rglob("*.py")
        for name in SETTINGS_VARIABLE.findall(path.read_text())
    } | set(GUNICORN_VARIABLE.findall(gunicorn_conf))


def test_every_environment_variable_is_documented_in_env_example_and_configuration_page():
    env_example = (settings.BASE_DIR / ".env.example").read_text()
    configuration = (settings.BASE_DIR / "docs" / "configuration.md").read_text()
    in_env_example = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", env_example, re.MULTILINE))
    in_configuration_tables = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", configuration, re.MULTILINE)
    )

    variables = variables_read_by_settings()

    assert "HAVEN_FIELD_KEYS" in variables  # the pattern still finds what settings read
    assert in_env_example == variables
    assert in_configuration_tables == variables
