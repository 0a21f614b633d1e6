"""The answer form behind the personal link: German, accessible, no JavaScript needed.

`GET /umfrage/<token>` shows the questionnaire with the saved draft; the form posts back
to the same address (`aktion=speichern` saves a draft, `aktion=absenden` submits).
The form is read with the standard library (urlencoded), so no multipart parser is
needed. Skip logic cannot hide fields without JavaScript: dependent questions say when
they apply, and answers to questions that do not apply are dropped on saving.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from lobu.shared import ServiceRouter
from lobu.surveys.answering import AnswerDesk
from lobu.surveys.errors import InvalidAnswersError, InvitationNotFoundError, SurveyClosedError
from lobu.surveys.schemas import AnswersForm, AnswersSubmission, QuestionSpec, QuestionType

router = ServiceRouter(include_in_schema=False)
templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("lobu.surveys", "templates"), autoescape=select_autoescape(["html"])
    )
)
MAX_FORM_BYTES = 256 * 1024
# The page's address holds the token: it must not travel on to other sites.
HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _desk(request: Request) -> AnswerDesk:
    desk: AnswerDesk = request.app.state.answer_desk
    return desk


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HEADERS
    )


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
    request: Request, form: AnswersForm, values: dict[str, Any], *, errors: dict[str, str],
    saved: bool, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    labels = {q.key: {option.code: option.label for option in q.options} for q in form.questions}
    context = {"form": form, "values": values, "errors": errors, "labels": labels, "saved": saved}
    return _page(request, "form.html", context, status_code)


async def _form_or_page(request: Request, token: str) -> AnswersForm | HTMLResponse:
    try:
        return await _desk(request).form(token, None)
    except InvitationNotFoundError:
        return _page(request, "not_found.html", {}, 404)
    except SurveyClosedError as error:
        return _page(request, "closed.html", {"detail": error.detail}, 410)


@router.get("/umfrage/{token}", response_class=HTMLResponse)
async def answer_page(request: Request, token: str) -> HTMLResponse:
    """The questionnaire with what was saved; a notice once it has been submitted."""
    form = await _form_or_page(request, token)
    if isinstance(form, HTMLResponse):
        return form
    values = form.draft if form.draft else (form.answers or {})
    return _form_page(request, form, values, errors={}, saved=False)


@router.post("/umfrage/{token}", response_class=HTMLResponse)
async def answer_page_post(request: Request, token: str) -> HTMLResponse:
    """Save the draft or submit; errors are shown next to their fields."""
    form = await _form_or_page(request, token)
    if isinstance(form, HTMLResponse):
        return form
    body = await request.body()
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    submit = fields.get("aktion", ["speichern"])[0] == "absenden"
    answers = _answers_from_form(form.questions, fields)
    try:
        saved = await _desk(request).save(
            token, AnswersSubmission(answers=answers, submit=submit), None
        )
    except InvalidAnswersError as error:
        errors = {item["field"]: item["message"] for item in error.extensions["errors"]}
        return _form_page(request, form, answers, errors=errors, saved=False, status_code=422)
    except SurveyClosedError as error:
        return _page(request, "closed.html", {"detail": error.detail}, 410)
    if submit:
        return _page(request, "thanks.html", {"form": form, "view": saved})
    form = await _desk(request).form(token, None)
    return _form_page(request, form, saved.draft, errors={}, saved=True)
