"""HTTP routes of the directory: thin, each calls one use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi import status as http_status

from lobu.directory.domain import etag, parse_if_match
from lobu.directory.schemas import (
    AllianceCreate,
    AlliancePage,
    AlliancePrivate,
    AlliancePublic,
    AllianceUpdate,
)
from lobu.directory.service import AllianceDirectory, AllianceFilters
from lobu.shared import AdminCaller, Caller, CurrentCaller
from lobu.shared.contracts.directory import StateCode

router = APIRouter(prefix="/alliances", tags=["alliances"])

AllianceId = Annotated[str, Path(min_length=1, max_length=64, description="The alliance's id")]


def get_directory(request: Request) -> AllianceDirectory:
    """The use cases, built once in main.py."""
    directory: AllianceDirectory = request.app.state.directory
    return directory


Directory = Annotated[AllianceDirectory, Depends(get_directory)]


def editor_of_alliance(alliance_id: AllianceId, caller: CurrentCaller) -> Caller:
    """The caller, who must be admin or a coordinator of this very alliance; 403 otherwise."""
    if not caller.may_edit_alliance(alliance_id):
        raise HTTPException(
            http_status.HTTP_403_FORBIDDEN,
            detail="Only the Servicebüro or this alliance's own coordinators may do this.",
        )
    return caller


AllianceEditor = Annotated[Caller, Depends(editor_of_alliance)]


@router.post(
    "",
    status_code=http_status.HTTP_201_CREATED,
    response_model=AlliancePrivate,
    summary="Enter a new alliance (admin)",
)
async def create_alliance(
    body: AllianceCreate, _caller: AdminCaller, directory: Directory, response: Response
) -> AlliancePrivate:
    alliance = await directory.create(body)
    response.headers["ETag"] = etag(alliance.version)
    response.headers["Location"] = f"/alliances/{alliance.id}"
    return alliance


@router.get("", response_model=AlliancePage, summary="List alliances (public)")
async def list_alliances(
    directory: Directory,
    state: Annotated[StateCode | None, Query(description="Land, e.g. NI")] = None,
    topic: Annotated[str | None, Query(max_length=200, description="A field of action")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlliancePage:
    page = await directory.list(
        AllianceFilters(state=state, topic=topic), cursor=cursor, limit=limit
    )
    return AlliancePage(
        items=[AlliancePublic.model_validate(item.model_dump()) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/{alliance_id}", response_model=AlliancePublic, summary="One alliance (public)")
async def get_alliance(
    alliance_id: AllianceId, directory: Directory, response: Response
) -> AlliancePublic:
    alliance = await directory.get(alliance_id)
    response.headers["ETag"] = etag(alliance.version)
    return AlliancePublic.model_validate(alliance.model_dump())


@router.get(
    "/{alliance_id}/private",
    response_model=AlliancePrivate,
    summary="One alliance with its contacts (admin or its coordinators)",
)
async def get_alliance_private(
    alliance_id: AllianceId, _editor: AllianceEditor, directory: Directory, response: Response
) -> AlliancePrivate:
    alliance = await directory.get(alliance_id)
    response.headers["ETag"] = etag(alliance.version)
    return alliance


@router.patch(
    "/{alliance_id}",
    response_model=AlliancePrivate,
    summary="Change an alliance (admin or its coordinators); needs If-Match",
    responses={412: {"description": "The alliance changed since it was loaded"}},
)
async def update_alliance(
    alliance_id: AllianceId,
    body: AllianceUpdate,
    _editor: AllianceEditor,
    directory: Directory,
    response: Response,
    if_match: Annotated[str | None, Header(description='The ETag, e.g. "3"')] = None,
) -> AlliancePrivate:
    alliance = await directory.update(alliance_id, body, expected_version=parse_if_match(if_match))
    response.headers["ETag"] = etag(alliance.version)
    return alliance


@router.delete(
    "/{alliance_id}",
    status_code=http_status.HTTP_204_NO_CONTENT,
    summary="Remove an alliance (admin)",
)
async def delete_alliance(
    alliance_id: AllianceId, _caller: AdminCaller, directory: Directory
) -> Response:
    await directory.delete(alliance_id)
    return Response(status_code=http_status.HTTP_204_NO_CONTENT)
