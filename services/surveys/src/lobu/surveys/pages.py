"""The answer form, by personal link or for a signed-in coordinator: German, accessible,
no JavaScript needed.

`GET /umfrage/<token>` shows the questionnaire behind a personal link with the saved
draft; `GET /mein-buendnis/umfrage` shows the same form for the survey the session's
alliance is invited to (the session authorises it: the link, stored only hashed, is
neither needed nor shown). Both forms post back to their own address
(`aktion=speichern` saves a draft, `aktion=absenden` submits) and share one
implementation (`AnswerPage`); the session's form carries the CSRF value and the
survey's id, so that a survey opened meanwhile cannot receive answers meant for
another. Skip logic cannot hide fields without JavaScript: dependent questions say
when they apply, and answers to questions that do not apply are dropped on saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import CheckedForm, CoordinatorPage, browser_session
from lobu.surveys.answering import (
    SESSION_PAGE,
    AllianceKey,
    AnswerDesk,
    AnswerKey,
    LinkKey,
    NoOpenSurvey,
)
from lobu.surveys.errors import (
    InvalidAnswersError,
    InvitationNotFoundError,
    NotYourInvitationError,
    SurveyClosedError,
)
from lobu.surveys.page_templates import render
from lobu.surveys.schemas import AnswersForm, AnswersSubmission, QuestionSpec, QuestionType

router = ServiceRouter(include_in_schema=False)
MAX_FORM_BYTES = 256 * 1024
SURVEY_FIELD = "_umfrage"  # no question key starts with "_"
# The link's address holds the token: it must not travel on to other sites; and no
# page with an alliance's answers belongs in a cache.
HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class AnswerPage:
    """How one route finds its invitation; everything else the two routes share."""

    key: AnswerKey
    by_link: bool  # the personal link's page (wording, footer) or the session's
    again_url: str  # where the answers can be seen and changed again


def _desk(request: Request) -> AnswerDesk:
    desk: AnswerDesk = request.app.state.answer_desk
    return desk


def _page(
    request: Request, page: AnswerPage, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    context = {"by_link": page.by_link, "again_url": page.again_url, **context}
    return render(request, name, context, status_code=status_code, headers=HEADERS)


def _answers_from_form(
    questions: list[QuestionSpec], fields: dict[str, list[str]]
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questions:
        values = [value for value in fields.get(question.key, []) if value != ""]
        if question.type is QuestionType.MULTIPLE:
            if values:
                answers[question.key] = values
        elif values:
            answers[question.key] = values[0]
    return answers


def _form_page(
    request: Request, page: AnswerPage, form: AnswersForm, values: dict[str, Any], *,
    errors: dict[str, str], saved: bool, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    labels = {q.key: {option.code: option.label for option in q.options} for q in form.questions}
    context = {
        "form": form, "values": values, "errors": errors, "labels": labels, "saved": saved,
        "survey_field": SURVEY_FIELD,
    }  # fmt: skip
    return _page(request, page, "form.html", context, status_code)


async def _form_or_page(request: Request, page: AnswerPage) -> AnswersForm | HTMLResponse:
    try:
        return await _desk(request).form_of(page.key)
    except InvitationNotFoundError:
        return _page(request, page, "not_found.html", {}, 404)
    except NotYourInvitationError:
        return _page(request, page, "not_yours.html", {}, 403)
    except SurveyClosedError as error:
        return _page(request, page, "closed.html", {"detail": error.detail}, 410)


async def show(request: Request, page: AnswerPage) -> HTMLResponse:
    """The questionnaire with what was saved; a notice once it has been submitted."""
    form = await _form_or_page(request, page)
    if isinstance(form, HTMLResponse):
        return form
    values = form.draft if form.draft else (form.answers or {})
    return _form_page(request, page, form, values, errors={}, saved=False)


async def answer(request: Request, page: AnswerPage, fields: dict[str, list[str]]) -> HTMLResponse:
    """Save the draft or submit; errors are shown next to their fields."""
    form = await _form_or_page(request, page)
    if isinstance(form, HTMLResponse):
        return form
    submit = fields.get("aktion", ["speichern"])[0] == "absenden"
    answers = _answers_from_form(form.questions, fields)
    desk = _desk(request)
    try:
        saved = await desk.save_of(page.key, AnswersSubmission(answers=answers, submit=submit))
    except InvalidAnswersError as error:
        errors = {item["field"]: item["message"] for item in error.extensions["errors"]}
        return _form_page(request, page, form, answers, errors=errors, saved=False, status_code=422)
    except SurveyClosedError as error:
        return _page(request, page, "closed.html", {"detail": error.detail}, 410)
    if submit:
        return _page(request, page, "thanks.html", {"form": form, "view": saved})
    form = await desk.form_of(page.key)
    return _form_page(request, page, form, saved.draft, errors={}, saved=True)


def _link_page(request: Request, token: str) -> AnswerPage:
    """The link is the credential; a coordinator signed in may use only their own alliance's."""
    session = browser_session(request)
    key = LinkKey(token, session.caller if session else None)
    return AnswerPage(key=key, by_link=True, again_url="")


@router.get("/umfrage/{token}", response_class=HTMLResponse)
async def answer_page(request: Request, token: str) -> HTMLResponse:
    """The form behind a personal link (no session needed)."""
    return await show(request, _link_page(request, token))


@router.post("/umfrage/{token}", response_class=HTMLResponse)
async def answer_page_post(request: Request, token: str) -> HTMLResponse:
    """Save or submit by personal link: the link itself is the credential."""
    body = await request.body()
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    return await answer(request, _link_page(request, token), fields)


@router.get(SESSION_PAGE, response_class=HTMLResponse)
async def my_survey_page(request: Request, caller: CoordinatorPage) -> HTMLResponse:
    """The open survey of the coordinator's alliance, or when the next one opens."""
    found = await _desk(request).current(caller.alliance_id or "")
    if isinstance(found, NoOpenSurvey):
        context = {"by_link": False, "upcoming": found}
        return render(request, "no_survey.html", context, headers=HEADERS)
    return await show(request, AnswerPage(key=found, by_link=False, again_url=SESSION_PAGE))


@router.post(SESSION_PAGE, response_class=HTMLResponse)
async def my_survey_post(
    request: Request, caller: CoordinatorPage, form: CheckedForm
) -> HTMLResponse:
    """Save or submit for the session's alliance, to the survey the form was shown for."""
    survey_id = form.get(SURVEY_FIELD)
    key = AllianceKey(
        alliance_id=caller.alliance_id or "",
        survey_id=survey_id if isinstance(survey_id, str) else "",
    )
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return await answer(request, AnswerPage(key=key, by_link=False, again_url=SESSION_PAGE), fields)
