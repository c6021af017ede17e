"""Refreshes the screenshots in docs/ (the case manager's dashboard, the occupancy board and the
journeys board, in English and Burmese) from a running demo: `make run`, then

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]

Debian's Chromium (/usr/bin/chromium) through Playwright; the demo's fictional people only."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD_LINE = re.compile(r'^DEMO_PASSWORD = "([^"]+)"', re.MULTILINE)
SHOTS = [
    ("casemanager", "/", "dashboard"),
    ("housing", "/housing/", "occupancy-board"),
    ("journeys", "/journeys/board/", "journeys-board"),
]


def demo_password() -> str:
    source = (DOCS.parent / "accounts" / "demo.py").read_text()
    return PASSWORD_LINE.search(source).group(1)


def main(base_url: str) -> None:
    password = demo_password()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for username, path, name in SHOTS:
            for language in ("en", "my"):
                context = browser.new_context(
                    base_url=base_url, viewport={"width": 1280, "height": 900}
                )
                page = context.new_page()
                page.goto("/accounts/login/")
                page.locator("input[name=username]").fill(username)
                page.locator("input[name=password]").fill(password)
                page.locator("form:has(input[name=password]) button[type=submit]").click()
                page.wait_for_url(lambda url: "/accounts/login/" not in url)
                # Always chosen: the choice is kept on the account and a log-in restores it.
                page.locator("#language-select").select_option(language)
                page.locator("form:has(#language-select) button[type=submit]").click()
                page.wait_for_load_state()
                page.goto(path)
                target = DOCS / f"{name}-{language}.png"
                page.screenshot(path=str(target), full_page=False)
                print(f"wrote {target}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
