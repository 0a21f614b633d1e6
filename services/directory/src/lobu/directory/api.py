"""HTTP routes of the directory: thin, each calls one use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi import status as http_status
from fastapi.responses import StreamingResponse

from lobu.directory.domain import etag, parse_if_match
from lobu.directory.exports import csv_lines, geojson_chunks
from lobu.directory.importer import AllianceImporter
from lobu.directory.places import Gazetteer, Place
from lobu.directory.query_params import SearchQuery
from lobu.directory.schemas import (
    AllianceCreate,
    AlliancePage,
    AlliancePrivate,
    AlliancePublic,
    AllianceUpdate,
    AuditView,
    ImportReport,
    PlaceLookup,
    PlaceView,
    RepublishReport,
)
from lobu.directory.search import AllianceSearch
from lobu.directory.service import AllianceDirectory
from lobu.shared import MIB, AdminCaller, Caller, CurrentCaller, OptionalCaller, ServiceRouter
from lobu.shared.places import place_notice

router = ServiceRouter(prefix="/alliances", tags=["alliances"])
admin_router = ServiceRouter(prefix="/admin", tags=["administration"])
# The import's CSV body, counted while it streams in (JSON bodies: 1 MiB, ServiceRouter's).
IMPORT_MAX_BODY_BYTES = 20 * MIB
places_router = ServiceRouter(prefix="/places", tags=["places"])

AllianceId = Annotated[str, Path(min_length=1, max_length=64, description="The alliance's id")]


async def get_directory(request: Request) -> AllianceDirectory:
    """The use cases, built once in main.py."""
    directory: AllianceDirectory = request.app.state.directory
    return directory


async def get_search(request: Request) -> AllianceSearch:
    """The search, built once in main.py."""
    search: AllianceSearch = request.app.state.search
    return search


Directory = Annotated[AllianceDirectory, Depends(get_directory)]
Search = Annotated[AllianceSearch, Depends(get_search)]


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
    responses={409: {"description": "The slug is taken"}},
)
async def create_alliance(
    body: AllianceCreate, caller: AdminCaller, directory: Directory, response: Response
) -> AlliancePrivate:
    alliance = await directory.create(body, actor=caller)
    response.headers["ETag"] = etag(alliance.version)
    response.headers["Location"] = f"/alliances/{alliance.id}"
    return alliance


@router.get("", response_model=AlliancePage, summary="Search alliances (public)")
async def search_alliances(
    query: SearchQuery,
    search: Search,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    # The page's JSON comes ready from the search (no model building and validating per
    # hit); response_model still documents it.
    body = await search.page_json(query, cursor=cursor, limit=limit)
    return Response(body, media_type="application/json")


@router.get(
    "/export.csv",
    summary="Export the search as CSV for Excel (contacts for admins only)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    query: SearchQuery, search: Search, caller: OptionalCaller
) -> StreamingResponse:
    lines = csv_lines(search.every(query), with_contacts=bool(caller and caller.is_admin))
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lokale-buendnisse.csv"'},
    )


@router.get(
    "/export.geojson",
    summary="Export the search as GeoJSON for maps (contacts for admins only)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def export_geojson(
    request: Request, query: SearchQuery, search: Search, caller: OptionalCaller
) -> StreamingResponse:
    chunks = geojson_chunks(
        search.every(query),
        with_contacts=bool(caller and caller.is_admin),
        base_url=str(request.base_url).rstrip("/"),
    )
    return StreamingResponse(chunks, media_type="application/geo+json")


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Import the Servicebüro's alliance CSV (admin); dry_run reports only",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The file, as described in docs/alliance-csv.md",
        }
    },
    responses={
        413: {"description": f"The file is larger than {IMPORT_MAX_BODY_BYTES // MIB} MiB"},
        422: {"description": "Invalid rows: nothing was imported (report in the body)"},
    },
    max_body_size=IMPORT_MAX_BODY_BYTES,
)
async def import_alliances(
    request: Request,
    caller: AdminCaller,
    directory: Directory,
    dry_run: Annotated[bool, Query(description="Report what would happen, change nothing")] = True,
    existing: Annotated[
        bool,
        Query(
            description=(
                "The file's new rows are alliances that were members already (moved in "
                "from an earlier database): they are entered without a welcome mail"
            )
        ),
    ] = False,
) -> ImportReport:
    return await AllianceImporter(directory).run(
        await request.body(),
        dry_run=dry_run,
        actor=caller,
        entry="existing" if existing else "new",
    )


@router.get("/{alliance_id}", response_model=AlliancePublic, summary="One alliance (public)")
async def get_alliance(
    alliance_id: AllianceId, directory: Directory, response: Response
) -> AlliancePublic:
    alliance = await directory.get(alliance_id)
    response.headers["ETag"] = etag(alliance.version)
    return AlliancePublic.model_validate(alliance.model_dump(exclude={"contacts"}))


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


@router.get(
    "/{alliance_id}/audit",
    response_model=list[AuditView],
    summary="Who changed what, and when (admin)",
)
async def get_audit(
    alliance_id: AllianceId, _caller: AdminCaller, directory: Directory
) -> list[AuditView]:
    return [AuditView.model_validate(entry) for entry in await directory.audit(alliance_id)]


@router.patch(
    "/{alliance_id}",
    response_model=AlliancePrivate,
    summary="Change an alliance (admin, or its coordinators except status, awards, slug)",
    responses={
        412: {"description": "The alliance changed since it was loaded"},
        428: {"description": "If-Match is missing"},
    },
)
async def update_alliance(
    alliance_id: AllianceId,
    body: AllianceUpdate,
    editor: AllianceEditor,
    directory: Directory,
    response: Response,
    if_match: Annotated[str | None, Header(description='The ETag, e.g. "3"')] = None,
) -> AlliancePrivate:
    alliance = await directory.update(
        alliance_id, body, expected_version=parse_if_match(if_match), actor=editor
    )
    response.headers["ETag"] = etag(alliance.version)
    return alliance


@router.delete(
    "/{alliance_id}",
    status_code=http_status.HTTP_204_NO_CONTENT,
    summary="Remove an alliance (admin); If-Match optional",
    responses={412: {"description": "If-Match names a version that is no longer current"}},
)
async def delete_alliance(
    alliance_id: AllianceId,
    caller: AdminCaller,
    directory: Directory,
    if_match: Annotated[
        str | None, Header(description='Optional: delete only this version, e.g. "3"')
    ] = None,
) -> Response:
    expected = parse_if_match(if_match) if if_match is not None else None
    await directory.delete(alliance_id, expected_version=expected, actor=caller)
    return Response(status_code=http_status.HTTP_204_NO_CONTENT)


@admin_router.post(
    "/republish",
    response_model=RepublishReport,
    status_code=http_status.HTTP_202_ACCEPTED,
    summary="Republish every alliance's snapshot for new subscribers (admin)",
)
async def republish(_caller: AdminCaller, directory: Directory) -> RepublishReport:
    return RepublishReport(republished=await directory.republish())


def _place_view(place: Place) -> PlaceView:
    return PlaceView(
        name=place.name, state=place.state, label=place.label,
        latitude=place.latitude, longitude=place.longitude,
    )  # fmt: skip


@places_router.get("", response_model=PlaceLookup, summary="Look a German place up by name")
async def look_up_place(
    request: Request,
    name: Annotated[
        str, Query(min_length=1, max_length=100, description='"Neustadt", "Neustadt, Sachsen"')
    ],
) -> PlaceLookup:
    gazetteer: Gazetteer = request.app.state.gazetteer
    match = gazetteer.resolve(name)
    return PlaceLookup(
        place=_place_view(match.place) if match.place else None,
        ambiguous=match.ambiguous,
        alternatives=[_place_view(place) for place in match.alternatives],
        message=place_notice(name, match),
    )
