"""Registration for people: the form on an action's page, the confirmation, self-cancelling.

The form posts back to the action's page (`POST /aktionstag/{year}/{id}`) and goes
through the same use case as the API (`Registrations.register`: the action's lock,
the conditional seat update, the waiting list). A registration that was taken answers
303 to its secret link, so that reloading the confirmation never registers twice. The
secret link (`/registrations/{id}/{secret}`, the `cancel_url` of the mails) shows the
registration as a page to browsers and cancels it with a button (POST to itself).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.events.errors import (
    ActionNotFoundError,
    RegistrationClosedError,
    RegistrationNotFoundError,
    TooManySeatsError,
)
from lobu.events.page_support import feed_urls, render, state_of
from lobu.events.registration_form import (
    CSRF_COOKIE,
    RegistrationForm,
    csrf_field,
    csrf_valid,
    new_csrf_cookie,
    read_registration_form,
)
from lobu.events.schemas import ActionPublic
from lobu.events.service import Actions, Registrations
from lobu.events.settings import EventsSettings
from lobu.shared import ServiceRouter, utc_now

router = ServiceRouter(include_in_schema=False)


def registration_state(action: ActionPublic) -> str:
    """Whether the form is shown: `open`, or why not (`cancelled`, `free`, `begun`)."""
    if action.state == "cancelled":
        return "cancelled"
    if not action.registration_required:
        return "free"
    if action.starts_at <= utc_now():
        return "begun"
    return "open"


async def _action(request: Request, year: int, action_id: str) -> ActionPublic:
    actions: Actions = state_of(request, "actions")
    action = await actions.get_public(action_id)
    if action.edition_year != year:
        raise ActionNotFoundError(f"Action {action_id!r} is not in {year}.")
    return action


def _page_with_form(
    request: Request, action: ActionPublic, form: RegistrationForm | None, *,
    message: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    settings: EventsSettings = state_of(request, "settings")
    cookie = request.cookies.get(CSRF_COOKIE) or new_csrf_cookie()
    context: dict[str, Any] = {
        "action": action, "state": registration_state(action),
        "form": form.values if form else {"name": "", "email": "", "seats": "1"},
        "errors": form.errors if form else {}, "message": message,
        "csrf": csrf_field(settings.form_key(), cookie, action.id),
        "max_seats": settings.max_seats_per_registration, "feeds": feed_urls(action.edition_year),
        "alliance_feed":
            f"/editions/{action.edition_year}/alliances/{action.alliance_id}/programme.ics",
    }  # fmt: skip
    response = render(request, "action.html", context, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != cookie:
        response.set_cookie(
            CSRF_COOKIE, cookie, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/aktionstag",
        )  # fmt: skip
    return response


async def action_page_response(request: Request, year: int, action_id: str) -> HTMLResponse:
    """The action's page with an empty form (ActionNotFoundError for unknown ones)."""
    return _page_with_form(request, await _action(request, year, action_id), None)


CLOSED = {
    "cancelled": "Diese Aktion wurde abgesagt; eine Anmeldung ist nicht mehr möglich.",
    "free": "Für diese Aktion ist keine Anmeldung nötig: kommen Sie einfach vorbei.",
    "begun": "Diese Aktion hat schon begonnen; die Anmeldung ist geschlossen.",
    "open": "Die Anmeldung ist gerade nicht möglich. Bitte versuchen Sie es später noch einmal.",
}


@router.post("/aktionstag/{year}/{action_id}", response_class=HTMLResponse)
async def register_page(request: Request, year: int, action_id: str) -> Response:
    """Register from the form; errors next to their fields, else 303 to the confirmation."""
    try:
        action = await _action(request, year, action_id)
    except ActionNotFoundError:
        return render(request, "not_found.html", {"what": "Diese Aktion"}, status_code=404)
    settings: EventsSettings = state_of(request, "settings")
    form = read_registration_form(
        await request.body(), max_seats=settings.max_seats_per_registration
    )
    if not csrf_valid(settings.form_key(), request.cookies.get(CSRF_COOKIE), action.id, form.csrf):
        message = ("Das Formular war abgelaufen oder kam nicht von dieser Seite. "
                   "Bitte prüfen Sie Ihre Angaben und senden Sie es noch einmal.")  # fmt: skip
        return _page_with_form(request, action, form, message=message, status_code=400)
    if form.request is None:
        return _page_with_form(request, action, form, status_code=422)
    registrations: Registrations = state_of(request, "registrations")
    try:
        receipt = await registrations.register(action.id, form.request)
    except TooManySeatsError:
        form.errors["seats"] = f"Bitte höchstens {settings.max_seats_per_registration} Plätze."
        return _page_with_form(request, action, form, status_code=422)
    except RegistrationClosedError:
        fresh = await _action(request, year, action_id)
        return _page_with_form(
            request, fresh, form, message=CLOSED[registration_state(fresh)], status_code=409
        )
    link = urlsplit(receipt.cancel_url or "").path
    return RedirectResponse(f"{link}?neu=1", status_code=303)


async def registration_page(request: Request, registration_id: str, token: str) -> HTMLResponse:
    """The registration behind its secret link, as a page with the button to cancel it."""
    registrations: Registrations = state_of(request, "registrations")
    try:
        receipt = await registrations.show(registration_id, token)
    except RegistrationNotFoundError:
        return render(request, "not_found.html", {"what": "Diese Anmeldung"}, status_code=404,
                      private=True)  # fmt: skip
    actions: Actions = state_of(request, "actions")
    action = await actions.get_public(receipt.action_id)
    context = {"receipt": receipt, "action": action, "new": request.query_params.get("neu") == "1",
               "cancelled_now": False}  # fmt: skip
    return render(request, "registration.html", context, private=True)


@router.post("/registrations/{registration_id}/{token}", response_class=HTMLResponse)
async def cancel_page(request: Request, registration_id: str, token: str) -> HTMLResponse:
    """The cancel button of the registration's page: cancels it and says so."""
    registrations: Registrations = state_of(request, "registrations")
    try:
        receipt = await registrations.cancel(registration_id, token)
    except RegistrationNotFoundError:
        return render(request, "not_found.html", {"what": "Diese Anmeldung"}, status_code=404,
                      private=True)  # fmt: skip
    actions: Actions = state_of(request, "actions")
    action = await actions.get_public(receipt.action_id)
    context = {"receipt": receipt, "action": action, "new": False, "cancelled_now": True}
    return render(request, "registration.html", context, private=True)
