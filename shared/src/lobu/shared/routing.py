"""Routes that authenticate before they read a body, and read at most a limited one.

FastAPI reads and parses a request's body before it runs any dependency, so an
anonymous caller could make every write route parse (and answer 422 for) a body of
any size before the bearer token was looked at. `GuardedRoute`, the route class of
`ServiceRouter`, checks the token (401/403) and the declared length (413) when the
route is chosen, before a byte of the body is received; FastAPI's own `max_body_size`
then counts the bytes while they stream in, whatever Content-Length said or when
there is none (chunked), and stops at the limit with 413. Parsed JSON bodies are
checked for text no database can store (see `lobu.shared.input_text`).
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from lobu.shared.auth import admin_caller, authenticate, required_caller
from lobu.shared.errors import RequestTooLargeError
from lobu.shared.idempotency import IDEMPOTENCY_HEADER, respond_idempotently
from lobu.shared.input_text import UnstorableTextError, json_text_problem
from lobu.shared.web_sessions import admin_page, coordinator_page, signed_in_page

MIB = 1024 * 1024
# JSON bodies of every write route; a route that takes files says more (max_body_size=).
DEFAULT_MAX_BODY_BYTES = 1 * MIB
_LONGEST_LENGTH = 18  # digits of a Content-Length that int() and a 64-bit server both take


def _calls(dependant: Dependant) -> set[Any]:
    found: set[Any] = set()
    for dependency in dependant.dependencies:
        found.add(dependency.call)
        found |= _calls(dependency)
    return found


def _page_check(calls: set[Any]) -> Callable[[Request], Any] | None:
    for dependency in (admin_page, coordinator_page, signed_in_page):
        if dependency in calls:
            return dependency
    return None


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "").strip()
    if not declared.isascii() or not declared.isdigit():
        return None  # absent or malformed: the byte count while streaming decides
    return int(declared) if len(declared) <= _LONGEST_LENGTH else 10**_LONGEST_LENGTH


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class GuardedRoute(APIRoute):
    """An APIRoute that authenticates first and limits its body (1 MiB unless given)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        max_body_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        limit = DEFAULT_MAX_BODY_BYTES if max_body_size is None else max_body_size
        super().__init__(path, endpoint, max_body_size=limit, **kwargs)
        calls = _calls(self.dependant)
        self.needs_admin = admin_caller in calls
        self.needs_caller = self.needs_admin or required_caller in calls
        # Pages: the session cookie (or a bearer token), checked before the body too.
        self.page_check = _page_check(calls)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Token and declared length first; then FastAPI reads, limits and parses the body."""
        if scope["type"] == "http" and scope["method"] in (self.methods or ()):
            request = Request(scope, receive)
            if self.needs_caller:
                authenticate(request, admin=self.needs_admin)
            if self.page_check is not None:
                self.page_check(request)
            declared = _declared_length(request)
            if self.max_body_size is not None and declared and declared > self.max_body_size:
                raise RequestTooLargeError.for_limit(self.max_body_size)
        await super().handle(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after a check of the JSON body's strings; POST honours
        Idempotency-Key (lobu.shared.idempotency)."""
        handler = super().get_route_handler()
        reads_body = self.body_field is not None
        idempotent = "POST" in (self.methods or ())
        if not reads_body and not idempotent:
            return handler

        async def checked(request: Request) -> Response:
            if reads_body and _is_json(request):
                await _refuse_unstorable_json(request)
            if idempotent and IDEMPOTENCY_HEADER in request.headers:
                store = request.app.state.runtime.idempotency
                return await respond_idempotently(request, handler, store)
            return await handler(request)

        return checked


async def _refuse_unstorable_json(request: Request) -> None:
    # Parsed once here; Starlette keeps the result, so FastAPI does not parse it again.
    try:
        document = await request.json()
    except json.JSONDecodeError:
        return  # FastAPI answers 422 json_invalid with the position
    except (ValueError, RecursionError) as error:
        # Not UTF-8, a number of more than 4300 digits (int()'s limit), or nested too deep.
        raise UnstorableTextError("body", f"is not usable JSON: {error}") from None
    problem = json_text_problem(document)
    if problem is not None:
        raise UnstorableTextError(*problem)


class ServiceRouter(APIRouter):
    """An APIRouter whose routes are GuardedRoutes: what every service's API uses."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", GuardedRoute)
        super().__init__(**kwargs)


def check_guarded(routers: list[APIRouter]) -> None:
    """Refuse a router whose routes take a body or a caller without being GuardedRoutes."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or isinstance(route, GuardedRoute):
                continue
            calls = _calls(route.dependant)
            if route.body_field is not None or required_caller in calls:
                raise TypeError(
                    f"route {route.path} reads a body or needs a caller, but is a plain "
                    "APIRoute: build its router with lobu.shared.ServiceRouter, so that it "
                    "authenticates before reading the body and limits the body's size"
                )
