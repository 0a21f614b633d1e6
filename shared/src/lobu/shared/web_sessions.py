"""Browser sessions for the pages of every service: a signed cookie, and CSRF checks.

The directory signs a person in (a one-time link by mail) and sets the cookie
`lobu_session`: HttpOnly, SameSite=Lax, Secure outside development. It holds a
short-lived JWT of the same kind as the API's bearer tokens (same issuer, audience,
roles and key), plus `typ=session`, the session id (`jti`), the CSRF value (`csrf`)
and the person's address. Cookies belong to a host, not a port, so every service on
that host receives it and verifies it with its own `TokenVerifier`: no call to the
directory, no shared session store.

Only pages read the cookie; the JSON APIs keep bearer tokens, so a cookie can never
authorise an API call that a foreign site triggers. Every form that changes something
carries the session's CSRF value in the field `csrf_token` and is refused without it
(`checked_form`); a form posted with a bearer token needs none (no browser attaches one
on its own). A page that needs a person sends an anonymous visitor to the sign-in page
and back; a person without the role sees a German 403 page.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData, UploadFile

from lobu.shared.auth import (
    Caller,
    InvalidTokenError,
    Role,
    TokenVerifier,
    authenticate,
    caller_of,
)
from lobu.shared.settings import ServiceSettings

SESSION_COOKIE = "lobu_session"
CSRF_FIELD = "csrf_token"
SESSION_TYPE = "session"
# Where a page remembers the session it verified, for the dependencies after it.
_SESSION_STATE = "lobu_browser_session"
_CHECKED = "lobu_page_checked"
_shared_templates = Environment(
    loader=PackageLoader("lobu.shared", "templates"), autoescape=select_autoescape(["html"])
)


@dataclass(frozen=True)
class BrowserSession:
    """A signed-in person, as the session cookie names them."""

    caller: Caller
    session_id: str
    csrf_token: str
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class PageLinks:
    """Where the services' pages are (settings `directory_url`, ...), for navigation."""

    directory: str
    surveys: str
    events: str
    notifications: str

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PageLinks:
        """The links a service's settings name."""
        return cls(
            directory=settings.directory_url.rstrip("/"),
            surveys=settings.surveys_url.rstrip("/"),
            events=settings.events_url.rstrip("/"),
            notifications=settings.notifications_url.rstrip("/"),
        )

    def sign_in(self, back_to: str | None = None) -> str:
        """The sign-in page, which leads back to `back_to` afterwards."""
        query = f"?{urlencode({'weiter': back_to})}" if back_to else ""
        return f"{self.directory}/anmelden{query}"


class SessionIssuer:
    """Signs session tokens with the key the services verify bearer tokens with."""

    def __init__(self, settings: ServiceSettings, *, private_key: str | None = None) -> None:
        self._algorithm = settings.jwt_algorithm
        key = private_key if self._algorithm == "RS256" else settings.jwt_secret
        if not key:
            raise ValueError(f"signing {self._algorithm} session tokens needs a private key")
        self._key = key
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer

    def issue(
        self,
        *,
        subject: str,
        role: Role,
        email: str,
        alliance_id: str | None,
        lifetime: timedelta,
        now: datetime | None = None,
    ) -> tuple[str, BrowserSession]:
        """A new session token, and the session it stands for."""
        issued = now or datetime.now(UTC)
        session = BrowserSession(
            caller=Caller(subject=subject, role=role, alliance_id=alliance_id),
            session_id=str(uuid.uuid4()),
            csrf_token=secrets.token_urlsafe(24),
            email=email,
            expires_at=issued + lifetime,
        )
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "role": role.value,
            "iat": issued,
            "exp": session.expires_at,
            "jti": session.session_id,
            "typ": SESSION_TYPE,
            "csrf": session.csrf_token,
            "email": email,
        }
        if alliance_id:
            claims["alliance_id"] = alliance_id
        return jwt.encode(claims, self._key, algorithm=self._algorithm), session


def read_session(verifier: TokenVerifier, token: str) -> BrowserSession:
    """The session a cookie's token names; InvalidTokenError for anything else."""
    claims = verifier.claims(token, require=("jti", "csrf", "typ"))
    if claims["typ"] != SESSION_TYPE:
        raise InvalidTokenError("not a session token")
    return BrowserSession(
        caller=caller_of(claims),
        session_id=str(claims["jti"]),
        csrf_token=str(claims["csrf"]),
        email=str(claims.get("email", "")),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


def set_session_cookie(
    response: Response, token: str, session: BrowserSession, *, secure: bool
) -> None:
    """Put the session on `response`: HttpOnly, SameSite=Lax, for the whole host."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=session.expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Tell the browser to forget the session."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


class SignInRequiredError(Exception):
    """A page needs a signed-in person and none is: to the sign-in page and back."""


class PageForbiddenError(Exception):
    """The person is signed in but may not see this page (403, in German)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FormRefusedError(Exception):
    """A form came without the session's CSRF value (403, in German)."""


def browser_session(request: Request) -> BrowserSession | None:
    """The session of the request's cookie; None without one or for an expired or forged one."""
    if hasattr(request.state, _SESSION_STATE):
        known: BrowserSession | None = getattr(request.state, _SESSION_STATE)
        return known
    session = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        verifier: TokenVerifier = request.app.state.token_verifier
        try:
            session = read_session(verifier, token)
        except InvalidTokenError:
            session = None  # expired or not ours: as if signed out
    setattr(request.state, _SESSION_STATE, session)
    return session


def page_caller(request: Request) -> Caller | None:
    """Who looks at a page: a bearer token (programs, tests) or else the session cookie."""
    if request.headers.get("Authorization"):
        return authenticate(request, admin=False)  # a bad token is a 401, as on the API
    session = browser_session(request)
    return session.caller if session else None


def authenticate_page(request: Request, *, admin: bool, coordinator: bool = False) -> Caller:
    """The page's person, or SignInRequiredError / PageForbiddenError."""
    caller = page_caller(request)
    if caller is None:
        raise SignInRequiredError
    if admin and not caller.is_admin:
        raise PageForbiddenError("Diese Seite ist den Mitarbeitenden des Servicebüros vorbehalten.")
    if coordinator and caller.role is not Role.ALLIANCE:
        raise PageForbiddenError(
            "Diese Seite ist für die Koordinatorinnen und Koordinatoren eines Bündnisses. "
            "Melden Sie sich mit der Adresse an, die Ihr Bündnis als Kontakt angegeben hat."
        )
    return caller


def signed_in_page(request: Request) -> Caller:
    """Dependency: any signed-in person."""
    return authenticate_page(request, admin=False)


def admin_page(request: Request) -> Caller:
    """Dependency: Servicebüro staff."""
    return authenticate_page(request, admin=True)


def coordinator_page(request: Request) -> Caller:
    """Dependency: an alliance's coordinator (the session names the alliance)."""
    return authenticate_page(request, coordinator=True, admin=False)


async def checked_form(request: Request) -> FormData:
    """Dependency of every form that changes something: the form, once its CSRF value is right.

    Declare it after the page's caller dependency. A form posted with a bearer token
    needs no CSRF value; one carried by the session cookie must send the session's.
    """
    form = await read_form(request)
    if request.headers.get("Authorization"):
        return form
    session = browser_session(request)
    sent = form.get(CSRF_FIELD)
    if session is None or not isinstance(sent, str):
        raise FormRefusedError
    if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise FormRefusedError
    return form


async def read_form(request: Request) -> FormData:
    """A page's urlencoded form (what browsers send without a file field), else empty.

    The route's body limit (1 MiB by default) has already bounded what is read.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        return FormData()
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: list[tuple[str, str | UploadFile]] = list(parse_qsl(body, keep_blank_values=True))
    return FormData(fields)


PageSession = Annotated[BrowserSession | None, Depends(browser_session)]
PageCaller = Annotated[Caller | None, Depends(page_caller)]
SignedInPage = Annotated[Caller, Depends(signed_in_page)]
AdminPage = Annotated[Caller, Depends(admin_page)]
CoordinatorPage = Annotated[Caller, Depends(coordinator_page)]
CheckedForm = Annotated[FormData, Depends(checked_form)]


def page_environment(package: str, settings: ServiceSettings | None = None) -> Environment:
    """A service's Jinja2 environment for pages: its own templates, then the shared ones
    (`lobu/session_nav.html`, `lobu/csrf_field.html`), autoescaped.

    The templates find `links` (PageLinks) and the session in what `session_context`
    gives; `settings`, when given, also makes `links` a global (for templates rendered
    without a request).
    """
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates"), _shared_templates.loader]),  # type: ignore[list-item]
        autoescape=select_autoescape(["html"]),
    )
    if settings is not None:
        environment.globals["links"] = PageLinks.from_settings(settings)
    environment.globals["csrf_field_name"] = CSRF_FIELD
    return environment


def page_templates(package: str, settings: ServiceSettings | None = None) -> Jinja2Templates:
    """`page_environment` as Jinja2Templates whose every response has `session_context`."""
    return Jinja2Templates(
        env=page_environment(package, settings), context_processors=[session_context]
    )


def session_context(request: Request) -> dict[str, Any]:
    """What every page template needs: the session (or None), its CSRF value, the links."""
    session = browser_session(request)
    return {
        "session": session,
        "csrf_token": session.csrf_token if session else "",
        "links": page_links(request),
    }


def page_links(request: Request) -> PageLinks:
    """The links of the app's settings (set by `install_page_handlers`)."""
    links: PageLinks = request.app.state.page_links
    return links


def _page(status: int, *, title: str, message: str, links: PageLinks, back: str) -> HTMLResponse:
    template = _shared_templates.get_template("lobu/page_refused.html")
    html = template.render(title=title, message=message, links=links, back=back)
    return HTMLResponse(html, status_code=status)


def install_page_handlers(app: FastAPI, settings: ServiceSettings) -> None:
    """Answer the page errors above: 303 to the sign-in page, or a German 403 page."""
    links = PageLinks.from_settings(settings)
    app.state.page_links = links

    async def on_sign_in_required(request: Request, _error: Exception) -> Response:
        back = str(request.url) if request.method == "GET" else None
        return RedirectResponse(links.sign_in(back), status_code=303)

    async def on_forbidden(request: Request, error: Exception) -> Response:
        detail = error.detail if isinstance(error, PageForbiddenError) else ""
        return _page(403, title="Kein Zugriff", message=detail, links=links, back=str(request.url))

    async def on_form_refused(request: Request, _error: Exception) -> Response:
        message = (
            "Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte laden Sie die "
            "Seite neu und senden Sie es noch einmal. Ihre Angaben wurden nicht gespeichert."
        )
        return _page(
            403, title="Formular abgelehnt", message=message, links=links, back=str(request.url)
        )

    app.add_exception_handler(SignInRequiredError, on_sign_in_required)
    app.add_exception_handler(PageForbiddenError, on_forbidden)
    app.add_exception_handler(FormRefusedError, on_form_refused)
