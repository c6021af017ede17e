"""The main pages as a member of staff meets them, on an office screen (1280×800) and on a phone
(390 px wide): nothing wider than the screen, every form field labelled, every control reachable
with the keyboard and showing where the focus is, and text with enough contrast (WCAG AA)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from accounts.roles import Role
from payments import services as payment_services
from payments.models import DisbursementBatch
from tests.factories import (
    BedFactory,
    FamilyMemberFactory,
    HouseFactory,
    RoomFactory,
    StipendPlanFactory,
    VerifiedCaseFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENS = {"office": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

# One pass over the page in the browser: what a keyboard or screen-reader user, or someone on a
# small or dim screen, would stumble over. Returns a list of problems, each naming the element.
AUDIT = """
() => {
  const problems = [];
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute('name') || '').trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> "${text}"`;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width > 0
      && box.height > 0;
  };

  if (!document.documentElement.lang) problems.push('the page has no lang attribute');
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  if (overflow > 1) {
    // Name the innermost elements that stick out (not those inside a scrolling box).
    const clipped = (el) => {
      for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
        if (getComputedStyle(node).overflowX !== 'visible') return true;
      }
      return false;
    };
    const outside = [...document.body.querySelectorAll('*')].filter(
      (el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(el));
    const innermost = outside.filter((el) => !outside.some((other) => other !== el
      && el.contains(other))).slice(0, 3).map(describe);
    problems.push(`the page is ${overflow}px wider than the screen: ${innermost.join(', ')}`);
  }

  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button'].includes(el.type) || !visible(el)) continue;
    const named = el.labels.length > 0 || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`form field without a label: ${describe(el)}`);
  }

  // Something that reacts to a click but cannot be reached with the keyboard.
  const clickable = '[onclick], [hx-get], [hx-post], [data-bs-toggle]';
  const focusable = 'a[href], button, input, select, textarea, summary, [tabindex]';
  for (const el of document.querySelectorAll(clickable)) {
    if (!el.matches(focusable) && visible(el)) {
      problems.push(`clickable but not keyboard-reachable: ${describe(el)}`);
    }
  }

  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`image without alt text: ${img.src}`);
  }
  for (const svg of document.querySelectorAll('main svg')) {
    const hidden = svg.getAttribute('aria-hidden') === 'true';
    const named = svg.getAttribute('aria-label') || svg.querySelector('title')
      || svg.getAttribute('aria-labelledby');
    if (!hidden && !named) problems.push('a picture (svg) that a screen reader cannot name');
  }

  // Contrast of every piece of visible text against the background it is drawn on.
  const rgba = (value) => {
    const parts = value.match(/[\\d.]+/g).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const luminance = ({ r, g, b }) => {
    const channel = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) result = blend(layer, result);
    return result;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || seen.has(el) || !visible(el)) continue;
    seen.add(el);
    if (el.closest('[disabled], .disabled, [aria-hidden="true"], .visually-hidden')) continue;
    const style = getComputedStyle(el);
    const back = background(el);
    const text = blend(rgba(style.color), back);
    const [light, dark] = [luminance(text), luminance(back)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`contrast ${ratio.toFixed(2)}:1 for ${describe(el)}`);
    }
  }
  return problems;
}
"""

# Where the focus is, and whether it shows: an outline or a focus ring (box shadow).
FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== 'none';
  return {
    name: `<${el.tagName.toLowerCase()}> "${(el.innerText || el.value || el.name || '')
      .trim().slice(0, 40)}"`,
    shown: ring,
    onScreen: box.width > 0 && box.height > 0,
  };
}
"""


def keyboard_problems(page: Page, presses: int = 40) -> list[str]:
    """Tab through the page from the top: every stop is on screen and shows the focus."""
    problems = []
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            break
        if not focused["onScreen"]:
            problems.append(f"the focus is on something invisible: {focused['name']}")
        elif not focused["shown"]:
            problems.append(f"no visible focus on {focused['name']}")
    return problems


def check_pages(page: Page, paths: list[str]) -> None:
    found = {}
    for screen, size in SCREENS.items():
        page.set_viewport_size(size)
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.ok, f"{path} answered {response.status}"
            problems = page.evaluate(AUDIT) + keyboard_problems(page)
            if problems:
                found[f"{path} ({screen})"] = sorted(set(problems))
    if found:
        pytest.fail(
            "\n".join(f"{where}: {'; '.join(problems)}" for where, problems in found.items()),
            pytrace=False,
        )


def test_case_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    case = FamilyMemberFactory().case
    log_in(make_staff(Role.CASE_MANAGER))

    check_pages(page, ["/", "/cases/", f"/cases/{case.pk}/", "/cases/reports/"])


def test_need_to_know_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    from cases import services as case_services

    case = FamilyMemberFactory().case
    outsider = make_staff(Role.VERIFIER)
    case_services.break_glass_open(case=case, actor=outsider, reason="danger", why="Tonight")
    log_in(make_staff(Role.CASE_MANAGER))
    check_pages(
        page,
        [f"/cases/{case.pk}/team/", f"/cases/{case.pk}/break-glass/", "/cases/break-glass/"],
    )


def test_review_and_budget_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    from cases import services as case_services

    case = FamilyMemberFactory().case
    outsider = make_staff(Role.VERIFIER)
    case_services.break_glass_open(case=case, actor=outsider, reason="danger", why="Tonight")
    log_in(make_staff(Role.ADMINISTRATOR))
    check_pages(page, ["/cases/break-glass/", "/accounts/reveal-budgets/"])


def test_intake_and_housing_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    VerifiedCaseFactory()
    BedFactory(room=RoomFactory(house=HouseFactory()))
    log_in(make_staff(Role.INTAKE_OFFICER, Role.HOUSING_COORDINATOR))

    check_pages(page, ["/cases/new/", "/housing/", "/housing/waiting/"])


def test_payment_pages_are_usable_with_keyboard_on_phone_and_office_screens(
    page: Page, log_in, make_staff
):
    officer = make_staff(Role.FINANCE_OFFICER)
    StipendPlanFactory()
    payment_services.disbursement_run(
        period=payment_services.month_of(timezone.localdate()), actor=officer
    )
    batch = DisbursementBatch.objects.get()
    log_in(officer)

    check_pages(
        page,
        ["/payments/", "/payments/run/", f"/payments/batches/{batch.pk}/", "/payments/one-off/"],
    )
