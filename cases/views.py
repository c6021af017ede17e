"""The staff pages of cases: list, intake in steps, the case with its tabs, verification,
decision and the duplicate review. Views parse forms and call one service or selector; every
refusal from a service is shown as a message on the page, never as an error page."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from pghistory.models import Events

from accounts.forms import parse_id
from accounts.permissions import permission_required_logged, refusal_message
from accounts.services import may_reveal, protected_field_reveal
from audit import selectors as audit_selectors
from audit.history import describe_changes, display_history_value
from cases import selectors, services
from cases.choices import CheckItem, RankGroup, ReferralStatus, Status
from cases.forms import (
    CaseDetailsForm,
    CaseEditForm,
    CaseFilterForm,
    CheckForm,
    DecisionForm,
    DuplicateDismissForm,
    EmergencyForm,
    EvidenceForm,
    FamilyMemberForm,
    ItemForm,
    NoteForm,
    ReasonForm,
    ReferralForm,
    ReferralStatusForm,
    SafetyPlanForm,
    StageForm,
    case_initial,
)
from cases.links import links_for
from cases.models import Case, Evidence, FamilyMember, ItemBrought, Referral
from cases.services import (
    CASE_WORKER_PERMISSIONS,
    CaseError,
    DuplicateCaseError,
    PossibleDuplicateWarning,
    StaleEditError,
)
from protection.keys import CIPHERTEXT_PREFIX, ProtectedValueError

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50

# Encrypted fields of a case that the identity tab lists, in order, and those shown as text.
IDENTITY_FIELDS = (
    "real_name",
    "alias",
    "service_number",
    "national_id",
    "phone",
    "date_of_birth",
    "unit",
    "family_whereabouts",
    "intake_notes",
)
LONG_TEXT_FIELDS = frozenset({"family_whereabouts", "intake_notes", "safety_plan", "whereabouts"})
REVEALABLE_CASE_FIELDS = frozenset(IDENTITY_FIELDS) | {"safety_plan"}
REVEALABLE_FAMILY_FIELDS = frozenset({"name", "whereabouts"})

EVIDENCE_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}

TABS = (
    ("summary", gettext_lazy("Summary"), "cases:detail"),
    ("identity", gettext_lazy("Identity"), "cases:identity"),
    ("family", gettext_lazy("Family"), "cases:family"),
    ("items", gettext_lazy("Items brought"), "cases:items"),
    ("checks", gettext_lazy("Verification"), "cases:checks"),
    ("evidence", gettext_lazy("Evidence"), "cases:evidence"),
    ("journey", gettext_lazy("Journey"), "cases:journey"),
    ("referrals", gettext_lazy("Referrals"), "cases:referrals"),
    ("notes", gettext_lazy("Notes"), "cases:notes"),
    ("history", gettext_lazy("History"), "cases:history"),
)

# What each audited action is called on the history tab.
ACTION_LABELS = {
    "case.intake": gettext_lazy("Case recorded at intake"),
    "case.update": gettext_lazy("Case details edited"),
    "case.start_verification": gettext_lazy("Verification started"),
    "case.check": gettext_lazy("Verification check recorded"),
    "case.propose": gettext_lazy("Decision proposed"),
    "case.decide": gettext_lazy("Case decided"),
    "case.withdraw": gettext_lazy("Case withdrawn"),
    "case.reopen": gettext_lazy("Case re-opened"),
    "case.stage": gettext_lazy("Journey stage changed"),
    "case.emergency": gettext_lazy("Emergency flag changed"),
    "case.safety_plan": gettext_lazy("Safety plan or case manager changed"),
    "case.family_add": gettext_lazy("Family member added"),
    "case.family_remove": gettext_lazy("Family member removed"),
    "case.item_add": gettext_lazy("Item added"),
    "case.item_remove": gettext_lazy("Item removed"),
    "case.evidence_add": gettext_lazy("Evidence uploaded"),
    "case.referral_add": gettext_lazy("Referral created"),
    "case.referral_status": gettext_lazy("Referral status changed"),
    "case.note_add": gettext_lazy("Note added"),
    "case.not_duplicate": gettext_lazy("Marked as not a duplicate"),
    "case.erasure_request": gettext_lazy("Erasure of the identity requested"),
    "case.erasure_propose": gettext_lazy("Erasure proposed by the retention rule"),
    "case.erasure_approve": gettext_lazy("Erasure approved"),
    "case.erasure_reject": gettext_lazy("Erasure rejected"),
    "case.erasure_cancel": gettext_lazy("Erasure request cancelled"),
    "case.erase": gettext_lazy("Identity erased"),
}
EVENT_LABELS = {
    "insert": gettext_lazy("Created"),
    "update": gettext_lazy("Changed"),
    "delete": gettext_lazy("Deleted"),
}
# Columns that change with every save and say nothing to a reader.
HISTORY_HIDDEN_COLUMNS = frozenset(
    {"id", "data_key_id", "version", "updated_at", "created_at", "case_id"}
)

DUPLICATE_REASON_LABELS = {
    "same service number": gettext_lazy("Same service number"),
    "same national ID number": gettext_lazy("Same national ID number"),
    "same name and date of birth": gettext_lazy("Same name and date of birth"),
}


# --- helpers ---------------------------------------------------------------------------------


def _is_case_worker(user) -> bool:
    return any(user.has_perm(permission) for permission in CASE_WORKER_PERMISSIONS)


def _case_or_404(pk: int) -> Case:
    return get_object_or_404(Case, pk=pk)


def _detail_or_404(pk: int) -> Case:
    try:
        return selectors.case_detail(pk=pk)
    except Case.DoesNotExist as error:
        raise Http404 from error


def _has_value(obj: models.Model, name: str) -> bool:
    """Whether a (possibly encrypted) field holds something, without decrypting it."""
    field = obj._meta.get_field(name)
    value = obj.__dict__.get(field.attname)
    return value is not None and value != ""


def _display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return formats.date_format(value)
    return "" if value is None else str(value)


def _protected(
    obj: models.Model, name: str, reveal_url: str, target_id: str, revealed: dict | None = None
) -> dict[str, Any]:
    """What the protected-value partial needs: the value (shown only masked unless revealed)."""
    field = obj._meta.get_field(name)
    is_revealed = bool(revealed and name in revealed)
    if is_revealed:
        value = revealed[name]
    elif not _has_value(obj, name):
        value = ""
    elif name in LONG_TEXT_FIELDS:
        value = True  # shown as "(hidden text)": no need to decrypt it
    else:
        value = getattr(obj, name)  # decrypted only to be masked
    return {
        "name": name,
        "label": field.verbose_name,
        "value": value,
        "display": _display(value) if is_revealed else "",
        "revealed": is_revealed,
        "long_text": name in LONG_TEXT_FIELDS,
        "reveal_url": reveal_url,
        "target_id": target_id,
    }


def _case_protected(case: Case, name: str, revealed: dict | None = None) -> dict[str, Any]:
    return _protected(
        case,
        name,
        reverse("cases:reveal", kwargs={"pk": case.pk, "field": name}),
        f"protected-{name}",
        revealed,
    )


def _member_protected(member: FamilyMember, name: str, revealed: dict | None = None) -> dict:
    return _protected(
        member,
        name,
        reverse(
            "cases:family_reveal",
            kwargs={"pk": member.case_id, "member_pk": member.pk, "field": name},
        ),
        f"member-{member.pk}-{name}",
        revealed,
    )


def _family_rows(members, revealed_member: int | None = None, revealed: dict | None = None):
    return [
        {
            "member": member,
            "name": _member_protected(
                member, "name", revealed if member.pk == revealed_member else None
            ),
            "whereabouts": _member_protected(
                member, "whereabouts", revealed if member.pk == revealed_member else None
            ),
        }
        for member in members
    ]


def _ordered_checks(case: Case) -> list:
    """The checklist in the order staff work through it (as CheckItem declares it)."""
    order = {item: position for position, item in enumerate(CheckItem.values)}
    return sorted(case.checks.all(), key=lambda check: order.get(check.item, len(order)))


def _posted_int(request: HttpRequest, name: str) -> int:
    value = parse_id(request.POST.get(name, ""))
    if value is None:
        raise Http404
    return value


def _tab_context(request: HttpRequest, case: Case, tab: str, **extra: Any) -> dict[str, Any]:
    return {
        "case": case,
        "tab": tab,
        "tabs": [
            {"name": name, "label": label, "url": reverse(url_name, kwargs={"pk": case.pk})}
            for name, label, url_name in TABS
        ],
        "may_reveal": may_reveal(request.user),
        "is_case_worker": _is_case_worker(request.user),
        "case_links": links_for(request.user, case),
        **extra,
    }


def _render_tab(request: HttpRequest, case: Case, tab: str, **extra: Any) -> HttpResponse:
    return render(request, f"cases/detail_{tab}.html", _tab_context(request, case, tab, **extra))


def _duplicate_context(error: DuplicateCaseError | PossibleDuplicateWarning) -> dict[str, Any]:
    return {"blocking": isinstance(error, DuplicateCaseError), "matches": error.matches}


# --- the list ----------------------------------------------------------------------------------


def _is_case_code_search(text: str) -> bool:
    return text.strip().upper().startswith("HV-")


@permission_required("cases.view_case", raise_exception=True)
def case_list(request: HttpRequest) -> HttpResponse:
    """Search and filters. A search by service or ID number is posted and answered on the spot:
    the number never goes into a URL (browser history, server logs) nor back into the page."""
    if request.method == "POST":
        filter_form = CaseFilterForm(request.POST)
        values = filter_form.valid_values()
        if not values.get("q") or _is_case_code_search(values["q"]):
            return redirect(f"{reverse('cases:list')}?{urlencode(values)}")
        number_search = True
    else:
        filter_form = CaseFilterForm(request.GET)
        values = filter_form.valid_values()
        if values.get("q") and not _is_case_code_search(values["q"]):
            filter_form = CaseFilterForm({**values, "q": ""})
            values.pop("q")
        number_search = False
    cases = selectors.case_list(filters=filter_form.filters())
    page = Paginator(cases, PAGE_SIZE).get_page(1 if number_search else request.GET.get("page"))
    rank_group_labels = dict(RankGroup.choices)
    for case in page:
        case.rank_group_label = rank_group_labels.get(case.rank_group_value, "")
    shown_values = {
        name: value for name, value in values.items() if name != "q" or not number_search
    }
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "form": CaseFilterForm(initial=shown_values),
            "filtered": bool(values),
            "number_search": number_search,
            "query": urlencode(shown_values) + "&" if shown_values else "",
        },
    )


# --- intake in steps, and editing --------------------------------------------------------------


@permission_required("cases.add_case", raise_exception=True)
def case_intake(request: HttpRequest) -> HttpResponse:
    """Step 1: identity and contact. Saving creates the case in intake: the draft."""
    form = CaseDetailsForm(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_intake(
                actor=request.user,
                confirmed_not_duplicate=form.cleaned_data["confirmed_not_duplicate"],
                **form.case_fields(),
            )
        except (DuplicateCaseError, PossibleDuplicateWarning) as error:
            duplicate = _duplicate_context(error)
            form.add_error(None, refusal_message(error))
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("Case %(code)s is recorded. Add the family members next.") % {"code": case.code},
            )
            return redirect("cases:intake_family", pk=case.pk)
    return render(
        request, "cases/intake.html", {"form": form, "duplicate": duplicate, "step": "details"}
    )


def _edit_refusal(case: Case, user) -> str:
    if not case.is_open:
        return _("A closed case cannot be edited; re-open it first.")
    if case.status != Status.INTAKE and not user.has_perm("cases.decide_case"):
        return _("Only a case manager can edit a case after intake.")
    return ""


@permission_required(
    ("cases.view_case", "cases.change_case", "accounts.reveal_identity"), raise_exception=True
)
@never_cache
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's details, with the version read when the form was opened: a save after
    someone else's is refused rather than overwriting it."""
    case = _case_or_404(pk)
    refusal = _edit_refusal(case, request.user)
    if refusal:
        messages.warning(request, refusal)
        return redirect("cases:detail", pk=case.pk)
    duplicate, stale = None, False
    if request.method == "POST":
        form = CaseEditForm(request.POST, initial=case_initial(case))
        if form.is_valid():
            fields = form.case_fields()
            if not fields:
                messages.info(request, _("Nothing was changed."))
                return redirect("cases:detail", pk=case.pk)
            try:
                services.case_update(
                    case=case,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    confirmed_not_duplicate=form.cleaned_data["confirmed_not_duplicate"],
                    **fields,
                )
            except StaleEditError as error:
                stale = True
                form.add_error(None, refusal_message(error))
            except (DuplicateCaseError, PossibleDuplicateWarning) as error:
                duplicate = _duplicate_context(error)
                form.add_error(None, refusal_message(error))
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The changes are saved."))
                if case.status == Status.INTAKE:
                    return redirect("cases:intake_family", pk=case.pk)
                return redirect("cases:detail", pk=case.pk)
    else:
        # The form shows protected values in clear: each one shown is a logged reveal.
        initial = case_initial(case)
        for name, value in initial.items():
            if name in REVEALABLE_CASE_FIELDS and value:
                initial[name] = protected_field_reveal(
                    actor=request.user, obj=case, field_name=name, request=request
                )
        form = CaseEditForm(initial={**initial, "version": case.version})
    return render(
        request,
        "cases/edit.html",
        {"form": form, "case": case, "duplicate": duplicate, "stale": stale},
    )


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.change_case", "cases.manage_safety")
def intake_family(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2 of intake (and later, for a case manager): add and remove family members."""
    case = _case_or_404(pk)
    form = FamilyMemberForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            member = get_object_or_404(
                FamilyMember, pk=_posted_int(request, "member"), case_id=case.pk
            )
            try:
                services.family_member_remove(member=member, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("The family member is removed."))
            return redirect("cases:intake_family", pk=case.pk)
        form = FamilyMemberForm(request.POST)
        if form.is_valid():
            try:
                services.family_member_add(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The family member is added."))
                return redirect("cases:intake_family", pk=case.pk)
    members = FamilyMember.objects.filter(case=case).order_by("pk")
    return render(
        request,
        "cases/intake_family.html",
        {
            "case": case,
            "form": form,
            "rows": _family_rows(members),
            "may_reveal": may_reveal(request.user),
            "step": "family",
        },
    )


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.change_case", "cases.manage_safety")
def intake_items(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3 of intake (and later, for a case manager): weapons, ammunition, vehicles."""
    case = _case_or_404(pk)
    form = ItemForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            item = get_object_or_404(ItemBrought, pk=_posted_int(request, "item"), case_id=case.pk)
            try:
                services.item_remove(item=item, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("The item is removed."))
            return redirect("cases:intake_items", pk=case.pk)
        form = ItemForm(request.POST)
        if form.is_valid():
            try:
                services.item_add(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The item is added."))
                return redirect("cases:intake_items", pk=case.pk)
    items = ItemBrought.objects.filter(case=case).select_related("recorded_by").order_by("pk")
    return render(
        request,
        "cases/intake_items.html",
        {"case": case, "form": form, "items": items, "step": "items"},
    )


def _missing_details(case: Case) -> list[str]:
    """What a verifier will miss; nothing here blocks the draft."""
    missing = []
    if not (_has_value(case, "service_number") or _has_value(case, "national_id")):
        missing.append(_("No service number or national ID number."))
    if not _has_value(case, "date_of_birth"):
        missing.append(_("No date of birth."))
    if not _has_value(case, "phone"):
        missing.append(_("No phone number to reach the person."))
    if not case.unit_type and not _has_value(case, "unit"):
        missing.append(_("No unit."))
    if case.defection_date is None:
        missing.append(_("No date of defection."))
    if not Evidence.objects.filter(case=case).exists():
        missing.append(_("No evidence file (an identity document or service record helps)."))
    return missing


@permission_required("cases.view_case", raise_exception=True)
@permission_required_logged("cases.add_case", "cases.change_case")
def intake_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The last step: the draft is saved; say what is still missing."""
    case = _case_or_404(pk)
    context = {
        "case": case,
        "missing": _missing_details(case),
        "family_count": FamilyMember.objects.filter(case=case).count(),
        "item_count": ItemBrought.objects.filter(case=case).count(),
        "step": "review",
    }
    return render(request, "cases/intake_review.html", context)


# --- the case and its tabs ---------------------------------------------------------------------


@permission_required("cases.view_case", raise_exception=True)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = selectors.case_summary(pk=pk)
    except Case.DoesNotExist as error:
        raise Http404 from error
    user = request.user
    return _render_tab(
        request,
        case,
        "summary",
        may_edit=user.has_perm("cases.change_case") and not _edit_refusal(case, user),
        may_withdraw=user.has_perm("cases.change_case") and case.is_open,
        may_reopen=user.has_perm("cases.decide_case")
        and case.status in (Status.REJECTED, Status.WITHDRAWN),
    )


def _identity_rows(case: Case, revealed: dict | None = None) -> list[dict[str, Any]]:
    return [_case_protected(case, name, revealed) for name in IDENTITY_FIELDS]


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_identity(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "identity", rows=_identity_rows(case))


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_family(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "family", rows=_family_rows(case.family_members.all()))


@permission_required("cases.view_case", raise_exception=True)
def case_items(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "items", items=case.items.all())


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_checks(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    return _render_tab(request, case, "checks", checks=_ordered_checks(case))


def _may_add_evidence(user) -> bool:
    return user.has_perm("cases.change_case") or user.has_perm("cases.verify_case")


@permission_required("cases.view_case", raise_exception=True)
def case_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = EvidenceForm()
    if request.method == "POST":
        if not _may_add_evidence(request.user):
            raise PermissionDenied
        form = EvidenceForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.evidence_add(
                    case=case,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
            except (CaseError, PermissionDenied) as error:
                form.add_error("file", refusal_message(error))
            else:
                messages.success(request, _("The file is stored, encrypted."))
                return redirect("cases:evidence", pk=case.pk)
    return _render_tab(
        request,
        case,
        "evidence",
        files=case.evidence.all(),
        form=form,
        may_add=_may_add_evidence(request.user) and case.is_open,
        limit_megabytes=settings.HAVEN_EVIDENCE_MAX_BYTES // (1024 * 1024),
    )


def _journey_context(
    case: Case,
    *,
    stage_form: StageForm | None = None,
    emergency_form: EmergencyForm | None = None,
    revealed: dict | None = None,
) -> dict[str, Any]:
    return {
        "stage_form": stage_form or StageForm(initial={"stage": case.journey_stage}),
        "emergency_form": emergency_form
        or EmergencyForm(initial={"emergency": "off" if case.emergency else "on"}),
        "events": case.journey_events.all(),
        "safety_plan": _case_protected(case, "safety_plan", revealed),
    }


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_journey(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    stage_form = emergency_form = None
    if request.method == "POST":
        if not request.user.has_perm("cases.manage_safety"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "stage":
            stage_form = StageForm(request.POST)
            form, change = stage_form, services.case_set_stage
        elif action == "emergency":
            emergency_form = EmergencyForm(request.POST)
            form, change = emergency_form, services.case_set_emergency
        else:
            raise Http404
        if form.is_valid():
            try:
                change(case=case, actor=request.user, **form.cleaned_data)
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The journey is updated."))
                return redirect("cases:journey", pk=case.pk)
    return _render_tab(
        request,
        case,
        "journey",
        **_journey_context(case, stage_form=stage_form, emergency_form=emergency_form),
    )


def _referral_rows(referrals) -> list[dict]:
    """Each referral with a form offering only the statuses it can move to."""
    rows = []
    for referral in referrals:
        next_statuses = services.REFERRAL_TRANSITIONS.get(referral.status, set())
        choices = [
            (value, label) for value, label in ReferralStatus.choices if value in next_statuses
        ]
        form = (
            ReferralStatusForm(choices=choices, prefix=f"referral-{referral.pk}")
            if choices
            else None
        )
        rows.append({"referral": referral, "form": form})
    return rows


@permission_required("cases.view_case", raise_exception=True)
def case_referrals(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = ReferralForm()
    if request.method == "POST":
        if not request.user.has_perm("cases.manage_safety"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "create":
            form = ReferralForm(request.POST)
            if form.is_valid():
                try:
                    services.referral_create(case=case, actor=request.user, **form.cleaned_data)
                except (CaseError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    messages.success(request, _("The referral is recorded."))
                    return redirect("cases:referrals", pk=case.pk)
        elif action == "status":
            referral = get_object_or_404(
                Referral, pk=_posted_int(request, "referral"), case_id=case.pk
            )
            prefix = f"referral-{referral.pk}"
            status_form = ReferralStatusForm(
                request.POST, choices=ReferralStatus.choices, prefix=prefix
            )
            if status_form.is_valid():
                try:
                    services.referral_set_status(
                        referral=referral,
                        actor=request.user,
                        status=status_form.cleaned_data["status"],
                    )
                except (CaseError, PermissionDenied) as error:
                    messages.error(request, refusal_message(error))
                else:
                    messages.success(request, _("The referral status is changed."))
            else:
                messages.error(request, _("Choose the new status of the referral."))
            return redirect("cases:referrals", pk=case.pk)
        else:
            raise Http404
    return _render_tab(
        request,
        case,
        "referrals",
        form=form,
        rows=_referral_rows(case.referrals.all()),
    )


@permission_required("cases.view_case", raise_exception=True)
@never_cache
def case_notes(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    form = NoteForm()
    if request.method == "POST":
        if not _is_case_worker(request.user):
            raise PermissionDenied
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                services.case_note_add(
                    case=case, actor=request.user, text=form.cleaned_data["text"]
                )
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The note is added."))
                return redirect("cases:notes", pk=case.pk)
    notes = case.notes.all()
    return _render_tab(request, case, "notes", notes=notes, note_count=len(notes), form=form)


# --- history -----------------------------------------------------------------------------------


def _model_or_none(model_label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(model_label)
    except (LookupError, ValueError):
        return None


def _field_info(model_label: str) -> dict[str, models.Field]:
    model = _model_or_none(model_label)
    if model is None:
        return {}
    return {
        field.attname: field
        for field in model._meta.concrete_fields
        if not field.name.startswith("pgh_")
    }


def _is_user_field(field: models.Field | None) -> bool:
    return bool(
        field is not None
        and field.is_relation
        and field.related_model is not None
        and field.related_model._meta.label == settings.AUTH_USER_MODEL
    )


def _readable(field: models.Field | None, text: str, usernames: dict[str, str]) -> str:
    """A value of the history as staff know it: a user's name, a choice's label."""
    # An encrypted value reads "(encrypted value)" whatever the field: leave it so.
    if not text or field is None or text == display_history_value(CIPHERTEXT_PREFIX):
        return text
    if _is_user_field(field):
        return usernames.get(text, text)
    if field.choices:
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, models.BooleanField):
        return _("yes") if text == "True" else _("no")
    if isinstance(field, models.DateTimeField) and (moment := parse_datetime(text)):
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(field, models.DateField) and (day := parse_date(text)):
        return formats.date_format(day)
    return text


def _history_rows(events) -> list[dict[str, Any]]:
    """Who, when and what, with field names as staff know them and encrypted values hidden."""
    infos = {event.pgh_obj_model: _field_info(event.pgh_obj_model) for event in events}
    user_ids = {str((event.pgh_context or {}).get("user")) for event in events}
    for event in events:
        fields = infos[event.pgh_obj_model]
        user_ids.update(
            str(value)
            for name, value in (event.pgh_data or {}).items()
            if value is not None and _is_user_field(fields.get(name))
        )
    usernames = audit_selectors.usernames_by_id(user_ids)
    rows = []
    for event in events:
        fields = infos[event.pgh_obj_model]
        context = event.pgh_context or {}
        diff = event.pgh_diff
        if event.pgh_label == "insert" or not diff:
            # A new (or deleted) record: what it held, as if changed from nothing.
            diff = {name: (None, value) for name, value in (event.pgh_data or {}).items()}
        changes = []
        for name, before, after in describe_changes(diff):
            field = fields.get(name)
            if name in HISTORY_HIDDEN_COLUMNS or not (before or after):
                continue
            changes.append(
                (
                    field.verbose_name if field is not None else name,
                    _readable(field, before, usernames),
                    _readable(field, after, usernames),
                )
            )
        model = _model_or_none(event.pgh_obj_model)
        code = (event.pgh_data or {}).get("code")
        rows.append(
            {
                "event": event,
                "actor": usernames.get(str(context.get("user")), ""),
                "action": ACTION_LABELS.get(context.get("action", ""), ""),
                "kind": EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                "record": model._meta.verbose_name if model else event.pgh_obj_model,
                "record_number": code or f"#{event.pgh_obj_id}",
                "changes": changes,
            }
        )
    return rows


@permission_required("cases.view_case", raise_exception=True)
def case_history(request: HttpRequest, pk: int) -> HttpResponse:
    case = _detail_or_404(pk)
    events = Events.objects.references(case).order_by("-pgh_created_at", "-pgh_id")
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return _render_tab(request, case, "history", page=page, rows=_history_rows(list(page)))


# --- reveal and download -----------------------------------------------------------------------


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def case_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Show one protected field in clear, logged. POST only: a GET goes back to the tab."""
    if field not in REVEALABLE_CASE_FIELDS:
        raise Http404
    tab = "journey" if field == "safety_plan" else "identity"
    if request.method != "POST":
        return redirect(f"cases:{tab}", pk=pk)
    case = _case_or_404(pk)
    value = protected_field_reveal(actor=request.user, obj=case, field_name=field, request=request)
    revealed = {field: value}
    if request.htmx:
        return render(
            request,
            "cases/partials/protected_value.html",
            {"protected": _case_protected(case, field, revealed), "may_reveal": True},
        )
    # Without JavaScript: the whole tab again, with this one value shown.
    case = _detail_or_404(pk)
    if tab == "journey":
        return _render_tab(request, case, "journey", **_journey_context(case, revealed=revealed))
    return _render_tab(request, case, "identity", rows=_identity_rows(case, revealed))


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def family_reveal(request: HttpRequest, pk: int, member_pk: int, field: str) -> HttpResponse:
    if field not in REVEALABLE_FAMILY_FIELDS:
        raise Http404
    if request.method != "POST":
        return redirect("cases:family", pk=pk)
    member = get_object_or_404(FamilyMember.objects.select_related("case"), pk=member_pk, case=pk)
    value = protected_field_reveal(
        actor=request.user, obj=member, field_name=field, request=request
    )
    revealed = {field: value}
    if request.htmx:
        return render(
            request,
            "cases/partials/protected_value.html",
            {"protected": _member_protected(member, field, revealed), "may_reveal": True},
        )
    case = _detail_or_404(pk)
    return _render_tab(
        request,
        case,
        "family",
        rows=_family_rows(case.family_members.all(), member.pk, revealed),
    )


@permission_required(("cases.view_case", "accounts.reveal_identity"), raise_exception=True)
@never_cache
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    """The decrypted file, logged, as an attachment with a name that says nothing."""
    evidence = get_object_or_404(Evidence.objects.select_related("case"), pk=evidence_pk, case=pk)
    try:
        data = services.evidence_open(evidence=evidence, actor=request.user, request=request)
    except FileNotFoundError as error:
        raise Http404 from error
    except ProtectedValueError:
        messages.error(request, _("This file cannot be opened: it has been erased or damaged."))
        return redirect("cases:evidence", pk=pk)
    extension = EVIDENCE_EXTENSIONS.get(evidence.content_type, "bin")
    response = HttpResponse(data, content_type=evidence.content_type)
    filename = f"{evidence.case.code}-evidence-{evidence.pk}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- verification and decision -----------------------------------------------------------------


@permission_required(("cases.view_case", "cases.verify_case"), raise_exception=True)
@never_cache
def case_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """The verifier's page: take the case, record each check, propose a decision."""
    case = _detail_or_404(pk)
    checks = _ordered_checks(case)
    check_forms = {
        check.pk: CheckForm(
            prefix=f"check-{check.pk}", initial={"result": check.result, "notes": check.notes or ""}
        )
        for check in checks
    }
    propose_form = DecisionForm(
        prefix="propose",
        initial={"decision": case.proposed_decision or None, "reason": case.proposal_reason},
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            try:
                services.case_start_verification(case=case, actor=request.user)
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            else:
                messages.success(request, _("You are now the verifier of this case."))
            return redirect("cases:verify", pk=case.pk)
        if action == "check":
            check_pk = _posted_int(request, "check")
            check = next((check for check in checks if check.pk == check_pk), None)
            if check is None:
                raise Http404
            form = CheckForm(request.POST, prefix=f"check-{check.pk}")
            check_forms[check.pk] = form
            if form.is_valid():
                try:
                    services.verification_check_record(
                        check=check, actor=request.user, **form.cleaned_data
                    )
                except (CaseError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    messages.success(
                        request,
                        _("“%(check)s” is recorded.") % {"check": check.get_item_display()},
                    )
                    return redirect("cases:verify", pk=case.pk)
        elif action == "propose":
            propose_form = DecisionForm(request.POST, prefix="propose")
            if propose_form.is_valid():
                try:
                    services.case_propose_decision(
                        case=case, actor=request.user, **propose_form.cleaned_data
                    )
                except (CaseError, PermissionDenied) as error:
                    propose_form.add_error(None, refusal_message(error))
                else:
                    messages.success(
                        request, _("Your proposal is recorded. A case manager will decide.")
                    )
                    return redirect("cases:detail", pk=case.pk)
        else:
            raise Http404
    return render(
        request,
        "cases/verify.html",
        {
            "case": case,
            "rows": [{"check": check, "form": check_forms[check.pk]} for check in checks],
            "checks": checks,
            "propose_form": propose_form,
        },
    )


@permission_required(("cases.view_case", "cases.decide_case"), raise_exception=True)
@never_cache
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The case manager's decision: verified or rejected, with a reason, four-eyes."""
    case = _detail_or_404(pk)
    form = DecisionForm(request.POST or None, initial={"decision": case.proposed_decision or None})
    if request.method == "POST" and form.is_valid():
        try:
            services.case_decide(case=case, actor=request.user, **form.cleaned_data)
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("cases:detail", pk=case.pk)
    took_part = request.user.pk == case.intake_officer_id or request.user.pk in (
        services.case_verifier_ids(case)
    )
    return render(
        request,
        "cases/decide.html",
        {"case": case, "form": form, "checks": _ordered_checks(case), "took_part": took_part},
    )


def _reason_page(
    request: HttpRequest,
    pk: int,
    *,
    change: Callable[..., Case],
    allowed: Callable[[Case], bool],
    title: str,
    explanation: str,
    not_allowed: str,
    button: str,
    done: str,
) -> HttpResponse:
    case = _case_or_404(pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change(case=case, actor=request.user, reason=form.cleaned_data["reason"])
        except (CaseError, PermissionDenied) as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(request, done)
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "cases/reason_action.html",
        {
            "case": case,
            "form": form,
            "title": title,
            "explanation": explanation,
            "not_allowed": "" if allowed(case) else not_allowed,
            "button": button,
        },
    )


@permission_required(("cases.view_case", "cases.change_case"), raise_exception=True)
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(
        request,
        pk,
        change=services.case_withdraw,
        allowed=lambda case: case.is_open,
        title=_("Withdraw the case"),
        explanation=_(
            "Withdraw a case when the person no longer wants our help or cannot be reached. "
            "A case manager can re-open it later."
        ),
        not_allowed=_("Only an open case can be withdrawn."),
        button=_("Withdraw the case"),
        done=_("The case is withdrawn."),
    )


@permission_required(("cases.view_case", "cases.decide_case"), raise_exception=True)
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(
        request,
        pk,
        change=services.case_reopen,
        allowed=lambda case: case.status in (Status.REJECTED, Status.WITHDRAWN),
        title=_("Re-open the case"),
        explanation=_(
            "The case goes back to intake; its checks start again and another verification "
            "and decision are needed."
        ),
        not_allowed=_("Only a rejected or withdrawn case can be re-opened."),
        button=_("Re-open the case"),
        done=_("The case is re-opened and back in intake."),
    )


@permission_required(
    ("cases.view_case", "cases.manage_safety", "accounts.reveal_identity"), raise_exception=True
)
@never_cache
def case_safety_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """The safety plan and the assigned case manager (the plan is shown in clear: logged)."""
    case = _case_or_404(pk)
    stale = False
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            try:
                services.case_update_safety_plan(case=case, actor=request.user, **form.cleaned_data)
            except StaleEditError as error:
                stale = True
                form.add_error(None, refusal_message(error))
            except (CaseError, PermissionDenied) as error:
                form.add_error(None, refusal_message(error))
            else:
                messages.success(request, _("The safety plan is saved."))
                return redirect("cases:journey", pk=case.pk)
    else:
        plan = ""
        if _has_value(case, "safety_plan"):
            plan = protected_field_reveal(
                actor=request.user, obj=case, field_name="safety_plan", request=request
            )
        form = SafetyPlanForm(
            initial={
                "version": case.version,
                "safety_plan": plan,
                "case_manager": case.case_manager_id,
            }
        )
    return render(request, "cases/safety_plan.html", {"case": case, "form": form, "stale": stale})


# --- duplicates --------------------------------------------------------------------------------


def _pair_prefix(first_pk: int, second_pk: int) -> str:
    return f"pair-{first_pk}-{second_pk}"


@permission_required(("cases.view_case", "cases.review_duplicates"), raise_exception=True)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """Pairs of cases that may be the same person, each with a "not a duplicate" form."""
    bound, bound_key = None, None
    if request.method == "POST":
        first = get_object_or_404(Case, pk=_posted_int(request, "first"))
        second = get_object_or_404(Case, pk=_posted_int(request, "second"))
        bound_key = (first.pk, second.pk)
        bound = DuplicateDismissForm(request.POST, prefix=_pair_prefix(*bound_key))
        if bound.is_valid():
            try:
                services.duplicate_dismiss(
                    first=first, second=second, actor=request.user, **bound.cleaned_data
                )
            except (CaseError, PermissionDenied) as error:
                bound.add_error(None, refusal_message(error))
            else:
                messages.success(
                    request,
                    _("%(first)s and %(second)s are marked as different people.")
                    % {"first": first.code, "second": second.code},
                )
                return redirect("cases:duplicates")
    rows = []
    for pair in selectors.possible_duplicates():
        key = (pair.first.pk, pair.second.pk)
        rows.append(
            {
                "pair": pair,
                "reasons": [DUPLICATE_REASON_LABELS.get(reason, reason) for reason in pair.reasons],
                "form": bound
                if key == bound_key
                else DuplicateDismissForm(prefix=_pair_prefix(*key)),
            }
        )
    shown = {(row["pair"].first.pk, row["pair"].second.pk) for row in rows}
    if bound is not None and bound_key not in shown and bound.non_field_errors():
        # The pair has left the list (e.g. someone dismissed it meanwhile): say why here.
        messages.error(request, " ".join(bound.non_field_errors()))
    return render(request, "cases/duplicates.html", {"rows": rows})
