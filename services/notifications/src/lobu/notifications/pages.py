"""HTML pages: a recipient's preferences (the unsubscribe link) and the delivery log.

The delivery log (Servicebüro staff, signed in with the session cookie or a bearer
token) lists and filters deliveries and sends a failed one again with one button, as
`POST /deliveries/{id}/retry` does for programs; its forms carry the CSRF value.

The preference page lives at the URL every non-transactional mail names in its footer
and in `List-Unsubscribe`. A POST of `List-Unsubscribe=One-Click` (RFC 8058, what mail
clients send) turns the category off; the page's own form chooses immediate mail, a
daily digest or none. The signed token in the path is the only credential: no cookie,
no login, so a mail client's POST works as the person's click does.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.notifications.deliveries import retry_delivery, retry_failed
from lobu.notifications.errors import DeliveryNotFoundError, DeliveryNotRetryableError
from lobu.notifications.models import DeliveryStatus
from lobu.notifications.page_rendering import render_page
from lobu.notifications.preferences import (
    DeliveryMode,
    UnsubscribeLinks,
    address_of,
    mode_of,
    set_mode,
)
from lobu.notifications.queries import DeliveryFilters, list_deliveries
from lobu.notifications.routing import CATEGORY_TITLES, Category, digest_categories
from lobu.shared import ServiceRouter
from lobu.shared.pagination import CursorError
from lobu.shared.web_sessions import AdminPage, CheckedForm

router = ServiceRouter(include_in_schema=False)
MODE_LABELS = {
    DeliveryMode.IMMEDIATE: "Jede Nachricht sofort erhalten",
    DeliveryMode.DIGEST: "Einmal täglich als Zusammenfassung erhalten",
    DeliveryMode.OFF: "Keine Nachrichten dieser Art mehr erhalten",
}
MAX_FORM_BYTES = 2048


def _modes(category: Category) -> dict[str, str]:
    """The choices the page offers: the digest only where a digest can bundle the mail."""
    offered = dict(MODE_LABELS)
    if category not in digest_categories():
        del offered[DeliveryMode.DIGEST]
    return {mode.value: label for mode, label in offered.items()}


def _offered(mode: DeliveryMode, category: Category) -> DeliveryMode:
    """What `mode` means for `category`: a digest it cannot have is immediate mail."""
    if mode is DeliveryMode.DIGEST and category not in digest_categories():
        return DeliveryMode.IMMEDIATE
    return mode


def _masked(address: str) -> str:
    """`g…r@example.org`: enough to recognise one's own address, not to harvest it."""
    local, _, domain = address.partition("@")
    shown = local[0] + "…" + local[-1] if len(local) > 2 else local[:1] + "…"
    return f"{shown}@{domain}"


async def _recipient(request: Request, token: str) -> tuple[str, Category] | None:
    links: UnsubscribeLinks = request.app.state.unsubscribe_links
    read = links.read(token)
    if read is None or read[1] is Category.TRANSACTIONAL:
        return None
    key, category = read
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session:
        address = await address_of(session, key)
    return (address, category) if address else None


def _not_found(request: Request) -> HTMLResponse:
    return render_page(request, "pages/link_unknown.html", {}, status_code=404)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def preferences_page(request: Request, token: str) -> HTMLResponse:
    """What the link in a mail opens: the recipient's choice for this category."""
    found = await _recipient(request, token)
    if found is None:
        return _not_found(request)
    address, category = found
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session:
        mode = _offered(await mode_of(session, address, category), category)
    return render_page(
        request,
        "pages/preferences.html",
        {
            "address": _masked(address),
            "category_title": CATEGORY_TITLES[category],
            "mode": mode.value,
            "modes": _modes(category),
            "saved": False,
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def change_preferences(request: Request, token: str) -> HTMLResponse:
    """One click from a mail client (`List-Unsubscribe=One-Click`) or the page's form."""
    found = await _recipient(request, token)
    if found is None:
        return _not_found(request)
    address, category = found
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    if form.get("List-Unsubscribe") == ["One-Click"]:
        mode = DeliveryMode.OFF
    else:
        try:
            mode = DeliveryMode(form.get("mode", [""])[0])
        except ValueError:
            mode = DeliveryMode.OFF  # the page's plain "Abbestellen" button sends no mode
    mode = _offered(mode, category)
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session, session.begin():
        await set_mode(session, address, category, mode)
    return render_page(
        request,
        "pages/preferences.html",
        {
            "address": _masked(address),
            "category_title": CATEGORY_TITLES[category],
            "mode": mode.value,
            "modes": _modes(category),
            "saved": True,
        },
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get("/admin/deliveries", response_class=HTMLResponse)
async def delivery_log_page(
    request: Request,
    _caller: AdminPage,
    status: Annotated[str | None, Query(max_length=20)] = None,
    event_type: Annotated[str | None, Query(max_length=200)] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    retried: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    not_retried: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    retried_count: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    """The delivery log for Servicebüro staff, newest first, with filters."""
    statuses = [status.value for status in DeliveryStatus]
    chosen = status if status in statuses else None
    try:
        page = await list_deliveries(
            request.app.state.runtime.sessions,
            DeliveryFilters(status=chosen, event_type=event_type or None, recipient=recipient),
            cursor=cursor or None,
            limit=50,
        )
    except CursorError:
        page = await list_deliveries(
            request.app.state.runtime.sessions,
            DeliveryFilters(status=chosen, event_type=event_type or None, recipient=recipient),
            cursor=None,
            limit=50,
        )
    return render_page(
        request,
        "pages/deliveries.html",
        {
            "page": page,
            "statuses": statuses,
            "status": chosen or "",
            "event_type": event_type or "",
            "recipient": recipient or "",
            "retried": retried,
            "not_retried": not_retried,
            "retried_count": retried_count,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/admin/deliveries/retry-failed", response_class=RedirectResponse)
async def retry_all_failed_from_the_log(
    request: Request, _caller: AdminPage, form: CheckedForm
) -> RedirectResponse:
    """The log's button for every failed delivery of the event type it is filtered by."""
    sent = form.get("event_type")
    event_type = sent[:200] if isinstance(sent, str) else ""
    if not event_type:
        return RedirectResponse("/admin/deliveries", status_code=303)
    count = await retry_failed(request.app.state.runtime.sessions, event_type)
    query = urlencode({"event_type": event_type, "retried_count": count})
    return RedirectResponse(f"/admin/deliveries?{query}", status_code=303)


@router.post("/admin/deliveries/{delivery_id}/retry", response_class=RedirectResponse)
async def retry_from_the_log(
    request: Request,
    _caller: AdminPage,
    _form: CheckedForm,
    delivery_id: Annotated[int, Path(ge=1, le=2**62)],
) -> RedirectResponse:
    """The log's "Erneut senden" button: due again now, then back to the log (303)."""
    try:
        await retry_delivery(request.app.state.runtime.sessions, delivery_id)
        outcome = f"retried={delivery_id}"
    except (DeliveryNotFoundError, DeliveryNotRetryableError):
        outcome = f"not_retried={delivery_id}"  # sent meanwhile, or retried in another tab
    return RedirectResponse(f"/admin/deliveries?{outcome}", status_code=303)
