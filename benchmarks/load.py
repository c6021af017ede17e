"""Load test: staff working at the same time on the case list, case pages, the occupancy board and
the dashboard, against gunicorn with the production settings, on the demo organisation.

Each virtual user is a member of staff of their own (a copy of the demo account of a role, so
the dashboard and the pages allowed differ by role) with an authenticator of their own, and
logs in through the real login and second-factor pages. Then two phases, each a warm-up and a
measured period:

- target: --users users (20) each ask for a page, read it, pause about --think seconds (1, drawn
  from half to one and a half times that) and go on. This is the target of issue 7: p95 under
  200 ms, no errors. One second is far quicker than anyone reads a case, so it is a harsh
  reading of "20 people using Haven at the same time".
- capacity: the same users with no pause at all, to show how many requests per second the
  machine answers at most and what latency looks like when it is saturated.

Prints requests per second, p50/p95/p99 latency per page and overall, errors, and the CPU taken
by gunicorn, PostgreSQL and this client (the client runs on the same cores). Exits 1 on any
error (an answer other than 200, or a failed connection) or when it cannot run; 0 otherwise,
also when the latency target is missed (benchmarks inform, they do not fail the build).

    .venv/bin/python benchmarks/load.py                       # as `make bench` runs it
    .venv/bin/python benchmarks/load.py --reuse-database      # skip refilling on the next run
    .venv/bin/python benchmarks/load.py --users 40 --think 5 --workers 3 --threads 4
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.database import CELERY_QUEUE, purge_benchmark_queue, throwaway_database  # noqa: E402
from benchmarks.pages import load_demo_organisation  # noqa: E402

DATABASE_NAME = "haven_bench_load"
TARGET_P95_MS = 200
TARGET_USERS = 20
# On the scale database (--database haven_bench_scale, 100,000 cases): issue 22's target.
SCALE_TARGET_P95_MS = 100
SCALE_TARGET_USERS = 50
HOST = "127.0.0.1"

# The pages measured, and which of them each role uses (a role is never sent to a page it may
# not see: a 403 there would be an error of the benchmark, not of Haven).
DASHBOARD = "dashboard"
CASE_LIST = "case list"
CASE_DETAIL = "case detail"
BOARD = "occupancy board"
PAGES = (DASHBOARD, CASE_LIST, CASE_DETAIL, BOARD)
ROLE_PAGES = {
    "casemanager": (DASHBOARD, CASE_LIST, CASE_DETAIL, BOARD),
    "intake": (DASHBOARD, CASE_LIST, CASE_DETAIL),
    "verifier": (DASHBOARD, CASE_LIST, CASE_DETAIL),
    "housing": (DASHBOARD, BOARD),
}
# Virtual user i is a member of staff with role USER_ROLES[i % 5]: with 20 users, 8 case
# managers and 4 each of intake officers, verifiers and housing coordinators.
USER_ROLES = ("casemanager", "intake", "casemanager", "verifier", "housing")
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class BenchmarkFailed(Exception):
    """The load test cannot run; the message says why."""


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users", type=positive, default=TARGET_USERS, help=f"concurrent users ({TARGET_USERS})"
    )
    parser.add_argument("--duration", type=seconds, default=30.0, help="seconds measured (30)")
    parser.add_argument(
        "--warmup", type=seconds, default=5.0, help="seconds of load before measuring (5)"
    )
    parser.add_argument(
        "--think",
        type=seconds,
        default=1.0,
        help="mean seconds a user pauses between pages in the target phase (1)",
    )
    parser.add_argument(
        "--capacity",
        type=seconds,
        default=15.0,
        help="seconds measured in the capacity phase, without think time; 0 skips it (15)",
    )
    parser.add_argument(
        "--workers",
        type=positive,
        default=cores + 1,
        help=f"gunicorn worker processes (cores + 1 = {cores + 1}, as deploy/gunicorn.conf.py)",
    )
    parser.add_argument(
        "--threads",
        type=positive,
        default=1,
        help="threads per gunicorn worker; more than 1 uses the gthread worker class (1)",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help=f"leave the {DATABASE_NAME} database in place afterwards, for inspection",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help=f"use (and keep) the {DATABASE_NAME} database of an earlier run with this option, "
        "skipping most of the filling",
    )
    parser.add_argument(
        "--database",
        default="",
        help="load this existing, migrated database as it is instead of the demo organisation "
        "(e.g. haven_bench_scale, kept by `benchmarks/scale.py --reuse`); never dropped",
    )
    arguments = parser.parse_args(argv)
    if arguments.duration <= 0:
        parser.error("--duration: must be more than 0")
    return arguments


def progress(message: str) -> None:
    print(message, flush=True)


# --- the staff and their authenticators ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Staff:
    username: str
    role: str  # the demo account it was cloned from
    totp_key: bytes


def create_staff(users: int) -> list[Staff]:
    """One account per virtual user, with the role (groups), password and language of the demo
    account it copies, and a confirmed TOTP device: 20 people, 20 phones."""
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from audit.services import audit_context

    demo_accounts = {user.username: user for user in User.objects.filter(username__in=ROLE_PAGES)}
    staff = []
    with audit_context(actor=None, reason="load benchmark"):
        for index in range(users):
            role = USER_ROLES[index % len(USER_ROLES)]
            model = demo_accounts[role]
            user, _created = User.objects.update_or_create(
                username=f"load-{role}-{index + 1:02d}",
                defaults={
                    "first_name": model.first_name,
                    "last_name": f"{model.last_name} {index + 1}",
                    "email": f"load-{index + 1}@haven.example",
                    "password": model.password,  # the demo password, already hashed
                    "preferred_language": model.preferred_language,
                    "is_staff": model.is_staff,
                },
            )
            user.groups.set(Group.objects.filter(user=model))
            # A fresh device: one reused from an earlier run may refuse a code it has seen.
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
            staff.append(Staff(username=user.username, role=role, totp_key=device.bin_key))
    return staff


def totp_now(key: bytes) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(key).token():06d}"


# --- gunicorn with the production settings ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def production_environment(database_url: str, static_root: str) -> dict[str, str]:
    """Production settings as a deployment behind nginx runs them: DEBUG off, https redirects,
    secure cookies, second factor required. The field keys are the demo's (the data is the
    demo's); the secret key and the backup key are fresh."""
    from cryptography.fernet import Fernet
    from django.conf import settings

    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "HAVEN_", "GUNICORN_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_STATIC_ROOT=static_root,
        DATABASE_URL=database_url,
        HAVEN_FIELD_KEYS=",".join(settings.HAVEN_FIELD_KEYS),
        HAVEN_BLIND_INDEX_KEY=settings.HAVEN_BLIND_INDEX_KEY,
        HAVEN_REQUIRE_2FA="true",
        # Required at start-up; the benchmark writes no backup.
        HAVEN_BACKUP_KEYS=Fernet.generate_key().decode(),
        CELERY_TASK_DEFAULT_QUEUE=CELERY_QUEUE,
    )
    return environment


def collect_static(environment: dict[str, str]) -> None:
    """The production storage serves hashed file names from a manifest: collect it first."""
    collect = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if collect.returncode != 0:
        raise BenchmarkFailed(f"collectstatic failed:\n{collect.stderr[-2000:]}")


class Gunicorn:
    def __init__(
        self, environment: dict[str, str], log: IO[str], *, workers: int, threads: int
    ) -> None:
        self.port = free_port()
        self.log = log
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--threads",
            str(threads),
            # A gunicorn.conf.py in the working directory would otherwise apply.
            "--config",
            os.devnull,
        ]
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkFailed(f"gunicorn stopped at start:\n{self.log_tail()}")
            browser = Browser(self.port)
            try:
                if browser.get("/healthz").status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                browser.close()
            time.sleep(0.2)
        raise BenchmarkFailed(f"gunicorn did not answer /healthz in {timeout:.0f} s")

    def log_tail(self, characters: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read()[-characters:]

    def cpu_seconds(self) -> float | None:
        """CPU time of the master and its workers so far (Linux /proc), or None."""
        return process_tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _proc_stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = _proc_stat(pid)
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        return None


def process_tree_cpu_seconds(pid: int) -> float | None:
    """The process and its children (gunicorn's master and workers)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_proc_stat(int(entry.name))[1]) == pid:  # parent pid
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    times = [process_cpu_seconds(each) for each in pids]
    return None if times[0] is None else sum(time for time in times if time is not None)


def machine_cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all cores since boot (Linux /proc/stat), or None."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


# --- the client: one keep-alive connection and a cookie jar per user ---------------------------


@dataclasses.dataclass
class Answer:
    status: int
    location: str
    body: bytes


class Browser:
    """What nginx would pass on: https in X-Forwarded-Proto, the client in X-Forwarded-For."""

    def __init__(self, port: int, address: str = "10.0.0.1") -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.headers = {
            "Host": f"{HOST}:{port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": address,
            "User-Agent": "haven-load-benchmark",
            "Accept": "text/html",
            "Accept-Language": "en",
        }

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}:{self.port}"
            headers["Referer"] = f"https://{HOST}:{self.port}{path}"
        reused = self.connection.sock is not None
        try:
            return self._send(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection as we reused it: a browser
            # retries on a new connection, and so do we (once).
            self.connection.close()
            if not reused:
                raise
            return self._send(method, path, body, headers)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Answer(response.status, response.headers.get("Location", ""), content)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_form(self, path: str, page: Answer, fields: dict[str, str]) -> Answer:
        match = CSRF_FIELD.search(page.body)
        if match is None:
            raise BenchmarkFailed(f"no CSRF token in the form of {path}")
        return self.request("POST", path, {"csrfmiddlewaretoken": match.group(1).decode()} | fields)

    def close(self) -> None:
        self.connection.close()


def log_in(browser: Browser, staff: Staff) -> None:
    """Password, then the code of the user's authenticator, as a person does."""
    from accounts.demo import DEMO_PASSWORD

    login = browser.get("/accounts/login/")
    answer = browser.post_form(
        "/accounts/login/",
        login,
        {"username": staff.username, "password": DEMO_PASSWORD, "next": "/"},
    )
    # Redirected to / and from there to the second factor (the path may carry ?next=).
    for _hop in range(3):
        if answer.status != 302:
            break
        path = urlsplit(answer.location)._replace(scheme="", netloc="").geturl()
        answer = browser.get(path)
    if answer.status != 200 or b'name="token"' not in answer.body:
        raise BenchmarkFailed(f"{staff.username}: no second-factor form after the password")
    verified = browser.post_form(
        "/accounts/2fa/verify/", answer, {"token": totp_now(staff.totp_key), "next": "/"}
    )
    home = browser.get("/")
    if verified.status != 302 or home.status != 200 or b'name="token"' in home.body:
        raise BenchmarkFailed(f"{staff.username}: the second factor was not accepted")


# --- the load --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Phase:
    name: str
    think: float  # mean seconds between a user's pages (each pause drawn from 0.5x to 1.5x)
    warmup: float
    duration: float


@dataclasses.dataclass
class Sample:
    page: str
    milliseconds: float
    error: str | None  # "404", "ConnectionResetError"...


def page_path(page: str, randomness: random.Random, case_pks: list[int]) -> str:
    if page == CASE_DETAIL:
        return f"/cases/{randomness.choice(case_pks)}/"
    return {DASHBOARD: "/", CASE_LIST: "/cases/", BOARD: "/housing/"}[page]


def virtual_user(
    index: int,
    browser: Browser,
    staff: Staff,
    case_pks: list[int],
    phase: Phase,
    window: tuple[float, float],
    samples: list[Sample],
) -> None:
    """Page after page until the window ends; samples only requests started inside it."""
    start, end = window
    randomness = random.Random(f"{phase.name}-{index}")
    pages = ROLE_PAGES[staff.role]
    turn = index  # users start on different pages
    if phase.think:
        time.sleep(randomness.uniform(0, phase.think))  # not all at the same moment
    while (started := time.perf_counter()) < end:
        page = pages[turn % len(pages)]
        turn += 1
        error = None
        try:
            answer = browser.get(page_path(page, randomness, case_pks))
            if answer.status != 200:
                error = str(answer.status)
        except (OSError, http.client.HTTPException) as failure:
            error = type(failure).__name__
            browser.close()
        if started >= start:
            samples.append(Sample(page, (time.perf_counter() - started) * 1000, error))
        if phase.think:
            time.sleep(randomness.uniform(0.5, 1.5) * phase.think)


class CpuMeter:
    """CPU seconds used in a measured window by this client, gunicorn, the PostgreSQL backends
    serving the benchmark database, and the whole machine (Linux /proc; None elsewhere).

    Backends are looked up again every half second: gunicorn's connections are replaced every
    DATABASE_CONN_MAX_AGE seconds, and a backend that ends loses only its last half second."""

    def __init__(self, server: Gunicorn, database_url: str) -> None:
        import psycopg

        self.server = server
        self.database = urlsplit(database_url).path.lstrip("/")
        # Watching from the maintenance database, so that this connection is not counted.
        watcher_url = urlsplit(database_url)._replace(scheme="postgresql", path="/postgres")
        try:
            self.watcher = psycopg.connect(watcher_url.geturl(), autocommit=True)
        except psycopg.Error:
            self.watcher = None

    def _backends(self) -> dict[int, float]:
        import psycopg

        if self.watcher is None:
            return {}
        try:
            rows = self.watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
            ).fetchall()
        except psycopg.Error:
            return {}
        times = {pid: process_cpu_seconds(pid) for (pid,) in rows}
        return {pid: value for pid, value in times.items() if value is not None}

    def start(self) -> None:
        self.client = time.process_time()
        self.gunicorn = self.server.cpu_seconds()
        self.machine = machine_cpu_ticks()
        self.backends_first = self._backends()
        self.backends_last = dict(self.backends_first)

    def sample(self) -> None:
        for pid, value in self._backends().items():
            self.backends_first.setdefault(pid, 0.0)  # started inside the window
            self.backends_last[pid] = value

    def stop(self) -> dict[str, float | None]:
        """Seconds used since start() by client, gunicorn and PostgreSQL, and the share of all
        cores that was busy."""
        self.sample()
        gunicorn, machine = self.server.cpu_seconds(), machine_cpu_ticks()
        busy_share = None
        if self.machine and machine and machine[1] > self.machine[1]:
            busy_share = (machine[0] - self.machine[0]) / (machine[1] - self.machine[1])
        postgres = None
        if self.watcher is not None and self.backends_last:
            postgres = sum(
                self.backends_last[pid] - self.backends_first[pid] for pid in self.backends_last
            )
        return {
            "client": time.process_time() - self.client,
            "gunicorn": None
            if gunicorn is None or self.gunicorn is None
            else gunicorn - self.gunicorn,
            "postgres": postgres,
            "machine busy share": busy_share,
        }

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()


@dataclasses.dataclass
class Measurement:
    phase: Phase
    users: int
    samples: list[Sample]
    cpu: dict[str, float | None]


def log_in_everyone(staff: list[Staff], port: int) -> list[Browser]:
    browsers = [
        Browser(port, address=f"10.0.{index // 250}.{index % 250 + 1}")
        for index in range(len(staff))
    ]
    failures: list[str] = []

    def log_in_one(index: int) -> None:
        try:
            log_in(browsers[index], staff[index])
        except (BenchmarkFailed, OSError, http.client.HTTPException) as error:
            failures.append(f"{staff[index].username} could not log in: {error}")

    threads = [threading.Thread(target=log_in_one, args=(index,)) for index in range(len(staff))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchmarkFailed("; ".join(failures))
    return browsers


def run_phase(
    phase: Phase,
    browsers: list[Browser],
    staff: list[Staff],
    case_pks: list[int],
    meter: CpuMeter,
) -> Measurement:
    start = time.perf_counter() + phase.warmup
    window = (start, start + phase.duration)
    per_user: list[list[Sample]] = [[] for _user in staff]
    threads = [
        threading.Thread(
            target=virtual_user,
            args=(index, browsers[index], staff[index], case_pks, phase, window, per_user[index]),
            daemon=True,
        )
        for index in range(len(staff))
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window[0] - time.perf_counter()))
    meter.start()
    while (left := window[1] - time.perf_counter()) > 0:
        time.sleep(min(0.5, left))
        meter.sample()
    cpu = meter.stop()
    for thread in threads:
        thread.join()
    return Measurement(
        phase=phase,
        users=len(staff),
        samples=[sample for samples in per_user for sample in samples],
        cpu=cpu,
    )


# --- the report --------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def report(measurement: Measurement) -> None:
    phase, samples = measurement.phase, measurement.samples
    think = (
        f"{phase.think:g} s think time on average"
        if phase.think
        else "no think time: each answer is followed at once by the next request"
    )
    print()
    print(f"== {phase.name}: {measurement.users} users, {think}, {phase.duration:g} s measured")
    if not samples:
        print("No request completed in the measured period.")
        return
    by_page: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_page[sample.page].append(sample)
    print(
        f"{'page':<16} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6}"
    )
    rows = [(page, by_page[page]) for page in PAGES if page in by_page] + [("all", samples)]
    for page, page_samples in rows:
        p50, p95, p99 = percentiles([sample.milliseconds for sample in page_samples])
        errors = sum(sample.error is not None for sample in page_samples)
        print(
            f"{page:<16} {len(page_samples):>8} {len(page_samples) / phase.duration:>7.1f} "
            f"{p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {errors:>6}"
        )
    errors = Counter(sample.error for sample in samples if sample.error is not None)
    if errors:
        print("errors: " + ", ".join(f"{kind} x{count}" for kind, count in errors.most_common()))
    cpu, requests, cores = measurement.cpu, len(samples), os.cpu_count() or 1
    parts = []
    for name in ("gunicorn", "postgres", "client"):
        if cpu.get(name) is not None:
            label = {"postgres": "PostgreSQL", "client": "this client"}.get(name, name)
            parts.append(
                f"{label} {cpu[name] / phase.duration * 100:.0f}% "
                f"({cpu[name] / requests * 1000:.1f} ms a request)"
            )
    print(f"CPU ({cores} cores = {cores * 100}%): " + ", ".join(parts))
    if cpu.get("machine busy share") is not None:
        print(
            f"whole machine busy: {cpu['machine busy share'] * cores * 100:.0f}% "
            "(includes anything else running on it)"
        )


def target_met(
    measurement: Measurement, *, p95_ms: int = TARGET_P95_MS, users: int = TARGET_USERS
) -> bool:
    samples = measurement.samples
    if not samples or any(sample.error for sample in samples):
        return False
    _p50, p95, _p99 = percentiles([sample.milliseconds for sample in samples])
    return p95 < p95_ms and measurement.users >= users


def describe_setup(arguments: argparse.Namespace, staff: list[Staff], case_count: int) -> None:
    roles = Counter(each.role for each in staff)
    worker = f"gthread, {arguments.threads} threads each" if arguments.threads > 1 else "sync"
    progress(
        f"gunicorn: {arguments.workers} workers ({worker}) on {HOST}, with "
        "config.settings.production: DEBUG off, second factor required, https redirect and "
        "secure cookies on (the client sends X-Forwarded-Proto: https, as nginx does)."
    )
    progress(
        f"Users: {len(staff)} ("
        + ", ".join(f"{count} {role}" for role, count in roles.most_common())
        + "), each on a keep-alive connection of their own; case pages drawn from "
        f"{case_count} cases."
    )


# --- putting it together -------------------------------------------------------------------------


@contextlib.contextmanager
def benchmark_database(arguments: argparse.Namespace) -> Iterator[str]:
    """The throwaway database; with --reuse-database, the one left by an earlier run with that
    option (created when missing, never dropped), to skip filling it again."""
    if not arguments.reuse_database:
        with throwaway_database(DATABASE_NAME, keep=arguments.keep_database) as url:
            yield url
        return
    from psycopg import sql

    from benchmarks import database

    server = database._server_url()
    with database._maintenance(server) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    try:
        yield database._with_database(server, DATABASE_NAME)
    finally:
        database._close_django_connections()
        print(f"Database {DATABASE_NAME} kept for the next --reuse-database run.")


def use_existing_database(name: str) -> str:
    """Set Django up (demo settings, as load_demo_organisation does) on an existing database."""
    from benchmarks import database

    url = database._with_database(database._server_url(), name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.demo"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    return url


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.database:
        progress(f"Using the database {arguments.database} as it is...")
        url = use_existing_database(arguments.database)
        try:
            return benchmark(url, arguments)
        except BenchmarkFailed as error:
            print(f"bench: {error}", file=sys.stderr)
            return 1
        finally:
            purge_benchmark_queue()
    try:
        with benchmark_database(arguments) as url:
            progress(f"Filling the database {DATABASE_NAME} with the demo organisation...")
            load_demo_organisation(url)
            try:
                return benchmark(url, arguments)
            finally:
                purge_benchmark_queue()
    except BenchmarkFailed as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


def benchmark(url: str, arguments: argparse.Namespace) -> int:
    from django.db import connections

    from cases.models import Case

    staff = create_staff(arguments.users)
    case_pks = list(Case.objects.values_list("pk", flat=True))
    connections.close_all()
    phases = [Phase("target", arguments.think, arguments.warmup, arguments.duration)]
    if arguments.capacity:
        phases.append(Phase("capacity", 0.0, min(arguments.warmup, 3.0), arguments.capacity))
    with (
        tempfile.TemporaryDirectory(prefix="haven-bench-static-") as static_root,
        tempfile.TemporaryFile(mode="w+") as log,
    ):
        environment = production_environment(url, static_root)
        progress("Collecting static files for the production settings...")
        collect_static(environment)
        server = Gunicorn(environment, log, workers=arguments.workers, threads=arguments.threads)
        measurements = []
        try:
            server.wait_until_ready()
            describe_setup(arguments, staff, len(case_pks))
            progress(f"Logging in {len(staff)} users (password, then authenticator code)...")
            started = time.perf_counter()
            browsers = log_in_everyone(staff, server.port)
            progress(f"  done in {time.perf_counter() - started:.1f} s.")
            meter = CpuMeter(server, url)
            try:
                for phase in phases:
                    progress(
                        f"Phase {phase.name}: {phase.warmup:g} s warm-up, {phase.duration:g} s "
                        "measured..."
                    )
                    measurements.append(run_phase(phase, browsers, staff, case_pks, meter))
            finally:
                meter.close()
        except BenchmarkFailed:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
    for measurement in measurements:
        report(measurement)
    target = measurements[0]
    print()
    print(
        f"target (p95 under {TARGET_P95_MS} ms for {TARGET_USERS} users working at once, "
        f"{target.phase.think:g} s think time, no errors): "
        + ("met" if target_met(target) else "NOT met")
    )
    if arguments.database:
        met = target_met(target, p95_ms=SCALE_TARGET_P95_MS, users=SCALE_TARGET_USERS)
        print(
            f"scale target (p95 under {SCALE_TARGET_P95_MS} ms for {SCALE_TARGET_USERS} users on "
            f"{arguments.database}, {target.phase.think:g} s think time, no errors): "
            + ("met" if met else "NOT met")
        )
    errors = sum(sample.error is not None for each in measurements for sample in each.samples)
    if errors:
        print(f"{errors} request(s) failed: see the errors lines above.", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
