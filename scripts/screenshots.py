"""The screenshots in docs/, taken from a running demo (`make run`) in English and Burmese.

    .venv/bin/python scripts/screenshots.py                       # every page below
    .venv/bin/python scripts/screenshots.py journeys-board        # one of them
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8001

Each page is shown as its demo user sees it at 1280 × 900 (the whole page), once per language,
and written to docs/<name>-en.png and docs/<name>-my.png. It uses Debian's Chromium, as the
browser tests do; the demo has no second factor, so the demo password is enough.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LANGUAGES = ("en", "my")
# name: (demo user, path)
PAGES = {
    "dashboard": ("casemanager", "/"),
    "occupancy-board": ("housing", "/housing/board/"),
    "journeys-board": ("journeys", "/journeys/board/"),
}


def demo_password() -> str:
    text = (ROOT / "accounts" / "demo.py").read_text(encoding="utf-8")
    match = re.search(r'^DEMO_PASSWORD = "([^"]*)"', text, re.MULTILINE)
    if match is None:
        raise SystemExit("screenshots: DEMO_PASSWORD not found in accounts/demo.py")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", choices=[[], *PAGES], help="pages (all)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder (docs/)")
    arguments = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    password = demo_password()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGUMENTS)
        for name in arguments.names or list(PAGES):
            username, path = PAGES[name]
            for language in LANGUAGES:
                context = browser.new_context(
                    base_url=arguments.url, viewport={"width": 1280, "height": 900}
                )
                context.add_cookies(
                    [{"name": "django_language", "value": language, "url": arguments.url}]
                )
                page = context.new_page()
                page.goto("/accounts/login/")
                page.locator("input[name=username]").fill(username)
                page.locator("input[name=password]").fill(password)
                page.locator("form:has(input[name=password]) button[type=submit]").click()
                page.wait_for_load_state("networkidle")
                page.goto(path)
                page.wait_for_load_state("networkidle")
                target = arguments.out / f"{name}-{language}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"screenshots: {target.relative_to(ROOT)}")
                context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
