"""The Servicebüro's start page (`/verwaltung`) and its privacy requests in a browser.

The start page leads to every service's staff pages and holds the privacy requests
(Art. 15, 17, 20 DSGVO): enter one for an address, watch each service answer, read
the access export as a German summary or download it as JSON. The JSON API
(`/privacy-requests`) stays for programs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.directory.pages import templates
from lobu.directory.privacy_requests import PrivacyRequestNotFoundError, PrivacyRequests
from lobu.directory.sign_in import SignIns
from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import AdminPage, CheckedForm

router = ServiceRouter(include_in_schema=False)
RequestId = Annotated[str, Path(min_length=1, max_length=36)]
SERVICE_NAMES = {
    "directory": "Adressdatenbank",
    "events": "Aktionstag",
    "notifications": "Benachrichtigungen",
    "surveys": "Bündnisumfrage",
}
KIND_NAMES = {"access": "Auskunft (Art. 15 und 20 DSGVO)", "erasure": "Löschung (Art. 17 DSGVO)"}
STATE_NAMES = {"pending": "in Bearbeitung", "done": "erledigt"}


def _requests(request: Request) -> PrivacyRequests:
    requests: PrivacyRequests = request.app.state.privacy_requests
    return requests


async def _staff_page(
    request: Request, *, email: str = "", kind: str = "access", error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    sign_ins: SignIns = request.app.state.sign_ins
    context = {
        "requests": await _requests(request).recent(limit=50),
        "audit": await sign_ins.audit_entries(limit=20),
        "email": email, "kind": kind, "error": error, "kind_names": KIND_NAMES,
        "state_names": STATE_NAMES,
    }  # fmt: skip
    return templates.TemplateResponse(request, "staff.html", context, status_code=status_code)


@router.get("/verwaltung", response_class=HTMLResponse)
async def staff_start(request: Request, _caller: AdminPage) -> HTMLResponse:
    """Links to the services' staff pages, the privacy requests, recent sign-ins."""
    return await _staff_page(request)


@router.post("/verwaltung/datenschutz", response_class=HTMLResponse)
async def enter_privacy_request(request: Request, caller: AdminPage, form: CheckedForm) -> Response:
    """Enter a request for an address; on to its page."""
    email = str(form.get("email") or "").strip()[:321]
    kind = str(form.get("kind") or "")
    error = None
    if kind not in KIND_NAMES:
        error = "Bitte wählen Sie Auskunft oder Löschung."
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        error = "Bitte geben Sie eine gültige E-Mail-Adresse ein."
    if error:
        return await _staff_page(request, email=email, kind=kind, error=error, status_code=422)
    status = await _requests(request).submit(email, kind, actor=caller)  # type: ignore[arg-type]
    return RedirectResponse(f"/verwaltung/datenschutz/{status.request.id}", status_code=303)


@router.get("/verwaltung/datenschutz/{request_id}", response_class=HTMLResponse)
async def privacy_request_page(
    request: Request, request_id: RequestId, _caller: AdminPage
) -> HTMLResponse:
    """Each service's state; for access, what was found, as a German summary."""
    try:
        status = await _requests(request).status(request_id)
    except PrivacyRequestNotFoundError:
        return templates.TemplateResponse(
            request, "not_found.html", {"slug": request_id, "site": None}, status_code=404
        )
    export = status.export_document() if status.request.kind == "access" else None
    context = {
        "status": status, "export": export, "service_names": SERVICE_NAMES,
        "kind_names": KIND_NAMES, "state_names": STATE_NAMES, "shown": _shown,
    }  # fmt: skip
    return templates.TemplateResponse(request, "privacy_request.html", context)


@router.get("/verwaltung/datenschutz/{request_id}/auskunft.json")
async def privacy_export_download(
    request: Request, request_id: RequestId, _caller: AdminPage
) -> Response:
    """The access export as a JSON file to hand to the person (Art. 20: portable)."""
    try:
        status = await _requests(request).status(request_id)
    except PrivacyRequestNotFoundError:
        return Response("Unbekannte Anfrage", status_code=404, media_type="text/plain")
    if status.request.kind != "access":
        return Response("Nur eine Auskunft hat ein Ergebnis.", status_code=404)
    body = json.dumps(status.export_document(), ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="auskunft-{request_id}.json"',
            "Cache-Control": "no-store",
        },
    )


def _shown(value: Any) -> str:
    """A record's value as text for the summary."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)
