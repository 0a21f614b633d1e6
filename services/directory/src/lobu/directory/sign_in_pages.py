"""The sign-in pages: ask for a link, follow it, sign out (German, no JavaScript).

`POST /anmelden` takes the form field `email` alone: no session and no CSRF value
(there is nothing to forge before one is signed in), and it answers every address
alike. `GET /anmelden/<secret>` is the mailed link: it sets the session cookie and
leads on (to `/mein-buendnis` or `/verwaltung`, or the page that asked for sign-in).
"""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.directory.pages import templates
from lobu.directory.sign_in import SignInRateLimitedError, SignInRefusedError, SignIns
from lobu.shared import ServiceRouter
from lobu.shared.web_sessions import (
    CheckedForm,
    PageSession,
    SignedInPage,
    clear_session_cookie,
    read_form,
    set_session_cookie,
)

router = ServiceRouter(include_in_schema=False)
MAX_EMAIL = 320
Secret = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _sign_ins(request: Request) -> SignIns:
    sign_ins: SignIns = request.app.state.sign_ins
    return sign_ins


@router.get("/anmelden", response_class=HTMLResponse)
async def sign_in_page(request: Request, weiter: str | None = None) -> HTMLResponse:
    """The form that asks for the address."""
    notice = "Sie sind abgemeldet." if request.query_params.get("abgemeldet") else None
    next_url = _sign_ins(request).safe_next(weiter)
    return templates.TemplateResponse(
        request, "sign_in.html", {"email": "", "error": None, "weiter": next_url, "notice": notice}
    )


@router.post("/anmelden", response_class=HTMLResponse)
async def request_sign_in_link(request: Request) -> HTMLResponse:
    """Send a link if the address is known; the same page for every address."""
    form = await read_form(request)
    email = str(form.get("email") or "").strip()[: MAX_EMAIL + 1]
    next_url = _sign_ins(request).safe_next(str(form.get("weiter") or "") or None)
    error = _email_error(email)
    if error:
        context = {"email": email, "error": error, "weiter": next_url, "notice": None}
        return templates.TemplateResponse(request, "sign_in.html", context, status_code=422)
    client = request.client.host if request.client else "unknown"
    try:
        await _sign_ins(request).request_link(email, client=client, next_url=next_url)
    except SignInRateLimitedError:
        context = {
            "email": email, "weiter": next_url, "notice": None,
            "error": "Es wurden in kurzer Zeit zu viele Anmeldelinks angefordert. "
            "Bitte warten Sie eine Stunde und versuchen Sie es dann noch einmal.",
        }  # fmt: skip
        return templates.TemplateResponse(request, "sign_in.html", context, status_code=429)
    minutes = request.app.state.sign_in_link_minutes
    return templates.TemplateResponse(request, "sign_in_sent.html", {"minutes": minutes})


@router.get("/anmelden/{secret}", response_class=HTMLResponse)
async def follow_sign_in_link(request: Request, secret: Secret) -> Response:
    """Use the mailed link once: set the session and go on."""
    try:
        signed_in = await _sign_ins(request).follow(secret)
    except SignInRefusedError:
        return templates.TemplateResponse(request, "sign_in_refused.html", {}, status_code=410)
    response = RedirectResponse(signed_in.next_url, status_code=303)
    set_session_cookie(
        response, signed_in.token, signed_in.session, secure=request.app.state.secure_cookies
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's secret stays here
    return response


@router.post("/abmelden", response_class=RedirectResponse)
async def sign_out(
    request: Request, _caller: SignedInPage, _form: CheckedForm, session: PageSession
) -> Response:
    """End the session: forget the cookie, record it."""
    await _sign_ins(request).sign_out(session)
    response = RedirectResponse("/anmelden?abgemeldet=1", status_code=303)
    clear_session_cookie(response, secure=request.app.state.secure_cookies)
    return response


def _email_error(email: str) -> str | None:
    if not email:
        return "Bitte geben Sie Ihre E-Mail-Adresse ein."
    if len(email) > MAX_EMAIL:
        return "Diese E-Mail-Adresse ist zu lang."
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de."
    return None
