"""Survey management pages for Servicebüro staff: a new draft from last year's survey,
open, close, publish results, each through the service layer the JSON API calls.

Every action is a CSRF-checked form (`CheckedForm`); opening, closing and publishing
cannot be undone, so the list's buttons lead to a confirmation page whose form does
it. After an action the browser is sent back to `/umfragen` with a notice (303).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import AdminPage, CheckedForm
from lobu.surveys.errors import SurveyNotFoundError, SurveyStateError
from lobu.surveys.management_views import (
    STATE_NAMES,
    STEPS,
    Step,
    check_copy,
    management_context,
    next_step,
    state_refusal,
)
from lobu.surveys.page_templates import render
from lobu.surveys.schemas import SurveyPublic
from lobu.surveys.service import SurveyCatalogue

router = ServiceRouter(include_in_schema=False)
HEADERS = {"Cache-Control": "no-store"}
COPY_FIELDS = ("quelle", "jahr", "titel", "beginn", "ende")


def _catalogue(request: Request) -> SurveyCatalogue:
    catalogue: SurveyCatalogue = request.app.state.catalogue
    return catalogue


@router.post("/umfragen/neu", response_class=HTMLResponse)
async def copy_page(request: Request, _caller: AdminPage, form: CheckedForm) -> Response:
    """A new draft with the questions of the chosen survey; errors next to their fields."""
    catalogue = _catalogue(request)
    surveys = (await catalogue.page(cursor=None, limit=200)).items
    values = {name: str(form.get(name) or "") for name in COPY_FIELDS}
    checked = check_copy(values, {s.id for s in surveys}, catalogue.clock())
    if checked.request is None:
        context = {
            "heading": "Umfragen", "caption": "Alle Umfragen, neuestes Jahr zuerst",
            "surveys": surveys, "state_names": STATE_NAMES, "compare_years": "",
            "link": lambda s: f"/umfragen/{s.id}/ergebnisse",
            **await management_context(request, catalogue, surveys, checked),
        }  # fmt: skip
        return render(request, "results/list.html", context, status_code=422, headers=HEADERS)
    draft = await catalogue.copy(values["quelle"], checked.request)
    return RedirectResponse(f"/umfragen?hinweis=kopiert&umfrage={draft.id}", status_code=303)


async def _survey(request: Request, survey_id: str) -> SurveyPublic | None:
    try:
        return await _catalogue(request).get(survey_id)
    except SurveyNotFoundError:
        return None


def _confirm(
    request: Request, step: Step, survey: SurveyPublic | None, *, refusal: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    if survey is None:
        return render(request, "results/missing.html", {}, status_code=404, headers=HEADERS)
    context = {
        "step": step, "survey": survey, "state_name": STATE_NAMES[survey.state],
        "refusal": refusal,
    }  # fmt: skip
    return render(
        request, "results/confirm.html", context, status_code=status_code, headers=HEADERS
    )


async def _take(request: Request, step: Step, survey_id: str) -> SurveyPublic:
    catalogue = _catalogue(request)
    if step.slug == "oeffnen":
        return await catalogue.open(survey_id)
    if step.slug == "schliessen":
        return await catalogue.close(survey_id)
    return await catalogue.publish_results(survey_id)


def _routes(step: Step) -> None:
    path = f"/umfragen/{{survey_id}}/{step.slug}"

    @router.get(path, response_class=HTMLResponse, name=f"confirm_{step.slug}")
    async def confirm(request: Request, survey_id: str, _caller: AdminPage) -> HTMLResponse:
        """Ask before an action that cannot be undone."""
        survey = await _survey(request, survey_id)
        refusal = None
        current = next_step(survey) if survey is not None else None
        if survey is not None and (current is None or current.slug != step.slug):
            refusal = state_refusal(step.slug, survey, _catalogue(request).clock())
        return _confirm(request, step, survey, refusal=refusal, status_code=409 if refusal else 200)

    @router.post(path, response_class=HTMLResponse, name=f"take_{step.slug}")
    async def take(
        request: Request, survey_id: str, _caller: AdminPage, _form: CheckedForm
    ) -> Response:
        """Do it, then back to the list with a notice; a German 409 if the state forbids it."""
        try:
            survey = await _take(request, step, survey_id)
        except SurveyNotFoundError:
            return _confirm(request, step, None)
        except SurveyStateError:
            now = await _survey(request, survey_id)
            refusal = state_refusal(step.slug, now, _catalogue(request).clock()) if now else None
            return _confirm(request, step, now, refusal=refusal, status_code=409)
        target = f"/umfragen?hinweis={step.slug}&umfrage={survey.id}"
        return RedirectResponse(target, status_code=303)


for _step in STEPS.values():
    _routes(_step)
