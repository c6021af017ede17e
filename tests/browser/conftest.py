"""Browser fixtures: one headless Chromium per test process (Debian's, driven by Playwright), a
fresh browser context per test against the live server, a screenshot of every failed test, a
test failed by any Content-Security-Policy violation or JavaScript error, and a log-in through
the real login page with the second factor."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
# A page that waits longer than this for an element is broken, not slow.
TIMEOUT_MILLISECONDS = 10_000
RESULTS_FOLDER = "test-results"

PAGE_KEY = pytest.StashKey[Page]()
PROBLEMS_KEY = pytest.StashKey[list[str]]()


# --- the browser -------------------------------------------------------------------------------


class Chromium:
    """The browser, started once per test process.

    Playwright's sync API marks its event loop as running in this thread between calls. Django
    then takes the thread for an asynchronous one: it refuses database queries ("async
    context") and keeps a separate set of connections. The mark is therefore set only while a
    browser test runs (`resume`) and cleared after it (`pause`), so that the tests which follow
    in the same process are not affected."""

    def __init__(self) -> None:
        self._playwright = sync_playwright().start()
        self._loop = asyncio.get_running_loop()
        self.browser: Browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        self.pause()

    def resume(self) -> None:
        asyncio._set_running_loop(self._loop)

    def pause(self) -> None:
        asyncio._set_running_loop(None)

    def close(self) -> None:
        self.resume()
        self.browser.close()
        self._playwright.stop()
        self.pause()


@pytest.fixture(scope="session")
def browser() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: run scripts/ensure-browser.sh "
            "(make test does) or install Debian's chromium package."
        )
    chromium = Chromium()
    yield chromium
    chromium.close()


# --- the live server and its database ------------------------------------------------------------


# --- a page per test, watched -------------------------------------------------------------------


def _watch(page: Page, problems: list[str]) -> None:
    """Collect what must fail the test: CSP violations and other console errors, uncaught
    JavaScript errors, and page resources (scripts, styles, images) that fail to load. A page
    itself answering 403 or 404 is for the test to judge."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if "Content Security Policy" in message.text:
            problems.append(f"CSP violation on {page.url}: {message.text}")
        elif not message.text.startswith("Failed to load resource"):
            problems.append(f"console error on {page.url}: {message.text}")

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(
                f"{response.status} for {response.request.resource_type} {response.url}"
            )

    def on_request_failed(request: Request) -> None:
        # ERR_ABORTED: the page moved on before the resource arrived (a form submitted while
        # the icon loads), which is how browsing goes, not a fault of the page.
        if request.resource_type != "document" and request.failure != "net::ERR_ABORTED":
            problems.append(f"{request.failure} for {request.resource_type} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)


@pytest.fixture
def page(
    browser: Chromium,
    live_server,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A fresh context (no cookies, English) at 1280×800, its paths relative to the live server."""
    # The test's own queries (factories, services) are synchronous code, whatever Django
    # concludes from the mark of Playwright's loop (see Chromium).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser.resume()
    context = browser.browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MILLISECONDS)
    expect.set_options(timeout=TIMEOUT_MILLISECONDS)
    page = context.new_page()
    problems: list[str] = []
    _watch(page, problems)
    request.node.stash[PAGE_KEY] = page
    request.node.stash[PROBLEMS_KEY] = problems
    yield page
    context.close()
    # The connections opened while the mark was set are not the usual ones: close them here,
    # or they stay open and the test database cannot be dropped at the end.
    connections.close_all()
    browser.pause()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A test that passed fails all the same when its browser reported a problem."""
    result = yield
    problems = item.stash.get(PROBLEMS_KEY, None)
    page = item.stash.get(PAGE_KEY, None)
    if page is not None and not page.is_closed():
        # A round trip, so that the last page's console messages have arrived.
        with contextlib.suppress(PlaywrightError):
            page.evaluate("0")
    if problems:
        pytest.fail("The browser reported:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Save what the browser showed when a test failed: test-results/<test name>.png."""
    report = yield
    page = item.stash.get(PAGE_KEY, None)
    if report.when == "call" and report.failed and page is not None and not page.is_closed():
        folder = item.config.rootpath / RESULTS_FOLDER
        folder.mkdir(exist_ok=True)
        path = folder / (re.sub(r"[^\w.-]+", "_", item.name) + ".png")
        try:
            page.screenshot(path=path, full_page=True)
        except Exception as error:  # the report of the failure matters more than its picture
            report.sections.append(("screenshot", f"no screenshot: {error}"))
        else:
            report.sections.append(("screenshot", str(path)))
    return report


# --- logging in ---------------------------------------------------------------------------------


def next_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows, as the server will take it. A code is good only
    once, so a second log-in within the same 30 seconds types the next step's code (the server
    allows one step of clock drift); only a third one has to wait."""
    while True:
        device.refresh_from_db()
        clock = (int(time.time()) - device.t0) // device.step
        server_step = clock + device.drift
        step = max(server_step, device.last_t + 1)
        if step <= server_step + device.tolerance:
            code = totp(
                device.bin_key,
                step=device.step,
                t0=device.t0,
                digits=device.digits,
                drift=step - clock,
            )
            return f"{code:0{device.digits}d}"
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.1)


def submit_password(page: Page, username: str) -> None:
    """The login page, in whatever language it is shown."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()


def submit_code(page: Page, code: str) -> None:
    page.locator("input[name=token]").fill(code)
    page.locator("form:has(input[name=token]) button[type=submit]").click()


def _is_signed_in(url: str) -> bool:
    path = re.sub(r"^https?://[^/]+", "", url)
    return not path.startswith(("/accounts/login/", "/accounts/2fa/"))


@pytest.fixture
def log_in(page: Page) -> Callable[..., None]:
    """Log a member of staff in through the login page and the second factor, with the code of
    their authenticator (one is enrolled for them if they have none)."""

    def log_in_as(user) -> None:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or (
            TOTPDeviceFactory(user=user)
        )
        submit_password(page, user.username)
        page.wait_for_url("**/accounts/2fa/verify/")
        submit_code(page, next_code(device))
        page.wait_for_url(_is_signed_in)

    return log_in_as


def log_out(page: Page) -> None:
    page.locator("form[action='/accounts/logout/'] button[type=submit]").first.click()
    page.wait_for_url("**/accounts/login/")
