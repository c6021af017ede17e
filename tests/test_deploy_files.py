"""The deployment files in deploy/: Docker Compose, the systemd units, nginx and gunicorn.

No Docker engine or systemd runs here, so the files are read as data and held to what an
operator (or an attacker) would notice: a secret in the compose file, a database port open to
the world, an unpinned image, a service nobody restarts, a worker on the demo settings.
"""

from __future__ import annotations

import configparser
import functools
import re
import runpy
import shlex
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from deploy import healthcheck

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"

EXPECTED_SERVICES = {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"}
ONE_SHOT_SERVICES = {"migrate"}
APPLICATION_SERVICES = {"migrate", "web", "worker", "beat"}
PRODUCTION_SETTINGS = "config.settings.production"
SECRET_NAME = re.compile(r"SECRET|KEY|PASSWORD|TOKEN", re.IGNORECASE)
# A Fernet key (32 bytes, url-safe base64), or any long run of random-looking characters.
FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")
LONG_RUN = re.compile(r"[A-Za-z0-9_+/=-]{32,}")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^@\s/]+@")


def looks_random(run: str) -> bool:
    """Upper case, lower case and digits mixed: a generated token, not a word or a path."""
    return all(re.search(kind, run) for kind in ("[A-Z]", "[a-z]", "[0-9]"))


def compose_text() -> str:
    return (DEPLOY / "docker-compose.yml").read_text()


@functools.cache
def compose() -> dict:
    return yaml.safe_load(compose_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def environment(service: dict) -> dict[str, str | None]:
    """A service's environment, whichever form (mapping or list of NAME=value) it is written in."""
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in value)
    return {name: None if item is None else str(item) for name, item in value.items()}


def command(service: dict) -> list[str]:
    value = service.get("command") or []
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    assert parser.read(SYSTEMD / name), f"deploy/systemd/{name} is missing"
    return parser


# --- Docker Compose --------------------------------------------------------------------------


def test_compose_has_every_service_of_a_haven_installation():
    assert set(services()) >= EXPECTED_SERVICES


def test_every_image_is_pinned_to_a_version():
    for name, service in services().items():
        image = service.get("image", "")
        repository, _, tag = image.rpartition(":") if ":" in image else (image, "", "")
        assert repository and tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} is not pinned"
        if "build" not in service:  # someone else's image: a version, not a moving name
            assert re.match(r"\d", tag), f"{name}: image {image!r} is not pinned to a version"


def test_every_long_running_service_has_a_health_check_and_is_restarted():
    for name, service in services().items():
        if name in ONE_SHOT_SERVICES:
            assert service.get("restart") == "no", f"{name} runs once and must not restart"
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name}: no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: malformed health check"
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name


def test_application_services_wait_for_migrations_and_healthy_dependencies():
    for name in APPLICATION_SERVICES - ONE_SHOT_SERVICES:
        depends_on = services()[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name


def test_database_broker_files_and_backups_are_on_named_volumes():
    declared = set(compose()["volumes"])
    mounts = {
        (name, mount.split(":")[1]): mount.split(":")[0]
        for name, service in services().items()
        for mount in service.get("volumes", [])
    }

    for service_name, target in [
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
        ("web", "/srv/haven/private"),
        ("worker", "/srv/haven/private"),
        ("worker", "/srv/haven/backups"),
    ]:
        source = mounts.get((service_name, target))
        assert source in declared, f"{service_name}:{target} is not on a named volume"


def test_only_the_proxy_publishes_ports():
    publishing = {name for name, service in services().items() if service.get("ports")}
    on_host_network = {
        name for name, service in services().items() if service.get("network_mode") == "host"
    }

    assert publishing == {"proxy"}
    assert not on_host_network


def test_database_and_broker_are_only_on_a_network_without_a_way_out():
    networks = compose()["networks"]
    for name in ("postgres", "redis"):
        for network in services()[name]["networks"]:
            assert (networks[network] or {}).get("internal") is True, f"{name} on {network}"


def test_no_secret_is_written_in_the_compose_file():
    for name, service in services().items():
        for variable, value in environment(service).items():
            if not SECRET_NAME.search(variable) or not value:
                continue
            if variable.endswith("_FILE") and value.startswith("/run/secrets/"):
                continue  # a path to a Docker secret, not the secret
            assert value.startswith("${"), f"{name}: {variable} has a literal value"

    text = compose_text()
    assert not FERNET_KEY.search(text)
    assert not [run for run in LONG_RUN.findall(text) if looks_random(run)]
    assert not CREDENTIALS_IN_URL.search(text)


def test_application_services_use_the_production_settings_and_the_env_file():
    for name in APPLICATION_SERVICES:
        service = services()[name]
        assert environment(service).get("DJANGO_SETTINGS_MODULE") == PRODUCTION_SETTINGS, name
        env_files = service["env_file"]
        env_files = [env_files] if isinstance(env_files, str) else env_files
        assert env_files == ["haven.env"], name


def test_services_run_the_right_programs():
    web, worker, beat = (command(services()[name]) for name in ("web", "worker", "beat"))

    assert web[0] == "gunicorn" and web[-1] == "config.wsgi"
    assert web[web.index("--config") + 1] == "deploy/gunicorn.conf.py"
    assert worker[:4] == ["celery", "-A", "config", "worker"]
    assert worker[worker.index("-Q") + 1] == "haven"
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat
    assert "migrate" in " ".join(command(services()["migrate"]))


def test_files_the_compose_file_mounts_exist():
    for name, service in services().items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./nginx/"):
                assert (DEPLOY / source).is_file(), f"{name}: {source} is missing"


def git_ignores(path: str) -> bool:
    result = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_secrets_files_are_never_committed():
    for path in (
        "deploy/haven.env",
        "deploy/secrets/postgres_password",
        "deploy/secrets/tls/privkey.pem",
    ):
        assert git_ignores(path), f"{path} is not ignored by git"
    assert not git_ignores("deploy/haven.env.example")
    assert not git_ignores("deploy/docker-compose.yml")


def dockerignore_regex(pattern: str) -> re.Pattern:
    """Docker's pattern syntax: `**/` any folders, `*` and `?` within one path segment."""
    regex, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] in "*?":
            regex, index = regex + ("[^/]*" if pattern[index] == "*" else "[^/]"), index + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex + r"\Z")


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether the image build leaves out `path` or a folder above it; the last matching
    pattern wins, as in Docker."""
    parts = path.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for pattern in patterns:
        regex = dockerignore_regex(pattern.removeprefix("!"))
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not pattern.startswith("!")
    return excluded


def test_image_build_never_sees_secrets_or_the_local_virtualenv():
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    for path in (
        "deploy/haven.env",
        ".env",
        "deploy/secrets/postgres_password",
        ".venv/bin/python",
        "var/private/evidence.bin",
    ):
        assert dockerignore_excludes(path, patterns), f"the image build would include {path}"
    for path in ("manage.py", "deploy/gunicorn.conf.py", "deploy/healthcheck.py", "locale"):
        assert not dockerignore_excludes(path, patterns), f"the image build would miss {path}"


def test_image_runs_as_an_unprivileged_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)

    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert all(base.startswith("python:3.11-slim") for base in bases)


# --- The environment file ------------------------------------------------------------------


def variables_required_in_production() -> set[str]:
    """The variables of `.env.example` paragraphs marked REQUIRED IN PRODUCTION."""
    paragraphs = (ROOT / ".env.example").read_text().split("\n\n")
    return {
        name
        for paragraph in paragraphs
        if "REQUIRED IN PRODUCTION" in paragraph
        for name in re.findall(r"^# ([A-Z][A-Z0-9_]*)=", paragraph, re.MULTILINE)
    }


def test_env_file_example_lists_every_variable_production_requires():
    example = (DEPLOY / "haven.env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", example, re.MULTILINE))

    required = variables_required_in_production()

    assert {"DJANGO_SECRET_KEY", "HAVEN_FIELD_KEYS"} <= required  # the parsing still works
    assert required <= set(assigned), required - set(assigned)
    for name, value in assigned.items():
        if SECRET_NAME.search(name):
            assert value == "", f"haven.env.example gives {name} a value"


# --- systemd -------------------------------------------------------------------------------

HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
}
UNITS = ["haven-web.service", "haven-worker.service", "haven-beat.service"]


@pytest.mark.parametrize("name", UNITS)
def test_systemd_unit_runs_as_haven_with_production_settings_and_hardening(name):
    service = unit(name)["Service"]

    assert service["User"] == "haven"
    assert service["EnvironmentFile"] == "/etc/haven/haven.env"
    assert service["Environment"] == f"DJANGO_SETTINGS_MODULE={PRODUCTION_SETTINGS}"
    assert service["Restart"] == "on-failure"
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{name}: {key}={service.get(key)!r}"
    assert unit(name)["Install"]["WantedBy"] == "haven.target"


def test_systemd_units_start_the_right_programs():
    web = shlex.split(unit("haven-web.service")["Service"]["ExecStart"])
    worker = shlex.split(unit("haven-worker.service")["Service"]["ExecStart"])
    beat = shlex.split(unit("haven-beat.service")["Service"]["ExecStart"])

    assert web[0].endswith("/bin/gunicorn") and web[-1] == "config.wsgi"
    assert web[web.index("--config") + 1] == "deploy/gunicorn.conf.py"
    bind = web[web.index("--bind") + 1]
    assert bind.startswith(("unix:", "127.0.0.1:"))
    assert worker[0].endswith("/bin/celery") and worker[1:4] == ["-A", "config", "worker"]
    assert worker[worker.index("-Q") + 1] == "haven"
    assert beat[0].endswith("/bin/celery") and beat[1:4] == ["-A", "config", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_gunicorn_socket_is_the_one_nginx_uses_and_only_nginx_may_open():
    socket_unit = unit("haven-web.socket")["Socket"]
    web = shlex.split(unit("haven-web.service")["Service"]["ExecStart"])
    upstream = (DEPLOY / "nginx" / "upstream-systemd.conf").read_text()

    assert web[web.index("--bind") + 1] == f"unix:{socket_unit['ListenStream']}"
    assert f"server unix:{socket_unit['ListenStream']};" in upstream
    assert socket_unit["SocketMode"] == "0600" and socket_unit["SocketUser"] == "www-data"


def test_only_web_and_worker_may_write_and_only_where_they_must():
    writable = {name: unit(name)["Service"].get("ReadWritePaths", "").split() for name in UNITS}

    assert writable["haven-web.service"] == ["/srv/haven/private"]
    assert set(writable["haven-worker.service"]) == {"/srv/haven/private", "/srv/haven/backups"}
    assert writable["haven-beat.service"] == []


def test_haven_target_starts_every_unit():
    wanted = unit("haven.target")["Unit"]["Wants"].split()

    assert set(UNITS) <= set(wanted)


# --- gunicorn and nginx --------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **variables: str) -> dict:
    for name in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_defaults_are_sane(monkeypatch):
    settings = gunicorn_settings(monkeypatch)

    assert settings["workers"] == settings["_cores"]() + 1
    assert 30 <= settings["timeout"] <= 120
    assert settings["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert settings["control_socket_disable"] is True
    # The access log has the path only: no query string (%(r)s, %(q)s), no Referer (%(f)s).
    assert "%(U)s" in settings["access_log_format"]
    for field in ("%(r)s", "%(q)s", "%(f)s"):
        assert field not in settings["access_log_format"]


def test_gunicorn_sizes_come_from_the_environment(monkeypatch):
    settings = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_TIMEOUT="45")

    assert (settings["workers"], settings["timeout"]) == (3, 45)


def test_gunicorn_refuses_zero_workers_with_a_clear_message(monkeypatch):
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a positive whole number"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="0")


def nginx_directive(name: str) -> str:
    match = re.search(
        rf"^\s*{name}\s+([^;]+);", (DEPLOY / "nginx" / "haven.conf").read_text(), re.M
    )
    assert match, f"nginx: no {name}"
    return match.group(1).strip()


def test_nginx_waits_longer_than_gunicorn_and_accepts_the_largest_evidence(monkeypatch):
    from django.conf import settings as django_settings

    timeout = gunicorn_settings(monkeypatch)["timeout"]
    body_limit_megabytes = int(nginx_directive("client_max_body_size").removesuffix("m"))

    assert int(nginx_directive("proxy_read_timeout").removesuffix("s")) > timeout
    assert body_limit_megabytes * 1024 * 1024 > django_settings.HAVEN_EVIDENCE_MAX_BYTES


def test_nginx_limits_sign_in_attempts_and_replaces_forwarded_for():
    config = (DEPLOY / "nginx" / "haven.conf").read_text()
    limited = [
        pattern
        for pattern, body in re.findall(r"location ~ (\S+) \{([^}]*)\}", config)
        if "limit_req zone=haven_sign_in" in body
    ]

    for path in ("/accounts/login/", "/accounts/2fa/verify/", "/admin/login/"):
        assert any(re.search(pattern, path) for pattern in limited), path
    assert not any(re.search(pattern, "/cases/") for pattern in limited)
    # The first hop must not trust an X-Forwarded-For that a client made up.
    assert nginx_directive("proxy_set_header X-Forwarded-For") == "$remote_addr"
    assert nginx_directive("proxy_set_header X-Forwarded-Proto") == "$scheme"
    # The access log never records query strings.
    log_format = re.search(r"log_format haven ([^;]+);", config).group(1)
    assert "$uri" in log_format and "$request_uri" not in log_format
    assert "$request " not in log_format and "$args" not in log_format


# --- Container health checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed_hosts", "expected"),
    [
        ("haven.example.org,www.haven.example.org", "haven.example.org"),
        (" .example.org ", "example.org"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_health_check_asks_for_a_host_django_accepts(allowed_hosts, expected):
    assert healthcheck.probe_host(allowed_hosts) == expected


class _HealthHandler(BaseHTTPRequestHandler):
    status = 200
    hosts: list[str] = []

    def do_GET(self):
        type(self).hosts.append(self.headers["Host"])
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def health_server():
    _HealthHandler.hosts = []
    server = HTTPServer(("127.0.0.1", 0), _HealthHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_port}/healthz"
    server.shutdown()
    server.server_close()


def test_web_health_check_is_healthy_only_when_healthz_answers_200(health_server):
    _server, url = health_server

    _HealthHandler.status = 200
    assert healthcheck.web_is_healthy(url, "haven.example.org") is True
    _HealthHandler.status = 503
    assert healthcheck.web_is_healthy(url, "haven.example.org") is False
    assert _HealthHandler.hosts == ["haven.example.org", "haven.example.org"]


def test_web_health_check_is_unhealthy_when_nothing_listens():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    assert healthcheck.web_is_healthy(f"http://127.0.0.1:{port}/healthz", "x", timeout=1) is False
