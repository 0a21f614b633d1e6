"""The Servicebüro's page of webhook subscriptions: list, subscribe, pause, resume,
rotate the secret, delete; each with a link to its delivery log.

Built on the service layer of the JSON API (webhooks.py). Staff sign in with the
session cookie (or send a bearer token); every form carries the CSRF value. A new
subscription's secret, and a rotated one, is shown once on the answer to the form
(never in a URL, never stored in the page's history: `no-store`).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from lobu.notifications.errors import (
    UnknownWebhookEventTypeError,
    WebhookNotFoundError,
    WebhookUrlRefusedError,
)
from lobu.notifications.page_rendering import render_page
from lobu.notifications.schemas import WebhookCreate
from lobu.notifications.webhook_fanout import WEBHOOK_EVENT_TYPES
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import AdminPage, CheckedForm

router = ServiceRouter(include_in_schema=False)

WebhookId = Annotated[str, Path(min_length=1, max_length=64, pattern="^[0-9a-f]{1,64}$")]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
STATUS_LABELS = {"active": "aktiv", "paused": "angehalten", "disabled": "abgeschaltet"}
# What a finished action says on the list (by key: no text of the request is reflected).
NOTICES = {
    "paused": "Der Webhook ist angehalten. Seine Zustellungen warten, bis Sie ihn fortsetzen.",
    "resumed": "Der Webhook ist wieder aktiv; wartende Zustellungen gehen jetzt hinaus.",
    "deleted": "Der Webhook ist gelöscht. Nicht gesendete Zustellungen wurden storniert.",
    "missing": "Diesen Webhook gibt es nicht (mehr).",
}


def _subscriptions(request: Request) -> WebhookSubscriptions:
    subscriptions: WebhookSubscriptions = request.app.state.webhooks
    return subscriptions


async def _list_page(
    request: Request,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    url: str = "",
    chosen: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "webhooks": await _subscriptions(request).list(),
        "event_types": sorted(WEBHOOK_EVENT_TYPES),
        "status_labels": STATUS_LABELS,
        "notice": NOTICES.get(notice or ""),
        "errors": errors or {},
        "url": url,
        "chosen": set(chosen or []),
    }
    return render_page(
        request, "pages/webhooks.html", context, status_code=status_code, headers=NO_STORE
    )


def _back(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/webhooks?{urlencode({'hinweis': notice})}", status_code=303)


@router.get("/admin/webhooks", response_class=HTMLResponse)
async def webhooks_page(
    request: Request,
    _caller: AdminPage,
    hinweis: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Every subscription with its status and actions, and the form for a new one."""
    return await _list_page(request, notice=hinweis)


@router.post("/admin/webhooks", response_class=HTMLResponse)
async def create_webhook_from_the_page(
    request: Request, _caller: AdminPage, form: CheckedForm
) -> HTMLResponse:
    """Subscribe a URL; the answer shows its secret, once."""
    sent_url = form.get("url")
    url = sent_url.strip()[:2000] if isinstance(sent_url, str) else ""
    chosen = [value for value in form.getlist("event_types") if isinstance(value, str)][:50]
    errors: dict[str, str] = {}
    if not url:
        errors["url"] = "Bitte geben Sie die Adresse ein, an die lobu die Ereignisse sendet."
    if not chosen:
        errors["event_types"] = "Bitte wählen Sie mindestens einen Ereignistyp."
    if not errors:
        try:
            created = await _subscriptions(request).create(
                WebhookCreate(url=url, event_types=chosen)
            )
        except WebhookUrlRefusedError:
            errors["url"] = (
                "An diese Adresse sendet lobu nicht. Erlaubt sind https://-Adressen "
                "öffentlich erreichbarer Server (ohne Benutzername und Passwort)."
            )
        except UnknownWebhookEventTypeError:
            errors["event_types"] = "Bitte wählen Sie nur Ereignistypen aus der Liste."
        else:
            return render_page(
                request,
                "pages/webhook_secret.html",
                {"webhook": created, "secret": created.secret, "rotated": False},
                status_code=201,
                headers=NO_STORE,
            )
    return await _list_page(request, errors=errors, url=url, chosen=chosen, status_code=422)


@router.post("/admin/webhooks/{webhook_id}/pause", response_class=RedirectResponse)
async def pause_webhook_from_the_page(
    request: Request, _caller: AdminPage, _form: CheckedForm, webhook_id: WebhookId
) -> RedirectResponse:
    """Hold the subscription's deliveries."""
    try:
        await _subscriptions(request).pause(webhook_id)
    except WebhookNotFoundError:
        return _back("missing")
    return _back("paused")


@router.post("/admin/webhooks/{webhook_id}/resume", response_class=RedirectResponse)
async def resume_webhook_from_the_page(
    request: Request, _caller: AdminPage, _form: CheckedForm, webhook_id: WebhookId
) -> RedirectResponse:
    """Send again (also after lobu disabled it)."""
    try:
        await _subscriptions(request).resume(webhook_id)
    except WebhookNotFoundError:
        return _back("missing")
    return _back("resumed")


@router.post("/admin/webhooks/{webhook_id}/delete", response_class=RedirectResponse)
async def delete_webhook_from_the_page(
    request: Request, _caller: AdminPage, _form: CheckedForm, webhook_id: WebhookId
) -> RedirectResponse:
    """Remove the subscription; its unsent deliveries are cancelled."""
    try:
        await _subscriptions(request).delete(webhook_id)
    except WebhookNotFoundError:
        return _back("missing")
    return _back("deleted")


@router.post(
    "/admin/webhooks/{webhook_id}/rotate-secret", response_class=HTMLResponse, response_model=None
)
async def rotate_webhook_secret_from_the_page(
    request: Request, _caller: AdminPage, _form: CheckedForm, webhook_id: WebhookId
) -> HTMLResponse | RedirectResponse:
    """A new secret, shown once; the former one signs as well during the overlap."""
    subscriptions = _subscriptions(request)
    try:
        rotated = await subscriptions.rotate_secret(webhook_id)
        webhook = await subscriptions.get(webhook_id)
    except WebhookNotFoundError:
        return _back("missing")
    return render_page(
        request,
        "pages/webhook_secret.html",
        {"webhook": webhook, "secret": rotated.secret, "rotated": True},
        headers=NO_STORE,
    )
