"""The directory of partner organisations that cases are referred to."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import permission_required_logged, refusal_message
from cases import services
from cases.forms import PartnerForm
from cases.models import Partner
from cases.services import CaseError
from cases.views.common import _posted_int


@permission_required_logged("cases.manage_safety", log_reads=False)
def partner_list(request: HttpRequest) -> HttpResponse:
    """Every partner, the ones in use first, with a form to add one and to retire one."""
    form = PartnerForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            form = PartnerForm(request.POST)
            if form.is_valid():
                try:
                    partner = services.partner_create(actor=request.user, **form.cleaned_data)
                except (CaseError, PermissionDenied) as error:
                    form.add_error(None, refusal_message(error))
                else:
                    messages.success(
                        request, _("%(name)s is in the directory.") % {"name": partner.name}
                    )
                    return redirect("cases:partners")
        elif action in ("retire", "restore"):
            partner = get_object_or_404(Partner, pk=_posted_int(request, "partner"))
            try:
                services.partner_set_active(
                    partner=partner, actor=request.user, active=action == "restore"
                )
            except (CaseError, PermissionDenied) as error:
                messages.error(request, refusal_message(error))
            return redirect("cases:partners")
        else:
            raise Http404
    partners = Partner.objects.order_by("-active", "name")
    return render(request, "cases/partners.html", {"partners": partners, "form": form})
