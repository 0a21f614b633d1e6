"""„Mein Bündnis“: a coordinator edits their alliance's entry and contacts in a form.

The form carries the version it was loaded at; saving is the same compare-and-set as
the API's `PATCH` with `If-Match`, so when someone else saved first the coordinator
sees a German message and the current entry, and nothing of theirs is lost silently.
A contact of several alliances switches between them here.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.directory.errors import StaleVersionError
from lobu.directory.my_alliance_form import EntryForm, read_entry_form
from lobu.directory.pages import templates
from lobu.directory.service import AllianceDirectory
from lobu.directory.sign_in import SignInRefusedError, SignIns
from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import (
    CheckedForm,
    CoordinatorPage,
    PageSession,
    browser_session,
    set_session_cookie,
)

router = ServiceRouter(include_in_schema=False)
CONFLICT = (
    "Jemand anderes hat den Eintrag gespeichert, während Sie ihn bearbeitet haben. Unten "
    "sehen Sie den aktuellen Stand; Ihre Änderungen wurden nicht gespeichert. Bitte tragen "
    "Sie sie noch einmal ein."
)


async def _render(
    request: Request, alliance_id: str, entry: EntryForm | None, *, status_code: int = 200,
    notice: str | None = None, conflict: str | None = None,
) -> HTMLResponse:  # fmt: skip
    directory: AllianceDirectory = request.app.state.directory
    sign_ins: SignIns = request.app.state.sign_ins
    alliance = await directory.get(alliance_id)
    session = browser_session(request)
    memberships = await sign_ins.memberships(session.email) if session else []
    context = {
        "alliance": alliance, "entry": entry or EntryForm.of(alliance), "notice": notice,
        "conflict": conflict, "memberships": memberships,
    }  # fmt: skip
    return templates.TemplateResponse(request, "my_alliance.html", context, status_code=status_code)


@router.get("/mein-buendnis", response_class=HTMLResponse)
async def my_alliance(request: Request, caller: CoordinatorPage) -> HTMLResponse:
    """The entry of the session's alliance, as a form."""
    notice = (
        "Ihre Änderungen sind gespeichert." if request.query_params.get("gespeichert") else None
    )
    if request.query_params.get("unveraendert"):
        notice = "Sie haben nichts geändert."
    return await _render(request, str(caller.alliance_id), None, notice=notice)


@router.post("/mein-buendnis", response_class=HTMLResponse)
async def save_my_alliance(
    request: Request, caller: CoordinatorPage, form: CheckedForm
) -> Response:
    """Save the form as a compare-and-set on its version."""
    alliance_id = str(caller.alliance_id)
    entry, change = read_entry_form(form)
    if change is None:
        return await _render(request, alliance_id, entry, status_code=422)
    directory: AllianceDirectory = request.app.state.directory
    before = await directory.get(alliance_id)
    try:
        after = await directory.update(
            alliance_id, change, expected_version=entry.version, actor=caller
        )
    except StaleVersionError:
        return await _render(request, alliance_id, None, status_code=409, conflict=CONFLICT)
    outcome = "gespeichert" if after.version != before.version else "unveraendert"
    return RedirectResponse(f"/mein-buendnis?{outcome}=1", status_code=303)


@router.post("/mein-buendnis/wechseln", response_class=HTMLResponse)
async def switch_alliance(
    request: Request, _caller: CoordinatorPage, form: CheckedForm, session: PageSession
) -> Response:
    """Continue as the contact of another of one's alliances (a new session for it)."""
    sign_ins: SignIns = request.app.state.sign_ins
    wanted = str(form.get("alliance_id") or "")
    if session is None:  # a bearer token has no session to switch
        return RedirectResponse("/mein-buendnis", status_code=303)
    try:
        signed_in = await sign_ins.switch(session, wanted)
    except SignInRefusedError:
        return RedirectResponse("/mein-buendnis", status_code=303)
    response = RedirectResponse(signed_in.next_url, status_code=303)
    set_session_cookie(
        response, signed_in.token, signed_in.session, secure=request.app.state.secure_cookies
    )
    return response
