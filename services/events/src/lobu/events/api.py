"""HTTP routes of the events service: thin, each calls one use case."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi import status as http_status
from fastapi.responses import JSONResponse

from lobu.events.errors import StaleVersionError
from lobu.events.feeds import geojson, icalendar_feed
from lobu.events.models import ActionState
from lobu.events.page_support import prefers_html
from lobu.events.programme import Programme
from lobu.events.query_params import ProgrammeQueryDep, YearPath
from lobu.events.registration_pages import registration_page
from lobu.events.schemas import (
    ActionCreate,
    ActionPage,
    ActionPrivate,
    ActionPublic,
    ActionUpdate,
    CancelRequest,
    EditionCreate,
    EditionPublic,
    EditionUpdate,
    RegistrationCreate,
    RegistrationPage,
    RegistrationReceipt,
    RejectRequest,
)
from lobu.events.service import Actions, Editions, Registrations
from lobu.events.settings import EventsSettings
from lobu.shared import AdminCaller, CurrentCaller, ServiceRouter
from lobu.shared.versions import NoVersionNamedError, version_named_by

editions_router = ServiceRouter(prefix="/editions", tags=["editions"])
actions_router = ServiceRouter(prefix="/actions", tags=["actions"])
registrations_router = ServiceRouter(prefix="/registrations", tags=["registrations"])

ActionId = Annotated[str, Path(min_length=1, max_length=64, description="The action's id")]
RegistrationId = Annotated[str, Path(min_length=1, max_length=64)]
Token = Annotated[str, Path(min_length=1, max_length=200, description="The secret of the link")]
Cursor = Annotated[str | None, Query(max_length=500)]


def get_editions(request: Request) -> Editions:
    """The edition use cases, built once in main.py."""
    editions: Editions = request.app.state.editions
    return editions


def get_actions(request: Request) -> Actions:
    """The action use cases."""
    actions: Actions = request.app.state.actions
    return actions


def get_registrations(request: Request) -> Registrations:
    """The registration use cases."""
    registrations: Registrations = request.app.state.registrations
    return registrations


def get_programme(request: Request) -> Programme:
    """The programme queries."""
    programme: Programme = request.app.state.programme
    return programme


def get_settings(request: Request) -> EventsSettings:
    """The service's settings."""
    settings: EventsSettings = request.app.state.settings
    return settings


EditionsDep = Annotated[Editions, Depends(get_editions)]
ActionsDep = Annotated[Actions, Depends(get_actions)]
RegistrationsDep = Annotated[Registrations, Depends(get_registrations)]
ProgrammeDep = Annotated[Programme, Depends(get_programme)]
SettingsDep = Annotated[EventsSettings, Depends(get_settings)]


def _if_match(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    try:
        return version_named_by(header)
    except NoVersionNamedError:
        shown = header if len(header) <= 40 else f"{header[:40]}…"
        raise StaleVersionError(f"If-Match {shown!r} names no version of this action.") from None


# --- editions --------------------------------------------------------------------------


@editions_router.post(
    "",
    status_code=http_status.HTTP_201_CREATED,
    response_model=EditionPublic,
    summary="Open a new edition (admin); 15 May unless a date is given",
    responses={409: {"description": "The year has an edition"}},
)
async def create_edition(
    body: EditionCreate, _caller: AdminCaller, editions: EditionsDep, response: Response
) -> EditionPublic:
    edition = await editions.create(body)
    response.headers["Location"] = f"/editions/{edition.year}"
    return edition


@editions_router.get("", response_model=list[EditionPublic], summary="Every edition (public)")
async def list_editions(editions: EditionsDep) -> list[EditionPublic]:
    return await editions.all()


@editions_router.get("/{year}", response_model=EditionPublic, summary="One edition (public)")
async def get_edition(year: YearPath, editions: EditionsDep) -> EditionPublic:
    return await editions.get(year)


@editions_router.patch("/{year}", response_model=EditionPublic, summary="Change an edition (admin)")
async def update_edition(
    year: YearPath, body: EditionUpdate, _caller: AdminCaller, editions: EditionsDep
) -> EditionPublic:
    return await editions.update(year, body)


@editions_router.post(
    "/{year}/actions",
    status_code=http_status.HTTP_201_CREATED,
    response_model=ActionPrivate,
    summary="Enter an action (its alliance's coordinator; admins name alliance_id)",
)
async def create_action(
    year: YearPath, body: ActionCreate, caller: CurrentCaller, actions: ActionsDep,
    response: Response,
) -> ActionPrivate:  # fmt: skip
    action = await actions.create(year, body, actor=caller)
    response.headers["Location"] = f"/actions/{action.id}"
    response.headers["ETag"] = f'"{action.version}"'
    return action


@editions_router.get(
    "/{year}/actions",
    response_model=ActionPage,
    summary="The programme (public: published; other states for editors)",
)
async def list_actions(
    query: ProgrammeQueryDep,
    programme: ProgrammeDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActionPage:
    return await programme.page(query, cursor=cursor, limit=limit)


@editions_router.get(
    "/{year}/actions.geojson",
    summary="The programme's actions with coordinates as GeoJSON (public)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def programme_geojson(
    query: ProgrammeQueryDep, programme: ProgrammeDep, settings: SettingsDep
) -> JSONResponse:
    collection = geojson(await programme.find(query), base_url=settings.public_url.rstrip("/"))
    return JSONResponse(collection, media_type="application/geo+json")


def _calendar_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


_FEED_STATES = frozenset({ActionState.PUBLISHED, ActionState.CANCELLED})


@editions_router.get(
    "/{year}/programme.ics",
    summary="The programme as an iCalendar feed (public; cancelled actions struck)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def programme_ics(
    year: YearPath, query: ProgrammeQueryDep, programme: ProgrammeDep, settings: SettingsDep
) -> Response:
    found = await programme.find(dataclasses.replace(query, states=_FEED_STATES))
    body = icalendar_feed(
        found, name=f"Aktionstag {year}", base_url=settings.public_url.rstrip("/")
    )
    return _calendar_response(body, f"aktionstag-{year}.ics")


@editions_router.get(
    "/{year}/alliances/{alliance_id}/programme.ics",
    summary="One alliance's actions as an iCalendar feed (public)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def alliance_programme_ics(
    year: YearPath,
    alliance_id: Annotated[str, Path(min_length=1, max_length=64)],
    query: ProgrammeQueryDep,
    programme: ProgrammeDep,
    settings: SettingsDep,
) -> Response:
    selection = dataclasses.replace(query, states=_FEED_STATES, alliance_id=alliance_id)
    found = await programme.find(selection)
    name = found[0].alliance.name if found and found[0].alliance else alliance_id
    body = icalendar_feed(
        found, name=f"Aktionstag {year}: {name}", base_url=settings.public_url.rstrip("/")
    )
    # Only ASCII letters, digits and dashes: a header cannot carry every id (the fuzzing
    # found a 500 for an id outside Latin-1).
    safe_id = re.sub(r"[^A-Za-z0-9-]", "", alliance_id)[:64] or "buendnis"
    return _calendar_response(body, f"aktionstag-{year}-{safe_id}.ics")


# --- actions ---------------------------------------------------------------------------


@actions_router.get(
    "/{action_id}", response_model=ActionPublic, summary="A published action (public)"
)
async def get_action(action_id: ActionId, actions: ActionsDep) -> ActionPublic:
    return await actions.get_public(action_id)


@actions_router.get(
    "/{action_id}/private",
    response_model=ActionPrivate,
    summary="An action in any state, with the moderation's reason (admin, its coordinators)",
)
async def get_action_private(
    action_id: ActionId, caller: CurrentCaller, actions: ActionsDep, response: Response
) -> ActionPrivate:
    action = await actions.get_private(action_id, actor=caller)
    response.headers["ETag"] = f'"{action.version}"'
    return action


@actions_router.patch(
    "/{action_id}",
    response_model=ActionPrivate,
    summary="Change an action (coordinators: drafts and rejected ones; admin: any)",
    responses={412: {"description": "The action changed since it was loaded"}},
)
async def update_action(
    action_id: ActionId,
    body: ActionUpdate,
    caller: CurrentCaller,
    actions: ActionsDep,
    response: Response,
    if_match: Annotated[str | None, Header(description='The ETag, e.g. "3"')] = None,
) -> ActionPrivate:
    action = await actions.update(
        action_id, body, expected_version=_if_match(if_match), actor=caller
    )
    response.headers["ETag"] = f'"{action.version}"'
    return action


@actions_router.post(
    "/{action_id}/submit", response_model=ActionPrivate, summary="Hand in for moderation"
)
async def submit_action(
    action_id: ActionId, caller: CurrentCaller, actions: ActionsDep
) -> ActionPrivate:
    return await actions.submit(action_id, actor=caller)


@actions_router.post(
    "/{action_id}/publish", response_model=ActionPrivate, summary="Publish (admin)"
)
async def publish_action(
    action_id: ActionId, caller: AdminCaller, actions: ActionsDep
) -> ActionPrivate:
    return await actions.publish(action_id, actor=caller)


@actions_router.post(
    "/{action_id}/reject", response_model=ActionPrivate, summary="Send back with a reason (admin)"
)
async def reject_action(
    action_id: ActionId, body: RejectRequest, caller: AdminCaller, actions: ActionsDep
) -> ActionPrivate:
    return await actions.reject(action_id, reason=body.reason, actor=caller)


@actions_router.post(
    "/{action_id}/cancel",
    response_model=ActionPrivate,
    summary="Call off (admin, its coordinators); participants are told",
)
async def cancel_action(
    action_id: ActionId,
    caller: CurrentCaller,
    actions: ActionsDep,
    body: CancelRequest | None = None,
) -> ActionPrivate:
    return await actions.cancel(action_id, reason=body.reason if body else None, actor=caller)


@actions_router.post(
    "/{action_id}/registrations",
    status_code=http_status.HTTP_201_CREATED,
    response_model=RegistrationReceipt,
    summary="Register for seats (public); confirmed, or waitlisted whole",
)
async def register(
    action_id: ActionId, body: RegistrationCreate, registrations: RegistrationsDep,
    response: Response,
) -> RegistrationReceipt:  # fmt: skip
    receipt = await registrations.register(action_id, body)
    if receipt.cancel_url:
        response.headers["Location"] = receipt.cancel_url
    return receipt


@actions_router.get(
    "/{action_id}/registrations",
    response_model=RegistrationPage,
    summary="The action's registrations in order of arrival (admin, its coordinators)",
)
async def list_registrations(
    action_id: ActionId,
    caller: CurrentCaller,
    registrations: RegistrationsDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> RegistrationPage:
    return await registrations.list(action_id, actor=caller, cursor=cursor, limit=limit)


# --- a participant's own registration, by its secret link --------------------------------


@registrations_router.get(
    "/{registration_id}/{token}",
    response_model=RegistrationReceipt,
    summary="A registration by its secret link",
)
async def show_registration(
    request: Request, registration_id: RegistrationId, token: Token,
    registrations: RegistrationsDep,
) -> RegistrationReceipt | Response:  # fmt: skip
    # The link in the participant's mail: a browser gets the page with its cancel button.
    if prefers_html(request):
        return await registration_page(request, registration_id, token)
    return await registrations.show(registration_id, token)


@registrations_router.delete(
    "/{registration_id}/{token}",
    response_model=RegistrationReceipt,
    summary="Cancel a registration by its secret link; waiting requests move up at once",
)
async def cancel_registration(
    registration_id: RegistrationId, token: Token, registrations: RegistrationsDep
) -> RegistrationReceipt:
    return await registrations.cancel(registration_id, token)
