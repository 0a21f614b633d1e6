"""„Mein Bündnis – Aktionstag“: a coordinator's pages for their own alliance's actions.

Only the session's alliance (`CoordinatorPage`: role `alliance`, `caller.alliance_id`).
Each page calls the same use case as the JSON API with the caller as actor, so the
rules are the API's: coordinators enter and change drafts and rejected actions inside
the entry window, submit them, and read their registrations; the service refuses
another alliance's action (shown as 404, so that its existence is not told). Every
form is a `CheckedForm` (the session's CSRF value) and answers 303 when it worked, so
that reloading never sends it twice; a refused form comes back with German messages
next to its fields (422) or a conflict message (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.events.action_form import (
    ActionForm,
    empty_values,
    german_service_message,
    read_action_form,
    values_of,
)
from lobu.events.errors import (
    ActionNotFoundError,
    AllianceUnknownError,
    CapacityConflictError,
    EditionNotFoundError,
    EntryClosedError,
    InvalidActionError,
    InvalidTransitionError,
    NotAllowedError,
    StaleVersionError,
)
from lobu.events.models import ActionState
from lobu.events.page_editions import STATE_LABELS, chosen_edition
from lobu.events.page_support import render, state_of
from lobu.events.programme import Programme, ProgrammeQuery
from lobu.events.registrations_export import all_registrations, registrations_csv
from lobu.events.schemas import ActionPrivate
from lobu.events.service import Actions, Editions, Registrations
from lobu.shared import Caller, ServiceRouter
from lobu.shared.web_sessions import CheckedForm, CoordinatorPage

router = ServiceRouter(include_in_schema=False)
HOME = "/mein-buendnis/aktionen"
EDITABLE = {ActionState.DRAFT.value, ActionState.REJECTED.value}
NOTICES = {
    "neu": "Die Aktion ist als Entwurf gespeichert. Reichen Sie sie ein, wenn sie fertig ist.",
    "gespeichert": "Ihre Änderungen sind gespeichert.",
    "eingereicht": "Die Aktion ist eingereicht. Das Servicebüro prüft sie und veröffentlicht "
    "sie dann im Programm; Sie sehen den Stand hier.",
}
ENTRY_CLOSED = (
    "Die Eintragung für diesen Aktionstag ist geschlossen. Für Änderungen wenden Sie sich "
    "bitte an das Servicebüro."
)
UNKNOWN_ALLIANCE = (
    "Ihr Bündnis ist im Verzeichnis (noch) nicht als aktiv bekannt. Bitte versuchen Sie es "
    "in einigen Minuten noch einmal oder wenden Sie sich an das Servicebüro."
)
STALE = (
    "Jemand anderes hat diese Aktion gespeichert, während Sie sie bearbeitet haben. Ihre "
    "Eingaben wurden nicht gespeichert; sie stehen noch unten im Formular. Bitte vergleichen "
    "Sie sie mit dem gespeicherten Stand (Seite neu laden in einem anderen Tab) und senden "
    "Sie das Formular erneut, wenn Ihre Fassung gelten soll."
)


def _not_found(request: Request) -> HTMLResponse:
    return render(request, "not_found.html", {"what": "Diese Aktion"}, status_code=404)


async def _own_action(request: Request, caller: Caller, action_id: str) -> ActionPrivate | None:
    """The action, if it belongs to the caller's alliance (else None: shown as 404)."""
    actions: Actions = state_of(request, "actions")
    try:
        return await actions.get_private(action_id, actor=caller)
    except (ActionNotFoundError, NotAllowedError):
        return None


@router.get(HOME, response_class=HTMLResponse)
async def my_actions(request: Request, caller: CoordinatorPage) -> HTMLResponse:
    """The alliance's actions of the current (or chosen) edition, each with its state."""
    editions: Editions = state_of(request, "editions")
    edition, every = await chosen_edition(editions, request.query_params.get("jahr"))
    found = []
    if edition is not None:
        programme: Programme = state_of(request, "programme")
        query = ProgrammeQuery(year=edition.year, states=frozenset(ActionState),
                               only_alliance=caller.alliance_id or "")  # fmt: skip
        found = await programme.find(query)
    alliance = found[0].alliance.name if found and found[0].alliance else None
    context: dict[str, Any] = {
        "edition": edition, "editions": every, "found": found, "alliance_name": alliance,
        "labels": STATE_LABELS, "editable": EDITABLE,
        "notice": NOTICES.get(request.query_params.get("hinweis", "")),
    }  # fmt: skip
    return render(request, "my_actions.html", context)


def _form_page(
    request: Request, *, year: int, form: ActionForm | None = None,
    action: ActionPrivate | None = None, message: str | None = None,
    notice: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    values = form.values if form else (values_of(action) if action else empty_values())
    context: dict[str, Any] = {
        "year": year, "action": action, "values": values,
        "errors": form.errors if form else {}, "message": message, "notice": notice,
        "labels": STATE_LABELS,
        "editable": action is None or action.state in EDITABLE,
    }  # fmt: skip
    return render(request, "action_entry.html", context, status_code=status_code)


@router.get(f"{HOME}/neu", response_class=HTMLResponse)
async def new_action_page(request: Request, caller: CoordinatorPage) -> HTMLResponse:
    """An empty form for a new action of the current (or chosen) edition."""
    editions: Editions = state_of(request, "editions")
    edition, _ = await chosen_edition(editions, request.query_params.get("jahr"))
    if edition is None:
        return render(request, "not_found.html", {"what": "Einen Aktionstag"}, status_code=404)
    return _form_page(request, year=edition.year)


@router.post(f"{HOME}/neu", response_class=HTMLResponse)
async def create_action_page(
    request: Request, caller: CoordinatorPage, posted: CheckedForm
) -> Response:
    """Enter the action as a draft (Actions.create, as POST /editions/{year}/actions)."""
    year_text = posted.get("jahr")
    year = int(year_text) if isinstance(year_text, str) and year_text.isdigit() else 0
    form = read_action_form(posted)
    if not form.valid:
        return _form_page(request, year=year, form=form, status_code=422)
    actions: Actions = state_of(request, "actions")
    try:
        created = await actions.create(year, form.create_request(), actor=caller)
    except EditionNotFoundError:
        return render(request, "not_found.html", {"what": "Dieser Aktionstag"}, status_code=404)
    except EntryClosedError:
        return _form_page(request, year=year, form=form, message=ENTRY_CLOSED, status_code=409)
    except AllianceUnknownError:
        return _form_page(request, year=year, form=form, message=UNKNOWN_ALLIANCE,
                          status_code=409)  # fmt: skip
    return RedirectResponse(f"{HOME}/{created.id}?hinweis=neu", status_code=303)


@router.get(HOME + "/{action_id}", response_class=HTMLResponse)
async def action_entry_page(request: Request, caller: CoordinatorPage, action_id: str) -> Response:
    """The action: its form while it may be changed, else what was entered, and its state."""
    action = await _own_action(request, caller, action_id)
    if action is None:
        return _not_found(request)
    notice = NOTICES.get(request.query_params.get("hinweis", ""))
    return _form_page(request, year=action.edition_year, action=action, notice=notice)


@router.post(HOME + "/{action_id}", response_class=HTMLResponse)
async def update_action_page(
    request: Request, caller: CoordinatorPage, posted: CheckedForm, action_id: str
) -> Response:
    """Save the changed form (Actions.update with the form's version, as PATCH + If-Match)."""
    action = await _own_action(request, caller, action_id)
    if action is None:
        return _not_found(request)
    form = read_action_form(posted)
    year = action.edition_year
    if not form.valid:
        return _form_page(request, year=year, form=form, action=action, status_code=422)
    actions: Actions = state_of(request, "actions")
    try:
        await actions.update(action_id, form.update_request(), actor=caller,
                             expected_version=form.version)  # fmt: skip
    except StaleVersionError as stale:
        current = int(stale.extensions.get("current_version", action.version))
        form.values["version"] = str(current)
        return _form_page(request, year=year, form=form, action=action, message=STALE,
                          status_code=409)  # fmt: skip
    except InvalidTransitionError:
        fresh = await _own_action(request, caller, action_id) or action
        message = (f"Diese Aktion ist {STATE_LABELS[fresh.state]} und kann von Ihnen nicht mehr "
                   "geändert werden. Ihre Eingaben wurden nicht gespeichert.")  # fmt: skip
        return _form_page(request, year=year, form=form, action=fresh, message=message,
                          status_code=409)  # fmt: skip
    except EntryClosedError:
        return _form_page(request, year=year, form=form, action=action, message=ENTRY_CLOSED,
                          status_code=409)  # fmt: skip
    except CapacityConflictError:
        form.errors["capacity"] = (f"Es sind schon {action.seats_taken} Plätze vergeben; die Zahl "
                                   "der Plätze kann nicht kleiner sein.")  # fmt: skip
        return _form_page(request, year=year, form=form, action=action, status_code=422)
    except InvalidActionError as invalid:
        target, message = german_service_message(invalid.detail) or ("title", invalid.detail)
        form.errors[target] = message
        return _form_page(request, year=year, form=form, action=action, status_code=422)
    except (ActionNotFoundError, NotAllowedError):
        return _not_found(request)
    return RedirectResponse(f"{HOME}/{action_id}?hinweis=gespeichert", status_code=303)


@router.post(HOME + "/{action_id}/einreichen", response_class=HTMLResponse)
async def submit_action_page(
    request: Request, caller: CoordinatorPage, _posted: CheckedForm, action_id: str
) -> Response:
    """Hand the action in for moderation (Actions.submit)."""
    action = await _own_action(request, caller, action_id)
    if action is None:
        return _not_found(request)
    actions: Actions = state_of(request, "actions")
    try:
        await actions.submit(action_id, actor=caller)
    except InvalidTransitionError:
        message = (f"Diese Aktion ist {STATE_LABELS[action.state]}; einreichen lassen sich nur "
                   "Entwürfe und abgelehnte Aktionen.")  # fmt: skip
        return _form_page(request, year=action.edition_year, action=action, message=message,
                          status_code=409)  # fmt: skip
    except EntryClosedError:
        return _form_page(request, year=action.edition_year, action=action,
                          message=ENTRY_CLOSED, status_code=409)  # fmt: skip
    return RedirectResponse(f"{HOME}?jahr={action.edition_year}&hinweis=eingereicht",
                            status_code=303)  # fmt: skip


@router.get(HOME + "/{action_id}/anmeldungen", response_class=HTMLResponse)
async def registrations_page(request: Request, caller: CoordinatorPage, action_id: str) -> Response:
    """Who registered for the action, in order of arrival, with the CSV link."""
    action = await _own_action(request, caller, action_id)
    if action is None:
        return _not_found(request)
    registrations: Registrations = state_of(request, "registrations")
    rows = await all_registrations(registrations, action_id, actor=caller)
    context = {"action": action, "rows": rows, "labels": STATE_LABELS,
               "csv_url": f"{HOME}/{action_id}/anmeldungen.csv"}  # fmt: skip
    return render(request, "action_registrations.html", context, private=True)


@router.get(HOME + "/{action_id}/anmeldungen.csv")
async def registrations_csv_page(
    request: Request, caller: CoordinatorPage, action_id: str
) -> Response:
    """The registrations as CSV for German Excel (lobu.shared.spreadsheet_csv)."""
    action = await _own_action(request, caller, action_id)
    if action is None:
        return _not_found(request)
    registrations: Registrations = state_of(request, "registrations")
    rows = await all_registrations(registrations, action_id, actor=caller)
    return registrations_csv(action, rows)
