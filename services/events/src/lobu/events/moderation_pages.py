"""The Servicebüro's moderation queue of actions: publish, or reject with a reason.

`AdminPage` only. The queue is the submitted actions of the current (or chosen)
edition, oldest submission first; each has a button to publish it into the public
programme (`Actions.publish`) and a form to send it back with a reason the coordinator
reads (`Actions.reject`, the reason required as in the API's `RejectRequest`). Both
are `CheckedForm`s and answer 303 back to the queue with what was done.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.events.action_form import UNSTORABLE
from lobu.events.errors import ActionNotFoundError, InvalidTransitionError
from lobu.events.models import ActionState
from lobu.events.page_editions import STATE_LABELS, chosen_edition
from lobu.events.page_support import render, state_of
from lobu.events.programme import Programme, ProgrammeQuery
from lobu.events.service import Actions, Editions
from lobu.shared import ServiceRouter
from lobu.shared.input_text import text_problem
from lobu.shared.web_sessions import AdminPage, CheckedForm

router = ServiceRouter(include_in_schema=False)
QUEUE = "/verwaltung/aktionen"
MAX_REASON = 2000
DONE = {
    "veroeffentlicht": "„{title}“ ist veröffentlicht und steht im Programm.",
    "abgelehnt": "„{title}“ ist abgelehnt; das Bündnis sieht Ihre Begründung.",
}


async def _queue_page(
    request: Request, *, year: str | None, errors: dict[str, dict[str, str]] | None = None,
    reasons: dict[str, str] | None = None, message: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    editions: Editions = state_of(request, "editions")
    edition, every = await chosen_edition(editions, year)
    found = []
    if edition is not None:
        programme: Programme = state_of(request, "programme")
        query = ProgrammeQuery(year=edition.year, states=frozenset({ActionState.SUBMITTED}))
        found = sorted(await programme.find(query), key=lambda f: f.action.updated_at)
    notice = None
    done, title = request.query_params.get("erledigt", ""), request.query_params.get("titel", "")
    if done in DONE and title:
        notice = DONE[done].format(title=title)
    context: dict[str, Any] = {
        "edition": edition, "editions": every, "found": found, "labels": STATE_LABELS,
        "errors": errors or {}, "reasons": reasons or {}, "notice": notice, "message": message,
        "max_reason": MAX_REASON,
    }  # fmt: skip
    return render(request, "moderation.html", context, status_code=status_code)


@router.get(QUEUE, response_class=HTMLResponse)
async def moderation_queue(request: Request, _caller: AdminPage) -> HTMLResponse:
    """The submitted actions waiting for a decision."""
    return await _queue_page(request, year=request.query_params.get("jahr"))


def _back(year: int, done: str, title: str) -> RedirectResponse:
    query = urlencode({"jahr": year, "erledigt": done, "titel": title})
    return RedirectResponse(f"{QUEUE}?{query}", status_code=303)


GONE = (
    "Diese Aktion wartet nicht mehr auf eine Entscheidung (jemand anderes war schneller, "
    "oder das Bündnis hat sie zurückgezogen). Die Liste zeigt den aktuellen Stand."
)


@router.post(QUEUE + "/{action_id}/veroeffentlichen", response_class=HTMLResponse)
async def publish_page(
    request: Request, caller: AdminPage, _posted: CheckedForm, action_id: str
) -> Response:
    """Publish the action into the public programme."""
    actions: Actions = state_of(request, "actions")
    try:
        done = await actions.publish(action_id, actor=caller)
    except (ActionNotFoundError, InvalidTransitionError):
        return await _queue_page(request, year=None, message=GONE, status_code=409)
    return _back(done.edition_year, "veroeffentlicht", done.title)


@router.post(QUEUE + "/{action_id}/ablehnen", response_class=HTMLResponse)
async def reject_page(
    request: Request, caller: AdminPage, posted: CheckedForm, action_id: str
) -> Response:
    """Send the action back; the reason is required and the coordinator reads it."""
    raw = posted.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    year = posted.get("jahr")
    year_text = year if isinstance(year, str) else None
    problem = None
    if not reason:
        problem = "Bitte schreiben Sie dem Bündnis, warum die Aktion nicht veröffentlicht wird."
    elif len(reason) > MAX_REASON:
        problem = f"Bitte höchstens {MAX_REASON} Zeichen."
    elif text_problem(reason):
        problem = UNSTORABLE
    if problem:
        return await _queue_page(request, year=year_text, errors={action_id: {"reason": problem}},
                                 reasons={action_id: reason}, status_code=422)  # fmt: skip
    actions: Actions = state_of(request, "actions")
    try:
        done = await actions.reject(action_id, reason=reason, actor=caller)
    except (ActionNotFoundError, InvalidTransitionError):
        return await _queue_page(request, year=year_text, message=GONE, status_code=409)
    return _back(done.edition_year, "abgelehnt", done.title)
