"""HTTP routes of privacy requests (admin only): enter one, see its state, get the export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi import status as http_status
from pydantic import BaseModel, EmailStr, Field

from lobu.directory.privacy_requests import (
    PrivacyExportNotAvailableError,
    PrivacyRequests,
    RequestStatus,
)
from lobu.shared import AdminCaller, ServiceRouter, as_utc
from lobu.shared.contracts.privacy import PrivacyKind

privacy_router = ServiceRouter(prefix="/privacy-requests", tags=["privacy"])

RequestId = Annotated[str, Path(min_length=1, max_length=36, description="The request's id")]


def get_privacy_requests(request: Request) -> PrivacyRequests:
    """The use cases, built once in main.py."""
    requests: PrivacyRequests = request.app.state.privacy_requests
    return requests


Requests = Annotated[PrivacyRequests, Depends(get_privacy_requests)]


class PrivacyRequestCreate(BaseModel):
    """A request for one address (Art. 15/20 DSGVO: access; Art. 17: erasure)."""

    email: EmailStr
    kind: PrivacyKind


class PrivacyRequestView(BaseModel):
    """Where a request stands; the address itself is not kept, so not shown."""

    id: str
    kind: PrivacyKind
    state: str = Field(description="pending until every service answered, then done")
    services: dict[str, str] = Field(description="each service's state: pending or done")
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None
    erased: dict[str, dict[str, int]] | None = Field(
        default=None, description="erasure: per service, how many records of each kind went"
    )
    export_url: str | None = Field(
        default=None, description="access: the export document (admin token), absolute URL"
    )


def view_of(status: RequestStatus, http_request: Request) -> PrivacyRequestView:
    """The API's view of `status`; the export's absolute URL from the request's base."""
    request = status.request
    return PrivacyRequestView(
        id=request.id,
        kind=request.kind,
        state=request.state,
        services=status.services,
        requested_by=request.requested_by,
        requested_at=as_utc(request.created_at),  # SQLite gives them back without a zone
        completed_at=as_utc(request.completed_at) if request.completed_at else None,
        erased=(
            {name: answer.counts for name, answer in status.answers.items()}
            if request.kind == "erasure"
            else None
        ),
        export_url=(
            str(http_request.url_for("privacy_export", request_id=request.id))
            if request.kind == "access"
            else None
        ),
    )


@privacy_router.post(
    "",
    status_code=http_status.HTTP_201_CREATED,
    response_model=PrivacyRequestView,
    summary="Enter an access or erasure request for an address (admin)",
)
async def submit_privacy_request(
    body: PrivacyRequestCreate, caller: AdminCaller, requests: Requests, request: Request
) -> PrivacyRequestView:
    status = await requests.submit(str(body.email), body.kind, actor=caller)
    return view_of(status, request)


@privacy_router.get(
    "/{request_id}", response_model=PrivacyRequestView, summary="A privacy request's state (admin)"
)
async def get_privacy_request(
    request_id: RequestId, _caller: AdminCaller, requests: Requests, request: Request
) -> PrivacyRequestView:
    return view_of(await requests.status(request_id), request)


@privacy_router.get(
    "/{request_id}/export",
    name="privacy_export",
    summary="An access request's export: everything lobu holds of the address (admin)",
)
async def get_privacy_export(
    request_id: RequestId, _caller: AdminCaller, requests: Requests
) -> dict[str, Any]:
    status = await requests.status(request_id)
    if status.request.kind != "access":
        raise PrivacyExportNotAvailableError("Only an access request has an export.")
    return status.export_document()
