"""Reveal budgets: who was refused a reveal today for their budget, and a second person's raise."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from accounts import budgets
from accounts.forms import StyledForm
from accounts.models import RevealAllowance, User
from accounts.permissions import refusal_message


class RaiseForm(StyledForm):
    user = forms.ModelChoiceField(
        label=_("Staff member"), queryset=User.objects.none(), empty_label=_("Choose…")
    )
    extra = forms.IntegerField(
        label=_("Extra reveals for today"), min_value=1, max_value=budgets.MAX_RAISE, initial=10
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=500,
        help_text=_("In a few words. Never the name of a person Haven helps."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, actor: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Nobody raises their own budget: they are not offered.
        self.fields["user"].queryset = User.objects.filter(is_active=True).exclude(pk=actor.pk)


@permission_required("accounts.raise_reveal_budget", raise_exception=True)
def reveal_budgets(request: HttpRequest) -> HttpResponse:
    form = RaiseForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            budgets.reveal_budget_raise(actor=request.user, request=request, **form.cleaned_data)
        except PermissionDenied as error:
            form.add_error(None, refusal_message(error))
        else:
            messages.success(
                request,
                _("%(user)s may reveal %(extra)d more records today.")
                % {"user": form.cleaned_data["user"], "extra": form.cleaned_data["extra"]},
            )
            return redirect("accounts:reveal_budgets")
    return render(
        request,
        "accounts/reveal_budgets.html",
        {
            "form": form,
            "over_budget": budgets.over_budget_today(),
            "raises": RevealAllowance.objects.select_related("user", "granted_by")[:20],
        },
    )
